"""Raw asyncpg connections for the hottest reads: one statement, one row, no ORM.

The list endpoints' pages are built as JSON text by PostgreSQL, so the API only has to pass a
string through. Through SQLAlchemy that pass-through still costs about three times the CPU of
the driver call itself (execution context, result wrapping, greenlet hops), more than
PostgreSQL spends on the page; this pool calls asyncpg directly for those statements. Writes and
everything else stay on the SQLAlchemy engine.

Connections are handed out first come, first served: asyncio queues let a newly arrived request
take a connection that was just freed for a request already waiting, which sends the waiter to
the back of the line and, under load, turns into tail latencies of hundreds of milliseconds. A
semaphore (FIFO since Python 3.11) in front of the pool keeps the order.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import connect_args
from app.settings import Settings

# The pooled connection was dead (PostgreSQL restarted or closed it while idle).
RETRYABLE = (asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.InterfaceError, ConnectionError)


class ReadPool:
    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        url = make_url(settings.database_url.get_secret_value())
        # The engine's dialect turns the URL (host, credentials, ?ssl=...) into asyncpg arguments,
        # so both pools connect exactly alike.
        _, url_args = engine.dialect.create_connect_args(url)
        self._connect_args = {**url_args, **connect_args(settings)}
        self.size = settings.db_read_pool_size
        self._pool: asyncpg.Pool | None = None
        self._gate = asyncio.Semaphore(self.size)
        self._wait_timeout = settings.db_pool_timeout_seconds
        self.checked_out = 0

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(
            **self._connect_args,
            min_size=0,  # connect on demand: the API starts (and answers 503) while PostgreSQL is down
            max_size=self.size,
            reset=self._no_reset,
            max_inactive_connection_lifetime=300,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        """Run one read-only statement; a dead connection is replaced and the statement run again."""
        async with asyncio.timeout(self._wait_timeout):
            await self._gate.acquire()
        self.checked_out += 1
        try:
            try:
                return await self._fetchrow(sql, args)
            except RETRYABLE:
                # PostgreSQL restarted or dropped us: every pooled connection is likely dead, so
                # replace them all rather than fail on each in turn. Reads are safe to repeat.
                await self._started.expire_connections()
                return await self._fetchrow(sql, args)
        finally:
            self.checked_out -= 1
            self._gate.release()

    @property
    def _started(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("ReadPool.start() was not awaited (the app's lifespan does it)")
        return self._pool

    async def _fetchrow(self, sql: str, args: tuple[Any, ...]) -> asyncpg.Record | None:
        async with self._started.acquire() as connection:
            return await connection.fetchrow(sql, *args)

    @staticmethod
    async def _no_reset(_: asyncpg.Connection) -> None:
        """Only single read statements run here, which leave no session state to reset.

        asyncpg's default reset (RESET ALL, UNLISTEN, CLOSE ALL, advisory unlocks) is a round trip
        per release, about as costly as the page itself.
        """
