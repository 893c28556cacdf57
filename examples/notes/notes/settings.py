"""Settings, read only from the environment (the image holds none, and never a secret)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass


class SettingsError(ValueError):
    """A variable that is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    token: str
    port: int = 9000
    host: str = "0.0.0.0"  # noqa: S104 - inside a container, published or proxied by the platform
    pool_size: int = 10
    # Seconds readiness reports 503 while still serving, so the balancer moves traffic away first.
    drain_seconds: float = 2.0
    # Seconds in-flight requests get to finish once the listener is closed.
    grace_seconds: float = 10.0
    forwarded_allow_ips: str = "127.0.0.1"
    log_level: str = "INFO"

    @property
    def dsn(self) -> str:
        # asyncpg speaks only postgresql://; a SQLAlchemy-style scheme names the same database.
        return re.sub(r"^postgres(ql)?(\+asyncpg)?://", "postgresql://", self.database_url)


def _number(env: Mapping[str, str], name: str, default: float, kind: type[int] | type[float]) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a {'whole ' if kind is int else ''}number") from None
    if not 0 <= value < math.inf:  # also refuses nan
        raise SettingsError(f"{name}={raw!r} must be a number from 0 up")
    return value


def from_environment(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    missing = [name for name in ("NOTES_DATABASE_URL", "NOTES_TOKEN") if not env.get(name)]
    if missing:
        raise SettingsError(f"set {' and '.join(missing)} in the environment")
    if len(env["NOTES_TOKEN"]) < 16:
        raise SettingsError("NOTES_TOKEN is too short: use at least 16 characters")
    return Settings(
        database_url=env["NOTES_DATABASE_URL"],
        token=env["NOTES_TOKEN"],
        port=int(_number(env, "PORT", 9000, int)),
        host=env.get("NOTES_HOST") or "0.0.0.0",  # noqa: S104 - as above
        pool_size=max(1, int(_number(env, "NOTES_POOL_SIZE", 10, int))),
        drain_seconds=_number(env, "NOTES_DRAIN_SECONDS", 2.0, float),
        grace_seconds=_number(env, "NOTES_GRACE_SECONDS", 10.0, float),
        forwarded_allow_ips=env.get("NOTES_FORWARDED_ALLOW_IPS") or "127.0.0.1",
        log_level=(env.get("NOTES_LOG_LEVEL") or "INFO").upper(),
    )
