"""API keys: random, shown once, stored only as an HMAC with the environment's SECRET_KEY.

Keys carry 256 bits of entropy, so a keyed fast hash is the right tool (a slow password hash would
only add latency to every request). Verified keys are cached in-process for a few seconds so
authentication costs no database round trip on the hot path. A revocation is announced on a Redis
channel that every API process listens to, so it takes effect at once everywhere; if Redis cannot
carry it, the cache's expiry (API_KEY_CACHE_SECONDS) still bounds it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import DEFAULT_TENANT, SCOPES, ApiKey

KEY_PREFIX = "sk_"
REVOCATIONS = "apikeys:revoked"  # the Redis channel revoked key ids are published on


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str, secret_key: str) -> str:
    # hmac.digest is the one-shot C implementation: the same HMAC, without building an object.
    return hmac.digest(secret_key.encode(), key.encode(), hashlib.sha256).hex()


@dataclass(frozen=True)
class NewKey:
    id: int
    key: str


@dataclass(frozen=True)
class Principal:
    """Who a verified key speaks for: its tenant, and the scopes it was given."""

    key_id: int
    tenant: str
    scopes: frozenset[str]


async def create_key(
    session: AsyncSession,
    name: str,
    secret_key: str,
    tenant: str = DEFAULT_TENANT,
    scopes: tuple[str, ...] = SCOPES,
) -> NewKey:
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(scopes) or 'none'}")
    if not tenant or len(tenant) > 100 or not tenant.isprintable():
        raise ValueError("a tenant is a printable name of 1 to 100 characters")
    key = generate_key()
    row = ApiKey(
        name=name,
        key_hash=hash_key(key, secret_key),
        prefix=key[:10],
        tenant=tenant,
        scopes=" ".join(scope for scope in SCOPES if scope in scopes),
    )
    session.add(row)
    await session.commit()
    return NewKey(id=row.id, key=key)


async def revoke_key(session: AsyncSession, key_id: int) -> bool:
    result = await session.execute(
        update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=func.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def announce_revocation(redis: Redis, key_id: int) -> bool:
    """Tell every API process to forget `key_id` now (after the revocation is committed)."""
    try:
        await redis.publish(REVOCATIONS, str(key_id))
    except (RedisError, OSError):
        return False
    return True


class KeyVerifier:
    """Verifies keys against the database and remembers the verdict for `cache_seconds`.

    The cache lives only in this process's memory and is keyed by the presented key itself: an
    exact match on the whole key, so nothing but that key finds its entry, and the HMAC (the
    costliest step left on the hottest requests) runs only on a miss. Nothing here is stored or
    logged; the database still holds only the HMAC.
    """

    def __init__(self, secret_key: str, cache_seconds: float) -> None:
        self.secret_key = secret_key
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[Principal, float]] = {}

    def forget(self, key_id: int | None = None) -> None:
        """Drop the cached verdicts of `key_id` (of every key when None)."""
        if key_id is None:
            self._cache.clear()
        else:
            self._cache = {key: entry for key, entry in self._cache.items() if entry[0].key_id != key_id}

    async def listen(self, redis: Redis, stopping: asyncio.Event) -> None:
        """Forget revoked keys as they are announced, until `stopping` is set (a lifespan task)."""
        while not stopping.is_set():
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(REVOCATIONS)
                    self.forget()  # whatever was revoked while this process was not listening
                    while not stopping.is_set():
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
                        if message is not None:
                            self.forget(int(message["data"]))
            except (RedisError, OSError, ValueError):
                await asyncio.sleep(1)

    def cached(self, key: str) -> Principal | None:
        """The key's principal if this process verified it recently; never touches the database."""
        cached = self._cache.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        return None

    async def verify(self, sessionmaker: async_sessionmaker[AsyncSession], key: str) -> Principal | None:
        """The key's principal if it is valid and not revoked (a database read only on a cache miss)."""
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached and cached[1] > now:
            return cached[0]
        digest = hash_key(key, self.secret_key)
        async with sessionmaker() as session:
            row = (
                await session.execute(
                    select(ApiKey.id, ApiKey.tenant, ApiKey.scopes).where(
                        ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)
                    )
                )
            ).first()
        if row is None:
            return None
        principal = Principal(row.id, row.tenant, frozenset(row.scopes.split()))
        if len(self._cache) > 10_000:  # bound memory against many distinct keys
            self._cache.clear()
        self._cache[key] = (principal, now + self.cache_seconds)
        return principal
