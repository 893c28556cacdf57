"""Alembic environment: async engine, and a PostgreSQL advisory lock so concurrent runs serialize."""

from __future__ import annotations

import asyncio

from alembic import context
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import Base

MIGRATION_LOCK_ID = 0x5113_7A1  # arbitrary, constant: one lock for Slipway migrations


def _run(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    try:
        context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def current_revision(url: str) -> str | None:
    async def read() -> str | None:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
        finally:
            await engine.dispose()

    return asyncio.run(read())


if context.config.attributes.get("database_url"):
    asyncio.run(_run_async(context.config.attributes["database_url"]))
