"""Per-API-key rate limits: a fixed one-minute window counted in Redis, failing open."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from app.errors import ApiError
from app.metrics import RATE_LIMITED
from app.redis_client import Breaker

WINDOW_SECONDS = 60
COUNT_SCRIPT = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return hits
"""


class RateLimiter:
    def __init__(self, redis: Redis, breaker: Breaker, limit_per_minute: int) -> None:
        self.redis = redis
        self.breaker = breaker
        self.limit = limit_per_minute
        # One round trip per request: increment, and set the expiry only on the window's first hit.
        self._count = redis.register_script(COUNT_SCRIPT)

    async def check(self, key_id: int) -> None:
        """Count one request for `key_id`; raise 429 with Retry-After once over the limit."""
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        counter = f"ratelimit:{key_id}:{window}"

        async def count() -> int:
            return int(await self._count(keys=[counter], args=[WINDOW_SECONDS + 1]))

        # Fails open: with Redis down, no request is refused for want of a counter.
        hits = await self.breaker.call(count, 0, "rate limiting")
        if hits > self.limit:
            RATE_LIMITED.inc()
            retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
            raise ApiError(
                429,
                f"rate limit of {self.limit} requests per minute exceeded",
                headers={"Retry-After": str(retry_after)},
            )
