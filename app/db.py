"""The async engine and session factory (SQLAlchemy 2 + asyncpg)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from app.settings import Settings

# A connection back from the pool within this many seconds of its last use is trusted as is;
# an older one is pinged first, since PostgreSQL may have restarted meanwhile.
IDLE_PING_SECONDS = 1.0
LAST_USED = "slipway_last_used"


def connect_args(settings: Settings) -> dict[str, Any]:
    """asyncpg.connect() arguments shared by the engine's pool and the read pool."""
    return {
        "timeout": settings.db_connect_timeout_seconds,
        "command_timeout": settings.db_statement_timeout_ms / 1000,
        "server_settings": {
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "application_name": "slipway-api",
        },
    }


def create_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=1800,
        connect_args=connect_args(settings),
    )
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling, paid only by idle connections.

    `pool_pre_ping` would ping on every checkout: a round trip that costs about as much CPU as
    the page it precedes. Under load connections are never idle, so pinging only those unused for
    IDLE_PING_SECONDS keeps the protection (a PostgreSQL restart is never served to a client as a
    dead socket) at no cost on the hot path. Raising DisconnectionError makes the pool discard the
    connection and hand out a fresh one.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _: PoolProxiedConnection) -> None:
        if time.monotonic() - record.info.get(LAST_USED, 0.0) < IDLE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("idle connection failed its ping") from exc

    @event.listens_for(pool, "checkin")
    def remember_use(_: Any, record: ConnectionPoolEntry) -> None:
        record.info[LAST_USED] = time.monotonic()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)
