from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from sqlalchemy import select

from app.apikeys import revoke_key
from app.models import ApiKey
from app.settings import Settings
from tests.app.conftest import _client_for
from tests.app.helpers import assert_error


async def test_only_the_hash_of_a_key_is_stored(client: httpx.AsyncClient, api_key: str) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    async with services.sessionmaker() as session:
        stored = (await session.scalars(select(ApiKey))).one()
    assert api_key not in (stored.key_hash, stored.prefix)
    assert len(stored.key_hash) == 64


async def test_revoked_key_is_refused_after_the_cache_expires(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert (await client.get("/api/v1/projects", headers=auth)).status_code == 200
    services = client.app.state.services  # type: ignore[attr-defined]
    async with services.sessionmaker() as session:
        key_id = (await session.scalars(select(ApiKey.id))).one()
        assert await revoke_key(session, key_id)
        await session.commit()
    await asyncio.sleep(services.settings.api_key_cache_seconds + 0.1)
    assert_error(await client.get("/api/v1/projects", headers=auth), 401, "unauthorized")


async def test_rate_limit_answers_429_with_retry_after(
    settings_factory: Callable[..., Settings], auth: dict[str, str]
) -> None:
    async for client in _client_for(settings_factory(rate_limit_per_minute=3)):
        statuses = [(await client.get("/api/v1/projects", headers=auth)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = await client.get("/api/v1/projects", headers=auth)
        assert_error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["retry-after"]) <= 61
