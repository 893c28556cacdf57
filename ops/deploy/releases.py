"""Release commands for VM-style environments (local fleet, aws), through Ansible.

    ./deploy.sh ENV [--version V]       release V (default: the current code) to ENV
    ./deploy.sh rollback ENV [--to V]   every host back to the last known-good (or the named) release
    ./deploy.sh status ENV              what runs where: per host, the active slot, each slot, the worker
    ./deploy.sh history ENV             the audit log: who released what, when, how it went
    ./deploy.sh plan ENV [--version V]  hosts, batches, image and migrations, changing nothing
    ./deploy.sh lock ENV | unlock ENV   hold releases off / break a lock (audited)

A kubernetes stack given to `rollback` goes to ops.k8s_release (`./deploy.sh STACK --version TAG`
releases one).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeAlias

from ops import images
from ops.deploy import kubernetes
from ops.deploy.progress import say
from ops.errors import OpsError
from ops.k8s_release import is_kubernetes_stack
from ops.release import audit, fleet_view
from ops.release.lock import DEFAULT_TTL_SECONDS, DeployLock
from ops.release.plan import make_plan, parse_serial
from ops.release.runner import ReleaseOptions, Releaser
from ops.release.target import ReleaseTarget, resolve

RELEASE_COMMAND = "release"
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def default_version() -> str:
    """The current code's version: the project version and the short commit."""
    return f"{images.project_version()}-{images.git_commit()[:7]}"


def _add(
    commands: Subparsers, name: str, help_text: str, run: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("env", metavar="ENV", help="environment (a local fleet such as e2e, or an aws stack)")
    parser.set_defaults(run=run)
    return parser


def _release_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", help="the version to release (default: the project version and commit)")
    parser.add_argument("--serial", default="1", help="app hosts per batch: a count or a share like 50%% (default 1)")
    parser.add_argument(
        "--bake", type=int, default=20, metavar="SECONDS", help="gate window after each batch (default 20)"
    )


def add_parser(commands: Subparsers) -> None:
    release = _add(commands, RELEASE_COMMAND, "release a version to ENV: `./deploy.sh ENV [--version V]`", _release)
    _release_options(release)
    release.add_argument(
        "--from-image", default="", metavar="IMAGE", help="release this local image instead of building"
    )
    release.add_argument(
        "--ready-timeout", type=int, default=60, metavar="SECONDS", help="time a new slot gets to be ready"
    )
    release.add_argument("--keep", type=int, default=5, help="releases kept (never the current or last known-good)")
    rollback = _add(commands, "rollback", "return ENV to its last known-good (or the named) release", _rollback)
    rollback.add_argument("--to", metavar="VERSION", help="the kept release to go back to")
    _add(commands, "status", "what runs where: per app host, the active slot, each slot and the worker", _status)
    history = _add(commands, "history", "the audit log of releases, rollbacks and lock events", _history)
    history.add_argument("-n", "--last", type=int, default=20, help="how many records (default 20)")
    plan = _add(commands, "plan", "what a release would do (hosts, batches, image, migrations); changes nothing", _plan)
    _release_options(plan)
    lock = _add(commands, "lock", "hold releases of ENV off until `unlock` (or the expiry)", _lock)
    lock.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, metavar="SECONDS", help="expiry (default 1800)")
    lock.add_argument("--reason", default="held by hand", help="what the lock is for (shown to whoever is refused)")
    _add(commands, "unlock", "break ENV's deploy lock, whoever holds it (recorded in the audit log)", _unlock)


def _target(env: str) -> ReleaseTarget:
    if is_kubernetes_stack(env):
        raise OpsError(
            f"{env} is a kubernetes stack: this command is for local and aws environments",
            step="find the environment",
            fix=f"release it with `./deploy.sh {env} --version TAG`, roll it back with `./deploy.sh rollback {env}`",
        )
    return resolve(env)


def _release(args: argparse.Namespace) -> int:
    target = _target(args.env)
    parse_serial(args.serial)
    version = args.version or default_version()
    options = ReleaseOptions(
        serial=args.serial, bake_seconds=args.bake, ready_timeout=args.ready_timeout, keep=args.keep,
        from_image=args.from_image,
    )  # fmt: skip
    say(f"releasing {version} to {target.env} (batches of {args.serial}, gate {args.bake}s)")
    done = Releaser(target, say=say).release(version, options)
    say(f"{target.env}: released {done.version} (was {done.previous}) in {done.seconds:.0f}s")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    if is_kubernetes_stack(args.env):
        return kubernetes.rollback_stack(args.env, args.to)
    target = resolve(args.env)
    done = Releaser(target, say=say).rollback(args.to)
    say(f"{target.env}: rolled back to {done.version} (was {done.previous}) in {done.seconds:.0f}s")
    return 0


def _status(args: argparse.Namespace) -> int:
    target = _target(args.env)
    releaser = Releaser(target)
    history = releaser.history()
    views = fleet_view.read(target)
    versions = {release.image: release.version for release in history.releases}
    say(fleet_view.render(views, versions))
    good = history.last_known_good()
    say(f"current: {history.current or '-'}; last known good: {good.version if good else '-'}")
    held = DeployLock(target.lock_file, target.env).read()
    say(f"lock: {held.describe(time.time()) if held else 'free'}")
    return 0


def _history(args: argparse.Namespace) -> int:
    target = _target(args.env)
    say(audit.render(audit.AuditLog(target.audit_file).records(last=args.last)))
    kept = Releaser(target).history()
    if kept.releases:
        marks = [
            f"{release.version}{' (current)' if release.version == kept.current else ''}"
            f"{' good' if release.known_good else ''}{' BAD' if release.bad_reason else ''}"
            for release in kept.releases
        ]
        say("kept: " + ", ".join(marks))
    return 0


def _plan(args: argparse.Namespace) -> int:
    target = _target(args.env)
    version = args.version or default_version()
    state = target.fleet_state()
    registry = f"{state.registry_address}:5000/" if state else ""
    image = f"{registry}{images.APP_REPOSITORY}:{version}-{images.git_commit()}"
    views = fleet_view.read(target)
    say(
        make_plan(
            target.env,
            version=version,
            image=image,
            views=views,
            hosts=target.app_hosts(),
            serial=args.serial,
            bake=args.bake,
        ).render()
    )
    return 0


def _lock(args: argparse.Namespace) -> int:
    target = _target(args.env)
    Releaser(target, say=say).take_lock(args.reason, args.ttl)
    say(f"{target.env}: locked for {args.ttl}s ({args.reason}); `./deploy.sh unlock {target.env}` releases it")
    return 0


def _unlock(args: argparse.Namespace) -> int:
    target = _target(args.env)
    say(Releaser(target).break_lock())
    return 0
