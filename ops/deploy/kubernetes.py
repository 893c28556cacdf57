"""Releases on kubernetes stacks through deploy.sh (the work itself is ops.k8s_release).

    ./deploy.sh STACK --version TAG       set the image tag, `pulumi up`, wait for the rollout
    ./deploy.sh rollback STACK [--to TAG] the same with the previous (or a named) release

STACK is any `Pulumi.STACK.yaml` whose platform is kubernetes. A failed release puts the previous
tag back and applies it before reporting, so the cluster is never left half-released.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from ops.k8s_release import Releaser, is_kubernetes_stack
from ops.pulumi_cli import REPOSITORY


def kubernetes_stacks(root: Path = REPOSITORY) -> list[str]:
    names = (path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in root.glob("Pulumi.*.yaml"))
    return sorted(name for name in names if is_kubernetes_stack(name, root))


def _release(stack: str, args: argparse.Namespace) -> int:
    done = Releaser(stack).release(args.version)
    print(f"{stack}: released {done.tag} (was {done.previous or 'the default'})")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    done = Releaser(args.stack).rollback(args.to)
    print(f"{args.stack}: rolled back to {done.tag} (was {done.previous})")
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for stack in kubernetes_stacks():
        release = commands.add_parser(stack, help=f"release a version to the kubernetes stack {stack}")
        release.add_argument("--version", required=True, help="the image tag to release (never latest)")
        release.set_defaults(run=partial(_release, stack))
    rollback = commands.add_parser("rollback", help="return a kubernetes stack to its previous (or a named) release")
    rollback.add_argument("stack", help="a kubernetes stack, e.g. k8s-dev")
    rollback.add_argument("--to", help="the tag to go back to (default: the previous good release)")
    rollback.set_defaults(run=_rollback)
