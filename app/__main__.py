"""The image's commands: serve, worker, migrate, create-key, revoke-key."""

from __future__ import annotations

import argparse
import asyncio
import sys

from pydantic import ValidationError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Slipway reference API")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP API on $PORT")
    commands.add_parser("worker", help="run the video processing worker")
    commands.add_parser("migrate", help="apply database migrations (expand-only, safe while serving)")
    create = commands.add_parser("create-key", help="create an API key and print it once")
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument(
        "--tenant", default="default", help="the owner whose projects the key reaches (default: default)"
    )
    create.add_argument(
        "--scopes",
        default="read,write,admin",
        help="comma-separated, some of read (GET), write (create), admin (delete); default: all",
    )
    revoke = commands.add_parser("revoke-key", help="revoke an API key by id")
    revoke.add_argument("key_id", type=int)
    return parser


async def _with_session(action: str, **kwargs: object) -> int:
    from app import apikeys  # noqa: PLC0415 - keep `serve` start-up free of CLI-only imports
    from app.db import create_engine, create_sessionmaker  # noqa: PLC0415
    from app.redis_client import create_redis  # noqa: PLC0415
    from app.settings import get_settings  # noqa: PLC0415

    settings = get_settings()
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            if action == "create-key":
                scopes = tuple(scope.strip() for scope in str(kwargs["scopes"]).split(",") if scope.strip())
                try:
                    new = await apikeys.create_key(
                        session,
                        str(kwargs["name"]),
                        settings.secret_key.get_secret_value(),
                        tenant=str(kwargs["tenant"]),
                        scopes=scopes,
                    )
                except ValueError as exc:
                    print(f"create-key: {exc}", file=sys.stderr)
                    return 2
                print(f"id: {new.id}\nkey: {new.key}")
                return 0
            key_id = int(str(kwargs["key_id"]))
            revoked = await apikeys.revoke_key(session, key_id)
            await session.commit()
            if not revoked:
                print(f"no active key with id {key_id}")
                return 1
            redis = create_redis(settings)
            try:
                announced = await apikeys.announce_revocation(redis, key_id)
            finally:
                await redis.aclose()
            seconds = settings.api_key_cache_seconds
            print("revoked" if announced else f"revoked (Redis unreachable: effective within {seconds:g} s)")
            return 0
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from app.settings import get_settings  # noqa: PLC0415

    try:
        settings = get_settings()
    except ValidationError as exc:
        fields = ", ".join(str(err["loc"][0]).upper() for err in exc.errors() if err["loc"]) or "settings"
        print(f"configuration error ({fields}):", file=sys.stderr)
        for err in exc.errors():
            print(f"  {'.'.join(map(str, err['loc'])).upper() or 'settings'}: {err['msg']}", file=sys.stderr)
        return 2

    if args.command == "serve":
        from app.server import serve  # noqa: PLC0415

        serve(settings)
    elif args.command == "worker":
        from app.worker import run_worker  # noqa: PLC0415

        run_worker(settings)
    elif args.command == "migrate":
        from app.migrate import upgrade  # noqa: PLC0415

        upgrade(settings)
    else:
        return asyncio.run(
            _with_session(
                args.command,
                name=getattr(args, "name", None),
                tenant=getattr(args, "tenant", None),
                scopes=getattr(args, "scopes", None),
                key_id=getattr(args, "key_id", None),
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
