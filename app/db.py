"""The async engine and session factory (SQLAlchemy 2 + asyncpg)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from app.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_connect_timeout_seconds,
        pool_pre_ping=True,  # a restarted PostgreSQL leaves dead sockets in the pool
        pool_recycle=1800,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": settings.db_statement_timeout_ms / 1000,
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "slipway-api",
            },
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)
