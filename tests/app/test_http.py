"""Cross-cutting HTTP behaviour: JSON logs with request IDs, compression, CORS."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from app.logs import configure_logging
from app.settings import Settings
from tests.app.conftest import _client_for
from tests.app.helpers import create_project


async def test_log_lines_are_json_with_the_request_id(
    client: httpx.AsyncClient, auth: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "api")
    try:
        await client.get("/api/v1/projects", headers=auth | {"X-Request-ID": "trace-42"})
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    finally:
        logging.getLogger().handlers.clear()
    access = [line for line in lines if line.get("message") == "request"]
    assert access, lines
    assert access[-1]["request_id"] == "trace-42"
    assert access[-1]["route"] == "/api/v1/projects"
    assert access[-1]["status"] == 200
    assert access[-1]["service"] == "api"


async def test_large_responses_are_gzipped_on_request(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for number in range(40):
        await create_project(client, auth, f"project with a longish name {number}")
    response = await client.get("/api/v1/projects", params={"limit": 40}, headers=auth | {"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["items"]) == 40


async def test_cors_allows_only_configured_origins(
    settings_factory: Callable[..., Settings], auth: dict[str, str]
) -> None:
    async for client in _client_for(settings_factory(cors_origins=["https://dash.example.com"])):
        preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-api-key"}
        allowed = await client.options("/api/v1/projects", headers=preflight | {"Origin": "https://dash.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://dash.example.com"
        refused = await client.options("/api/v1/projects", headers=preflight | {"Origin": "https://evil.test"})
        assert "access-control-allow-origin" not in refused.headers
