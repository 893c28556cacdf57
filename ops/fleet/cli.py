"""`python -m ops.fleet up|down|status --env NAME`."""

from __future__ import annotations

import argparse
import sys

from ops.errors import OpsError
from ops.fleet import lifecycle, model
from ops.fleet.state import EnvPaths


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.fleet", description="The local fleet of Debian hosts."
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--env", required=True, help="environment name, e.g. local, e2e")
    parser.add_argument(
        "--purge", action="store_true", help="down: also delete .slipway/<env>/ (keys, secrets)"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            lifecycle.up(args.env, progress=_progress)
            return _print_status(args.env)
        if args.command == "down":
            lifecycle.down(args.env, purge_state=args.purge, progress=_progress)
            print(f"fleet {args.env}: removed")
            return 0
        return _print_status(args.env)
    except OpsError as error:
        print(error.render(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
