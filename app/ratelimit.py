"""Rate limits over a sliding window, counted fleet-wide in Redis by the `limits` library.

`limits`' sliding-window counter weighs the previous minute's count by how much of it is still
inside the window, so a client cannot spend a whole minute's allowance at the end of one minute
and again at the start of the next (a fixed window's boundary burst).

A Redis round trip per request would cost more CPU than the cheapest endpoints themselves, so a
process admits requests against the fleet-wide allowance it last read and hands its admitted
requests to `limits` in batches (one `hit` with their cost per identity) every `flush_seconds`,
reading back what remains. Exact within one process; across processes late by at most one flush
interval. When Redis is unreachable the limiter fails open (with a logged warning, from the
breaker) until a flush succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import defaultdict
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import Redis

from app.errors import ApiError
from app.metrics import RATE_LIMITED
from app.redis_client import Breaker

WINDOW_SECONDS = 60


def redis_storage(redis: Redis, url: str) -> RedisStorage:
    """`limits`' storage on the app's own Redis connection pool."""
    # limits types its options as scalars, but hands them all to redis.asyncio.Redis as they are.
    pool: Any = redis.connection_pool
    return RedisStorage(f"async+{url}", implementation="redispy", connection_pool=pool)


class RateLimiter:
    def __init__(
        self,
        storage: RedisStorage,
        breaker: Breaker,
        limit_per_minute: int,
        namespace: str = "key",
        flush_seconds: float = 0.1,
    ) -> None:
        self.breaker = breaker
        self.limit = limit_per_minute
        self.namespace = namespace
        self.flush_seconds = flush_seconds
        self._item = RateLimitItemPerMinute(limit_per_minute, namespace=namespace)
        self._window = SlidingWindowCounterRateLimiter(storage)
        self._remaining: dict[str, int] = {}  # fleet-wide allowance left, as of the last flush
        self._reset_at: dict[str, float] = {}  # when the window lets the next request through
        self._unflushed: dict[str, int] = defaultdict(int)
        self._redis_ok = True
        self._stopping = asyncio.Event()

    def hit(self, identity: object) -> int | None:
        """Count one request; return the Retry-After seconds if it is over the limit."""
        who = str(identity)
        pending = self._unflushed[who]
        if not self._redis_ok or pending < self._remaining.get(who, self.limit):
            self._unflushed[who] = pending + 1
            return None
        RATE_LIMITED.inc()
        return self.retry_after(who)

    def exhausted(self, identity: object) -> int | None:
        """The Retry-After seconds if `identity` has nothing left, without counting a request."""
        who = str(identity)
        if not self._redis_ok or self._unflushed.get(who, 0) < self._remaining.get(who, self.limit):
            return None
        return self.retry_after(who)

    def retry_after(self, who: str) -> int:
        wait = self._reset_at.get(who, time.time() + 1) - time.time()
        return min(WINDOW_SECONDS, max(1, math.ceil(wait)))

    def refusal(self, retry_after: int) -> ApiError:
        """The 429 a request over the limit gets."""
        return ApiError(
            429,
            f"rate limit of {self.limit} requests per minute exceeded",
            headers={"Retry-After": str(retry_after)},
        )

    async def _sync(self, who: str, sent: int) -> tuple[int, float]:
        """Record `sent` admitted requests; return what remains and when the next one fits."""
        if sent and not await self._window.hit(self._item, who, cost=sent):
            # Other processes spent the window meanwhile: what was admitted here uses up the rest.
            left = (await self._window.get_window_stats(self._item, who)).remaining
            if left:
                await self._window.hit(self._item, who, cost=min(left, sent))
        stats = await self._window.get_window_stats(self._item, who)
        return stats.remaining, stats.reset_time

    async def flush(self) -> None:
        """Hand the admitted requests to `limits` and read back the fleet-wide allowances."""
        exhausted = [who for who, left in self._remaining.items() if left <= self._unflushed.get(who, 0)]
        sent = {who: count for who, count in self._unflushed.items() if count}
        identities = sorted(set(sent) | set(exhausted))
        if not identities:
            return

        async def sync_all() -> list[tuple[int, float]]:
            return list(await asyncio.gather(*(self._sync(who, sent.get(who, 0)) for who in identities)))

        results = await self.breaker.call(sync_all, None, "rate limiting")
        self._redis_ok = results is not None
        if results is None:
            # Failing open: what was admitted meanwhile is not charged once Redis is back, or every
            # busy key would find its allowance spent by the outage.
            self._unflushed.clear()
            return
        for who, (remaining, reset_at) in zip(identities, results, strict=True):
            self._unflushed[who] -= sent.get(who, 0)  # requests admitted while the flush ran stay pending
            if not self._unflushed[who]:
                del self._unflushed[who]
            if remaining >= self.limit:
                self._remaining.pop(who, None)  # a whole window unused: forget the identity
                self._reset_at.pop(who, None)
            else:
                self._remaining[who], self._reset_at[who] = remaining, reset_at

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
