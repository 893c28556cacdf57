"""Redis access that degrades instead of failing.

Redis holds only derived or replaceable data (cache, rate-limit counters, the job queue whose
truth is in PostgreSQL), so when it is down the API carries on without it. A small circuit breaker
keeps a dead Redis from costing a connect timeout on every request: after a failure, calls are
skipped for `open_seconds`, then one is let through to probe for recovery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def create_redis(settings: Settings, socket_timeout: float | None = None) -> Redis:
    """A client with short timeouts; blocking readers (the worker) pass a longer `socket_timeout`."""
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=socket_timeout or settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        health_check_interval=30,
        max_connections=64,
    )


class Breaker:
    def __init__(self, open_seconds: float = 2.0) -> None:
        self.open_seconds = open_seconds
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    async def call(self, operation: Callable[[], Awaitable[T]], fallback: T, what: str) -> T:
        """Run `operation`; on a Redis error (or while open) log once and return `fallback`."""
        if self.is_open:
            return fallback
        try:
            return await operation()
        except (RedisError, OSError) as exc:
            self._open_until = time.monotonic() + self.open_seconds
            log.warning("redis unavailable, %s degraded: %s", what, exc.__class__.__name__)
            return fallback
