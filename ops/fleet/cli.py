"""`python -m ops.fleet up|down|status --env NAME`."""

from __future__ import annotations

import argparse
import subprocess
import sys

from ops.errors import OpsError
from ops.fleet import lifecycle, model
from ops.fleet.ssh import ssh_command, ssh_login
from ops.fleet.state import EnvPaths, FleetState


def _progress(message: str) -> None:
    print(f"==> {message}", flush=True)


def _print_status(env: str) -> int:
    state, rows = lifecycle.status(env)
    if state is None:
        print(f"fleet {env}: absent (no state in {EnvPaths.for_env(env).root})")
        return 1
    print(f"fleet {env}: network {state.network} {state.subnet}")
    for row in rows:
        print(f"  {row.name:<6} {row.address:<15} ssh 127.0.0.1:{row.ssh_port:<6} {row.state}")
    registry = f"{state.registry_address}:{model.REGISTRY_PORT}"
    print(f"  registry {registry} (operator: 127.0.0.1:{state.registry_port})")
    print(f"  url https://127.0.0.1:{state.https_port} (http on 127.0.0.1:{state.http_port})")
    print(f"  inventory {EnvPaths.for_env(env).inventory_file}")
    return 0 if all(row.state.startswith("running") for row in rows) else 1


def _ssh(env: str, host: str, command: list[str]) -> int:
    paths = EnvPaths.for_env(env)
    state = FleetState.load(paths)
    if state is None or host not in state.hosts:
        known = ", ".join(sorted(state.hosts)) if state else "none (the fleet is not up)"
        print(f"error: no host {host!r} in environment {env}; hosts: {known}", file=sys.stderr)
        return 1
    argv = ssh_command(paths, state, host, command) if command else [*ssh_login(paths, state, host), "-t"]
    return subprocess.run(argv, check=False).returncode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops.fleet", description="The local fleet of Debian hosts.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    env_help = "environment name, e.g. local, e2e"
    commands.add_parser("up", help="create or complete the fleet").add_argument("--env", required=True, help=env_help)
    down = commands.add_parser("down", help="remove containers, volumes and network")
    down.add_argument("--env", required=True, help=env_help)
    down.add_argument("--purge", action="store_true", help="also delete .slipway/<env>/ (keys, secrets, CA)")
    commands.add_parser("status", help="hosts and ports").add_argument("--env", required=True, help=env_help)
    ssh = commands.add_parser("ssh", help="log in to a host, or run a command there as root")
    ssh.add_argument("--env", required=True, help=env_help)
    ssh.add_argument("host", help="lb, app1, app2, db, cache or mon")
    ssh.add_argument("remote", nargs=argparse.REMAINDER, help="a command to run as root instead of a shell")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "up":
            lifecycle.up(args.env, progress=_progress)
            return _print_status(args.env)
        if args.command == "down":
            lifecycle.down(args.env, purge_state=args.purge, progress=_progress)
            print(f"fleet {args.env}: removed")
            return 0
        if args.command == "ssh":
            return _ssh(args.env, args.host, args.remote)
        return _print_status(args.env)
    except OpsError as error:
        print(error.render(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
