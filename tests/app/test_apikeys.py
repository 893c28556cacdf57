from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from sqlalchemy import select

from app.apikeys import revoke_key
from app.models import ApiKey
from app.settings import Settings
from ops.localservices import free_port, wait_for_port
from tests.app.conftest import _client_for
from tests.app.helpers import assert_error
from tests.app.processes import run, start


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


async def test_revocation_takes_effect_at_once_in_every_process(
    settings_factory: Callable[..., Settings], auth: dict[str, str]
) -> None:
    settings = settings_factory(api_key_cache_seconds=300)
    port = free_port()
    served = start("serve", settings, PORT=port)
    try:
        await asyncio.to_thread(wait_for_port, port, 30)
        async for local in _client_for(settings):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as remote:
                for client in (local, remote):
                    assert (await client.get("/api/v1/projects", headers=auth)).status_code == 200
                services = local.app.state.services  # type: ignore[attr-defined]
                async with services.sessionmaker() as session:
                    key_id = (await session.scalars(select(ApiKey.id))).one()
                result = await asyncio.to_thread(run, ["revoke-key", str(key_id)], settings)
                assert result.stdout.strip() == "revoked", result.stdout + result.stderr
                for client in (local, remote):
                    for _ in range(50):  # the announcement arrives within milliseconds
                        if (await client.get("/api/v1/projects", headers=auth)).status_code == 401:
                            break
                        await asyncio.sleep(0.02)
                    assert_error(await client.get("/api/v1/projects", headers=auth), 401, "unauthorized")
    finally:
        served.terminate()
        served.wait(timeout=30)
