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


def rollback_stack(stack: str, to: str | None) -> int:
    """`./deploy.sh rollback STACK` for a kubernetes stack (ops.deploy.releases dispatches here)."""
    done = Releaser(stack).rollback(to)
    print(f"{stack}: rolled back to {done.tag} (was {done.previous})")
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # `rollback` is shared with VM-style environments: ops.deploy.releases adds it and dispatches.
    for stack in kubernetes_stacks():
        release = commands.add_parser(stack, help=f"release a version to the kubernetes stack {stack}")
        release.add_argument("--version", required=True, help="the image tag to release (never latest)")
        release.set_defaults(run=partial(_release, stack))
