"""Release commands for every environment: VM-style ones (local fleet, aws, any inventory of
hosts) through Ansible, kubernetes stacks through Pulumi and kubectl, with one engine.

    ./deploy.sh ENV [--version V]       release V (default: the current code) to ENV; a local
                                        fleet that does not exist yet is stood up first
    ./deploy.sh rollback ENV [--to V]   every host back to the last known-good (or the named) release
    ./deploy.sh status ENV              what runs where, and where it differs from the journal
    ./deploy.sh ENV --canary [5,25,50]  release V as a canary: a growing share of the requests,
                                        judged against the old version at each step
    ./deploy.sh pause ENV               hold a running canary at its step
    ./deploy.sh resume ENV | abort ENV  finish / undo a release whose controller stopped (or a
                                        paused canary); `promote ENV` is resume
    ./deploy.sh history ENV             the audit log: who released what, when, how it went
    ./deploy.sh plan ENV [--version V]  hosts, batches, image and migrations, changing nothing
    ./deploy.sh lock ENV | unlock ENV   hold releases off / break a lock (audited)

A kubernetes stack needs an explicit `--version TAG` (an image in its registry); `plan` and
`--from-image` are for VM-style environments.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeAlias

from ops import images
from ops.deploy import local
from ops.deploy.progress import say
from ops.errors import OpsError
from ops.release import audit, fleet_view
from ops.release.engine import (
    DEFAULT_CANARY_STEPS,
    DEFAULT_STEP_SECONDS,
    Outcome,
    ReleaseOptions,
    Releaser,
    parse_canary_steps,
)
from ops.release.environments import is_kubernetes_stack, open_releaser
from ops.release.image import check_version
from ops.release.lock import DEFAULT_TTL_SECONDS
from ops.release.plan import make_plan, parse_serial
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
    parser.add_argument("env", metavar="ENV", help="environment (a local fleet such as local or e2e, or an aws stack)")
    parser.set_defaults(run=run)
    return parser


def _release_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", help="the version to release (default: the project version and commit)")
    parser.add_argument("--serial", default="1", help="app hosts per batch: a count or a share like 50%% (default 1)")
    parser.add_argument(
        "--bake", type=int, default=20, metavar="SECONDS", help="gate window after each batch (default 20)"
    )


def _lease_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lease", type=float, default=DEFAULT_TTL_SECONDS, metavar="SECONDS",
        help=f"the deploy lock's lease, renewed while the command runs (default {DEFAULT_TTL_SECONDS:.0f})",
    )  # fmt: skip


def add_parser(commands: Subparsers) -> None:
    release = _add(commands, RELEASE_COMMAND, "release a version to ENV: `./deploy.sh ENV [--version V]`", _release)
    _release_options(release)
    _lease_option(release)
    release.add_argument(
        "--from-image", default="", metavar="IMAGE", help="release this local image instead of building"
    )
    release.add_argument(
        "--ready-timeout", type=int, default=60, metavar="SECONDS", help="time a new slot gets to be ready"
    )
    release.add_argument("--keep", type=int, default=5, help="releases kept (never the current or last known-good)")
    default_steps = ",".join(map(str, DEFAULT_CANARY_STEPS))
    release.add_argument(
        "--canary", nargs="?", const=default_steps, metavar="STEPS",
        help=f"a canary instead of host batches: the percentages of requests the new version gets, step by step "
        f"(default {default_steps}), each judged against the old version",
    )  # fmt: skip
    release.add_argument(
        "--config-only", action="store_true",
        help="ship the app environment as the inventory describes it now, with the running image, as a release "
        "(default version: the running one with -config-TIME)",
    )  # fmt: skip
    release.add_argument(
        "--step-seconds",
        type=int,
        default=DEFAULT_STEP_SECONDS,
        metavar="SECONDS",
        help=f"bake of each canary step (default {DEFAULT_STEP_SECONDS})",
    )
    rollback = _add(commands, "rollback", "return ENV to its last known-good (or the named) release", _rollback)
    rollback.add_argument("--to", metavar="VERSION", help="the kept release to go back to")
    _lease_option(rollback)
    _add(commands, "status", "what runs where, the lock, and where the hosts differ from the journal", _status)
    for name, what in (("resume", "finish"), ("promote", "finish"), ("abort", "undo")):
        journal = _add(commands, name, f"{what} the release of ENV whose controller stopped or whose canary paused "
                       "(from its journal)", _from_journal)  # fmt: skip
        _lease_option(journal)
    history = _add(commands, "history", "the audit log of releases, rollbacks and lock events", _history)
    history.add_argument("-n", "--last", type=int, default=20, help="how many records (default 20)")
    plan = _add(commands, "plan", "what a release would do (hosts, batches, image, migrations); changes nothing", _plan)
    _release_options(plan)
    lock = _add(commands, "lock", "hold releases of ENV off until `unlock` (or the expiry)", _lock)
    lock.add_argument("--ttl", type=int, default=1800, metavar="SECONDS", help="expiry (default 1800)")
    lock.add_argument("--reason", default="held by hand", help="what the lock is for (shown to whoever is refused)")
    _add(commands, "pause", "hold ENV's running canary at its step (then `promote` or `abort`)", _pause)
    _add(commands, "unlock", "break ENV's deploy lock, whoever holds it (recorded in the audit log)", _unlock)


def _hosts_target(env: str) -> ReleaseTarget:
    if is_kubernetes_stack(env):
        raise OpsError(
            f"{env} is a kubernetes stack: `plan` is for environments of hosts (local, aws, your own)",
            step="find the environment",
            fix=f"`pulumi preview --stack {env}` shows what a `pulumi up` would change",
        )
    return resolve(env)


def _release(args: argparse.Namespace) -> int:
    parse_serial(args.serial)
    if args.version is not None:
        check_version(args.version)
    if local.needs_provisioning(args.env):
        say(f"{args.env} is a local fleet that is not serving yet: standing it up first (`./deploy.sh up`)")
        deployed = local.deploy(args.env)
        if args.version is None or args.version == deployed.image.version:
            return 0
    if is_kubernetes_stack(args.env) and (args.version is None or args.from_image):
        raise OpsError(
            f"{args.env} is a kubernetes stack: name the image tag to release"
            + (" (--from-image is for local fleets)" if args.from_image else ""),
            step="read the options",
            fix=f"`./deploy.sh {args.env} --version TAG` with TAG pushed to the stack's registry",
        )
    canary = parse_canary_steps(args.canary) if args.canary is not None else ()
    if args.step_seconds < 1:
        raise OpsError("--step-seconds must be at least 1", step="read the options", fix="e.g. --step-seconds 30")
    if args.config_only and args.from_image:
        raise OpsError("--config-only ships the running image: drop --from-image", step="read the options",
                       fix=f"`./deploy.sh {args.env} --config-only`")  # fmt: skip
    releaser = open_releaser(args.env, say=say)
    version = check_version(args.version or (_config_version(releaser) if args.config_only else default_version()))
    options = ReleaseOptions(
        serial=args.serial, bake_seconds=args.bake, ready_timeout=args.ready_timeout, keep=args.keep,
        from_image=args.from_image, lease_seconds=args.lease, canary=canary, step_seconds=args.step_seconds,
        config_only=args.config_only,
    )  # fmt: skip
    how = (
        f"canary {' -> '.join(f'{step}%' for step in canary)}, {args.step_seconds}s each"
        if canary
        else f"batches of {args.serial}, gate {args.bake}s"
    )
    say(f"releasing {version} to {args.env} ({how})")
    done = releaser.release(version, options)
    say(f"{args.env}: released {done.version} (was {done.previous}) in {done.seconds:.0f}s")
    return 0


def _config_version(releaser: Releaser) -> str:
    """`<running version>-config-<MMDDHHMM>`: a config-only release is a version of its own."""
    running = releaser.history().current or "release"
    return f"{running.split('-config-')[0]}-config-{time.strftime('%m%d%H%M%S')}"[:64]


def _report(env: str, action: str, done: Outcome) -> int:
    if done.missed:
        say(f"{env}: {action} incomplete: {', '.join(done.missed)} not reached; "
            f"`./deploy.sh resume {env}` finishes them once they are back")  # fmt: skip
        return 1
    if done.result != "nothing to do":
        say(f"{env}: {action} done: every app host on {done.version} ({done.seconds:.0f}s)")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    done = open_releaser(args.env, say=say).rollback(args.to, lease_seconds=args.lease)
    return _report(args.env, "rollback", done)


def _from_journal(args: argparse.Namespace) -> int:
    releaser = open_releaser(args.env, say=say)
    if args.command in ("resume", "promote"):
        return _report(args.env, args.command, releaser.resume(lease_seconds=args.lease))
    return _report(args.env, "abort", releaser.abort(lease_seconds=args.lease))


def _status(args: argparse.Namespace) -> int:
    releaser = open_releaser(args.env)
    snapshot = releaser.snapshot()
    versions = {release.image: release.version for release in snapshot.history.releases}
    if is_kubernetes_stack(args.env):
        running, unreachable = releaser.driver.read()
        for host, image in sorted(running.items()):
            say(f"{host}: {versions.get(image, fleet_view.version_of(image))} ({image})")
    else:
        views, unreachable = fleet_view.read_reachable(resolve(args.env))
        say(fleet_view.render(views, versions))
        running = {host: view.active_image for host, view in views.items()}
    for host in unreachable:
        say(f"{host:8}  unreachable")
    good = snapshot.history.last_known_good()
    say(f"current: {snapshot.history.current or '-'}; last known good: {good.version if good else '-'}")
    held = snapshot.lock
    say(f"lock: {held.describe(snapshot.now) if held else 'free'}")
    journal = snapshot.journal
    if journal is None:
        return 0
    differences = journal.differences(running, unreachable)
    state = "finished" if journal.finished else f"UNFINISHED (phase {journal.phase})"
    say(f"journal: {journal.action} {journal.from_version} -> {journal.to_version} by {journal.holder}, {state}")
    for line in differences:
        say(f"  differs: {line}")
    if differences or not journal.finished:
        running_now = held is not None and not held.stale(snapshot.now)
        say("  a command is working on it now (the lock is held)" if running_now else
            f"  `./deploy.sh resume {args.env}` finishes it, `./deploy.sh abort {args.env}` undoes it")  # fmt: skip
        return 3
    return 0


def _pause(args: argparse.Namespace) -> int:
    say(open_releaser(args.env).request_pause())
    return 0


def _history(args: argparse.Namespace) -> int:
    snapshot = open_releaser(args.env).snapshot(last_audit=args.last)
    say(audit.render(snapshot.audit))
    kept = snapshot.history
    if kept.releases:
        marks = [
            f"{release.version}{' (current)' if release.version == kept.current else ''}"
            f"{' good' if release.known_good else ''}{' BAD' if release.bad_reason else ''}"
            for release in kept.releases
        ]
        say("kept: " + ", ".join(marks))
    return 0


def _plan(args: argparse.Namespace) -> int:
    target = _hosts_target(args.env)
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
    open_releaser(args.env, say=say).hold(args.reason, args.ttl)
    say(f"{args.env}: locked for {args.ttl}s ({args.reason}); `./deploy.sh unlock {args.env}` releases it")
    return 0


def _unlock(args: argparse.Namespace) -> int:
    say(open_releaser(args.env).break_lock())
    return 0
