"""Serialized responses cached in two tiers: this process's memory, then Redis.

Writes invalidate both tiers here and the Redis tier for every process; another process may
serve its in-memory copy for up to `local_ttl` seconds after a write (1 s by default), which
dashboard counts can afford, and which spares the hottest reads a Redis round trip.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from app.metrics import CACHE_REQUESTS
from app.redis_client import Breaker

STATS_PREFIX = "cache:stats:"
LOCAL_ENTRIES_MAX = 1024


class ResponseCache:
    def __init__(self, redis: Redis, breaker: Breaker, name: str, ttl_seconds: int, local_ttl: float = 1.0) -> None:
        self.redis = redis
        self.breaker = breaker
        self.name = name
        self.ttl = ttl_seconds
        self.local_ttl = local_ttl
        self._local: dict[str, tuple[bytes, float]] = {}
        self._hits = CACHE_REQUESTS.labels(name, "hit")
        self._misses = CACHE_REQUESTS.labels(name, "miss")

    def get_local(self, key: str) -> bytes | None:
        """The in-memory tier only: no I/O, so callers on the hottest path can use it."""
        entry = self._local.get(key)
        if entry is None or entry[1] < time.monotonic():
            return None
        self._hits.inc()
        return entry[0]

    async def get(self, key: str) -> bytes | None:
        local = self.get_local(key)
        if local is not None:
            return local

        async def read() -> bytes | None:
            value = await self.redis.get(key)
            return value.encode() if isinstance(value, str) else value

        value = await self.breaker.call(read, None, "cache read")
        if value is None:
            self._misses.inc()
            return None
        self._hits.inc()
        self._remember(key, value)
        return value

    async def set(self, key: str, value: bytes) -> None:
        self._remember(key, value)
        await self.breaker.call(lambda: self.redis.set(key, value, ex=self.ttl), None, "cache write")

    async def invalidate(self, *keys: str) -> None:
        for key in keys:
            self._local.pop(key, None)
        if keys:
            await self.breaker.call(lambda: self.redis.delete(*keys), 0, "cache invalidation")

    def _remember(self, key: str, value: bytes) -> None:
        if len(self._local) >= LOCAL_ENTRIES_MAX:
            self._local.clear()
        self._local[key] = (value, time.monotonic() + min(self.local_ttl, self.ttl))


def stats_key(tenant: str, project_id: int | None) -> str:
    # The tenant's name may hold any printable character: its length keeps keys unambiguous.
    return f"{STATS_PREFIX}{len(tenant)}:{tenant}:{project_id if project_id is not None else 'all'}"
