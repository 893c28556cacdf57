"""The long-lived clients one API process shares across requests, built once at startup."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.apikeys import KeyVerifier
from app.cache import ResponseCache
from app.db import create_engine, create_sessionmaker
from app.jobqueue import JobQueue
from app.middleware import Lifecycle
from app.ratelimit import RateLimiter, redis_storage
from app.readpool import ReadPool
from app.redis_client import Breaker, create_redis
from app.settings import Settings
from app.storage import FilesystemStorage, Storage, create_storage


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    # Raw asyncpg for the single-statement reads (pages, one video): no transaction around them,
    # no ORM; see app/readpool.py.
    reads: ReadPool
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    breaker: Breaker
    stats_cache: ResponseCache
    limiter: RateLimiter
    auth_failures: RateLimiter  # failed authentications per client address
    queue: JobQueue
    storage: Storage
    keys: KeyVerifier
    lifecycle: Lifecycle = field(default_factory=Lifecycle)

    @classmethod
    def create(cls, settings: Settings) -> Services:
        engine = create_engine(settings)
        redis = create_redis(settings)
        breaker = Breaker()
        limits_storage = redis_storage(redis, settings.redis_url.get_secret_value())
        return cls(
            settings=settings,
            engine=engine,
            reads=ReadPool(settings, engine),
            sessionmaker=create_sessionmaker(engine),
            redis=redis,
            breaker=breaker,
            stats_cache=ResponseCache(redis, breaker, "stats", settings.stats_cache_seconds),
            limiter=RateLimiter(limits_storage, breaker, settings.rate_limit_per_minute),
            auth_failures=RateLimiter(
                limits_storage, breaker, settings.failed_auth_per_minute, namespace="auth-failures"
            ),
            queue=JobQueue(redis, breaker),
            storage=create_storage(settings),
            keys=KeyVerifier(settings.secret_key.get_secret_value(), settings.api_key_cache_seconds),
        )

    @property
    def spool_dir(self) -> Path:
        # On the filesystem backend, spool on the storage volume itself so that accepting an
        # upload is a rename, not a second copy of the whole file.
        if isinstance(self.storage, FilesystemStorage):
            return self.storage.root / ".incoming"
        return self.settings.upload_tmp_path

    async def start(self) -> None:
        await self.reads.start()

    async def close(self) -> None:
        await self.redis.aclose()
        await self.reads.close()
        await self.engine.dispose()
