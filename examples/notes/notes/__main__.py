"""The image's commands: `serve` (the HTTP API on $PORT) and `migrate` (create the table)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from notes.settings import SettingsError, from_environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notes", description="Notes: a small JSON API")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP API on $PORT (default 9000)")
    commands.add_parser("migrate", help="create the notes table (idempotent, expand-only)")
    args = parser.parse_args(argv)
    try:
        settings = from_environment()
    except SettingsError as exc:
        print(f"notes: {exc}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        from notes import db  # noqa: PLC0415 - only this command needs it here

        asyncio.run(db.migrate(settings.dsn))
        print("notes: migrated")
        return 0
    from notes.server import serve  # noqa: PLC0415 - keep `migrate` free of the server's imports

    serve(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
