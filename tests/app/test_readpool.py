"""The raw read pool against the real PostgreSQL: bounded waits, and recovery from a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from app.db import create_engine
from app.readpool import ReadPool
from app.settings import Settings
from ops.localservices import Postgres


@pytest.fixture
async def one_connection(settings_factory: Callable[..., Settings]) -> AsyncIterator[ReadPool]:
    settings = settings_factory(db_read_pool_size=1, db_pool_timeout_seconds=0.3)
    engine = create_engine(settings)
    reads = ReadPool(settings, engine)
    await reads.start()
    yield reads
    await reads.close()
    await engine.dispose()


async def test_reads_wait_in_line_then_time_out(one_connection: ReadPool) -> None:
    slow = asyncio.create_task(one_connection.fetchrow("SELECT pg_sleep(1)"))
    await asyncio.sleep(0.1)  # the slow read holds the only connection
    assert one_connection.checked_out == 1
    with pytest.raises(TimeoutError):  # an OSError: the API answers it with a 503
        await one_connection.fetchrow("SELECT 1")
    await slow
    row = await one_connection.fetchrow("SELECT $1::int", 7)
    assert row is not None
    assert row[0] == 7
    assert one_connection.checked_out == 0


async def test_connections_killed_by_a_restart_are_replaced(one_connection: ReadPool, migrated: Postgres) -> None:
    assert await one_connection.fetchrow("SELECT 1") is not None
    migrated.stop()
    migrated.start()
    row = await one_connection.fetchrow("SELECT 2")
    assert row is not None
    assert row[0] == 2
