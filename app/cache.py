"""A read-through cache of serialized responses in Redis, with explicit invalidation on writes."""

from __future__ import annotations

from redis.asyncio import Redis

from app.metrics import CACHE_REQUESTS
from app.redis_client import Breaker

STATS_PREFIX = "cache:stats:"


class ResponseCache:
    def __init__(self, redis: Redis, breaker: Breaker, name: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.breaker = breaker
        self.name = name
        self.ttl = ttl_seconds

    async def get(self, key: str) -> bytes | None:
        async def read() -> bytes | None:
            value = await self.redis.get(key)
            return value.encode() if isinstance(value, str) else value

        value = await self.breaker.call(read, None, "cache read")
        CACHE_REQUESTS.labels(self.name, "hit" if value is not None else "miss").inc()
        return value

    async def set(self, key: str, value: bytes) -> None:
        await self.breaker.call(lambda: self.redis.set(key, value, ex=self.ttl), None, "cache write")

    async def invalidate(self, *keys: str) -> None:
        if keys:
            await self.breaker.call(lambda: self.redis.delete(*keys), 0, "cache invalidation")


def stats_key(project_id: int | None) -> str:
    return f"{STATS_PREFIX}{project_id if project_id is not None else 'all'}"
