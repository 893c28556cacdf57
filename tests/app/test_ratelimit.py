"""The batched rate limiter against the real Redis: exact per process, shared across processes."""

from __future__ import annotations

from redis.asyncio import Redis as AsyncRedis

from app.ratelimit import RateLimiter
from app.redis_client import Breaker
from ops.localservices import Redis


async def test_limit_is_exact_within_one_process(redis_server: Redis) -> None:
    client = AsyncRedis.from_url(redis_server.url)
    try:
        limiter = RateLimiter(client, Breaker(), limit_per_minute=5)
        results = [limiter.hit(1) for _ in range(7)]
        assert results[:5] == [None] * 5
        assert all(retry is not None and 1 <= retry <= 61 for retry in results[5:])
    finally:
        await client.aclose()


async def test_counts_are_shared_through_redis_after_a_flush(redis_server: Redis) -> None:
    client = AsyncRedis.from_url(redis_server.url)
    try:
        first, second = (RateLimiter(client, Breaker(), limit_per_minute=6) for _ in range(2))
        assert [first.hit(7) for _ in range(4)] == [None] * 4
        await first.flush()
        assert [second.hit(7) for _ in range(2)] == [None] * 2
        await second.flush()  # reads back 6: the fleet-wide total
        assert second.hit(7) is not None
        assert first.hit(8) is None  # another key has its own counter
    finally:
        await client.aclose()


async def test_limiter_fails_open_while_redis_is_unreachable() -> None:
    client = AsyncRedis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        limiter = RateLimiter(client, Breaker(), limit_per_minute=1)
        limiter.hit(3)
        await limiter.flush()
        assert [limiter.hit(3) for _ in range(5)] == [None] * 5
    finally:
        await client.aclose()
