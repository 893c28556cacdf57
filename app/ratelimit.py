"""Per-API-key rate limits: fixed one-minute windows whose counters live in Redis.

A Redis round trip per request would cost more CPU than the cheapest endpoints themselves, so
each process counts locally and a background task adds its counts to the shared Redis counters
every `flush_seconds` (one pipelined script call per flush), reading back the fleet-wide totals.
A request is refused when the last known fleet-wide total plus this process's unflushed count
passes the limit: exact within one process, and across processes late by at most one flush
interval. When Redis is unreachable the limiter fails open (with a logged warning, from the
breaker) until a flush succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass

from redis.asyncio import Redis

from app.errors import ApiError
from app.metrics import RATE_LIMITED
from app.redis_client import Breaker

WINDOW_SECONDS = 60
ADD_SCRIPT = """
local hits = redis.call('INCRBY', KEYS[1], ARGV[1])
if hits == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return hits
"""


@dataclass
class _Window:
    number: int
    known_total: int = 0  # fleet-wide count as of the last flush (includes our flushed hits)
    unflushed: int = 0


class RateLimiter:
    def __init__(self, redis: Redis, breaker: Breaker, limit_per_minute: int, flush_seconds: float = 0.1) -> None:
        self.redis = redis
        self.breaker = breaker
        self.limit = limit_per_minute
        self.flush_seconds = flush_seconds
        self._add = redis.register_script(ADD_SCRIPT)
        self._windows: dict[int, _Window] = defaultdict(lambda: _Window(self._window_number()))
        self._redis_ok = True
        self._stopping = asyncio.Event()

    @staticmethod
    def _window_number() -> int:
        return int(time.time() // WINDOW_SECONDS)

    def hit(self, key_id: int) -> int | None:
        """Count one request for `key_id`; return the Retry-After seconds if it is over the limit."""
        now = time.time()
        current = int(now // WINDOW_SECONDS)
        window = self._windows[key_id]
        if window.number != current:
            window.number, window.known_total, window.unflushed = current, 0, 0
        window.unflushed += 1
        if not self._redis_ok or window.known_total + window.unflushed <= self.limit:
            return None
        RATE_LIMITED.inc()
        return max(1, int((current + 1) * WINDOW_SECONDS - now) + 1)

    def refusal(self, retry_after: int) -> ApiError:
        """The 429 a request over the limit gets."""
        return ApiError(
            429,
            f"rate limit of {self.limit} requests per minute exceeded",
            headers={"Retry-After": str(retry_after)},
        )

    async def flush(self) -> None:
        """Add the unflushed counts to Redis and read back the fleet-wide totals."""
        pending = [(key_id, window) for key_id, window in self._windows.items() if window.unflushed]
        if not pending:
            return

        async def add_all() -> list[int]:
            async with self.redis.pipeline(transaction=False) as pipe:  # resets the pipeline on errors too
                for key_id, window in pending:
                    counter = f"ratelimit:{key_id}:{window.number}"
                    await self._add(keys=[counter], args=[window.unflushed, WINDOW_SECONDS + 1], client=pipe)
                return [int(total) for total in await pipe.execute()]

        sent = {key_id: window.unflushed for key_id, window in pending}
        totals = await self.breaker.call(add_all, None, "rate limiting")
        self._redis_ok = totals is not None
        if totals is None:
            return
        for (key_id, window), total in zip(pending, totals, strict=True):
            window.unflushed -= sent[key_id]  # hits counted while the flush was in flight stay pending
            window.known_total = total
        stale = self._window_number() - 1
        for key_id in [key for key, window in self._windows.items() if window.number < stale]:
            del self._windows[key_id]

    async def run(self) -> None:
        """Flush every `flush_seconds` until `stop()`; the app's lifespan runs this as a task."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.flush_seconds)
            with contextlib.suppress(Exception):  # the breaker has logged it; keep counting
                await self.flush()

    def stop(self) -> None:
        # An event rather than Task.cancel(): the Redis client may turn a cancellation that lands
        # mid-command into a connection error, which the loop would then survive.
        self._stopping.set()
