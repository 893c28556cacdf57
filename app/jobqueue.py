"""The Redis-backed video job queue. Only a hint: PostgreSQL holds each job's real state, and the
sweeper re-queues anything the queue lost, so pushing may fail without losing an upload."""

from __future__ import annotations

from redis.asyncio import Redis

from app.redis_client import Breaker

QUEUE_KEY = "queue:videos"


class JobQueue:
    def __init__(self, redis: Redis, breaker: Breaker) -> None:
        self.redis = redis
        self.breaker = breaker

    async def push(self, *video_ids: int) -> bool:
        if not video_ids:
            return True
        pushed = await self.breaker.call(lambda: self.redis.lpush(QUEUE_KEY, *video_ids), None, "job queue")
        return pushed is not None

    async def pop(self, timeout_seconds: float) -> int | None:
        """Block up to `timeout_seconds` for the next video id (raises on Redis errors)."""
        item = await self.redis.brpop([QUEUE_KEY], timeout=timeout_seconds)
        return int(item[1]) if item else None

    async def depth(self) -> int:
        return int(await self.redis.llen(QUEUE_KEY))
