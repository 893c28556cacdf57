"""Argument parsing for `./deploy.sh`; each command module adds its own subparser."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ops.deploy import check, local, releases
from ops.errors import OpsError

# Modules that add a subcommand: `add_parser(commands)` sets `run` as the parser's default.
COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    check.add_parser,
    local.add_parser,
    releases.add_parser,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deploy.sh",
        description="Slipway: provision, deploy and release the API.",
        epilog="Run `./deploy.sh COMMAND --help` for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(commands)
    return parser


def with_release_command(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """`./deploy.sh ENV ...` is short for `./deploy.sh release ENV ...` when ENV is no command."""
    if not argv or argv[0].startswith("-"):
        return argv
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction)).choices
    return argv if argv[0] in commands else [releases.RELEASE_COMMAND, *argv]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(with_release_command(sys.argv[1:] if argv is None else argv, parser))
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except OpsError as error:
        print("", file=sys.stderr)
        print(error.render(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to resume", file=sys.stderr)
        return 130
