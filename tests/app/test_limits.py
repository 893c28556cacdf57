"""Limits against hostile clients: body sizes, forwarded headers, redirects, failed authentication."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from app.schemas import JSON_BODY_MAX
from app.settings import Settings
from ops.localservices import free_port, wait_for_port
from tests.app.conftest import _client_for
from tests.app.helpers import assert_error
from tests.app.processes import start


async def test_json_body_over_the_limit_is_a_413_before_parsing(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    headers = auth | {"Content-Type": "application/json"}
    big = b'{"name": "' + b"x" * JSON_BODY_MAX + b'"}'
    assert_error(await client.post("/api/v1/projects", content=big, headers=headers), 413, "payload_too_large")

    async def endless() -> object:  # no Content-Length: cut off while streaming
        yield b'{"events": ['
        for _ in range(JSON_BODY_MAX // 10_000 + 1):
            yield b'{"frame": 1, "label": "' + b"y" * 10_000 + b'"},'

    response = await client.post("/api/v1/sessions/1/detections", content=endless(), headers=headers)
    assert_error(response, 413, "payload_too_large")


async def test_trailing_slash_is_not_redirected_to_the_request_host(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.get("/api/v1/projects/", headers=auth | {"Host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers


async def test_failed_authentication_is_limited_per_client_address(
    settings_factory: Callable[..., Settings], auth: dict[str, str]
) -> None:
    async for client in _client_for(settings_factory(failed_auth_per_minute=3, api_key_cache_seconds=60)):
        assert (await client.get("/api/v1/projects", headers=auth)).status_code == 200
        for _ in range(3):
            assert_error(await client.get("/api/v1/projects", headers={"X-API-Key": "sk_wrong"}), 401, "unauthorized")
        refused = await client.get("/api/v1/projects", headers={"X-API-Key": "sk_other"})
        assert_error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert_error(await client.get("/api/v1/projects"), 429, "rate_limited")
        # A key this process verified before still works from the same address.
        assert (await client.get("/api/v1/projects", headers=auth)).status_code == 200


def test_forwarded_for_is_ignored_from_peers_that_are_not_proxies(settings: Settings) -> None:
    port = free_port()
    server = start("serve", settings, PORT=port, FORWARDED_ALLOW_IPS="10.9.9.9", FAILED_AUTH_PER_MINUTE=2)
    try:
        wait_for_port(port, timeout=30)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            statuses = [
                client.get(
                    "/api/v1/projects", headers={"X-API-Key": "sk_x", "X-Forwarded-For": f"192.0.2.{n}"}
                ).status_code
                for n in range(3)
            ]
        # Each request claims another address; all are counted against the real peer.
        assert statuses == [401, 401, 429]
    finally:
        server.terminate()
        server.wait(timeout=30)
