"""The rate limiter against the real Redis: a sliding window, exact per process, shared across processes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from limits.aio.storage import RedisStorage
from redis.asyncio import Redis as AsyncRedis

from app.ratelimit import RateLimiter, redis_storage
from app.redis_client import Breaker
from ops.localservices import Redis


@pytest.fixture
async def storage(redis_server: Redis) -> AsyncIterator[RedisStorage]:
    client = AsyncRedis.from_url(redis_server.url)
    await client.flushall()
    yield redis_storage(client, redis_server.url)
    await client.aclose()


async def test_limit_is_exact_within_one_process(storage: RedisStorage) -> None:
    limiter = RateLimiter(storage, Breaker(), limit_per_minute=5)
    results = [limiter.hit(1) for _ in range(7)]
    assert results[:5] == [None] * 5
    assert all(retry is not None and 1 <= retry <= 60 for retry in results[5:])


async def test_counts_are_shared_through_redis_after_a_flush(storage: RedisStorage) -> None:
    first, second = (RateLimiter(storage, Breaker(), limit_per_minute=6) for _ in range(2))
    assert [first.hit(7) for _ in range(4)] == [None] * 4
    await first.flush()
    await second.flush()
    assert [second.hit(7) for _ in range(2)] == [None] * 2
    await second.flush()  # reads back 0 left: the fleet-wide allowance is spent
    assert second.hit(7) is not None
    assert first.hit(8) is None  # another key has its own allowance


async def test_a_new_minute_does_not_refill_the_allowance(
    storage: RedisStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fixed window would let 2 x limit through across a minute boundary; the sliding one does not."""
    from limits.aio import strategies  # noqa: PLC0415
    from limits.aio.storage.redis import redispy  # noqa: PLC0415

    now = [1_800_000_059.0]  # one second before a minute boundary
    for module in (redispy, strategies):
        monkeypatch.setattr(module.time, "time", lambda: now[0])
    limiter = RateLimiter(storage, Breaker(), limit_per_minute=10)
    assert [limiter.hit(9) for _ in range(10)] == [None] * 10
    await limiter.flush()
    now[0] += 2  # one second into the next minute
    await limiter.flush()
    admitted = sum(limiter.hit(9) is None for _ in range(10))
    assert admitted <= 1


async def test_limiter_fails_open_while_redis_is_unreachable() -> None:
    client = AsyncRedis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        limiter = RateLimiter(redis_storage(client, "redis://127.0.0.1:1/0"), Breaker(), limit_per_minute=1)
        limiter.hit(3)
        await limiter.flush()
        assert [limiter.hit(3) for _ in range(5)] == [None] * 5
    finally:
        await client.aclose()
