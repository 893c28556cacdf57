from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from app.services import Services
from app.settings import Settings
from tests.app.conftest import _client_for
from tests.app.helpers import assert_error


async def test_live_answers_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


async def test_ready_answers_503_while_draining(client: httpx.AsyncClient) -> None:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    services.lifecycle.draining = True
    response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "draining"
    assert response.headers["connection"] == "close"


async def test_metrics_label_requests_by_route_template(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    await client.get("/api/v1/projects/12345", headers=auth)
    await client.get("/no/such/path")
    text = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/api/v1/projects/{project_id}",status="404"}' in text
    assert 'route="unmatched"' in text
    assert "/no/such/path" not in text
    for name in ("http_request_duration_seconds_bucket", "http_requests_in_flight", "db_pool_checked_out", "app_info"):
        assert name in text


async def test_request_id_is_echoed_when_valid(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_request_id_is_replaced_when_unsafe(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "evil\tinjected line"})
    assert response.headers["x-request-id"] != "evil\tinjected line"
    assert len(response.headers["x-request-id"]) == 32


async def test_fault_route_is_hidden_unless_enabled(client: httpx.AsyncClient) -> None:
    assert (await client.get("/debug/fail")).status_code == 404


async def test_unknown_host_is_refused_except_on_platform_paths(
    settings_factory: Callable[..., Settings], auth: dict[str, str]
) -> None:
    async for client in _client_for(settings_factory(trusted_hosts=["api.example.com", "*.internal"])):
        refused = await client.get("/api/v1/projects", headers=auth | {"Host": "evil.example.net"})
        assert_error(refused, 400, "bad_request")
        for host in ("api.example.com", "app1.internal"):
            assert (await client.get("/api/v1/projects", headers=auth | {"Host": host})).status_code == 200
        for path in ("/health/live", "/health/ready", "/metrics"):
            assert (await client.get(path, headers={"Host": "10.0.0.7:8000"})).status_code == 200


async def test_metrics_have_error_series_of_every_route_from_the_start(client: httpx.AsyncClient) -> None:
    # The registry is the process's, shared by every test: only the series' presence is checked.
    text = (await client.get("/metrics")).text
    for method, route, success in (
        ("POST", "/api/v1/projects", "201"),
        ("GET", "/api/v1/videos/{video_id}/thumbnail", "200"),
        ("DELETE", "/api/v1/videos/{video_id}", "204"),
        ("POST", "/api/v1/sessions/{session_id}/detections", "201"),
    ):
        for status in (success, "500", "503"):
            assert f'http_requests_total{{method="{method}",route="{route}",status="{status}"}}' in text


async def test_build_info_names_the_deployed_version_and_slot(settings_factory: Callable[..., Settings]) -> None:
    async for client in _client_for(settings_factory(slipway_version="v7", slipway_slot="blue")):
        text = (await client.get("/metrics")).text
        assert 'app_build_info{slot="blue",version="v7"} 1.0' in text
        assert text.count("app_build_info{") == 1


def test_build_info_reads_the_deployment_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLIPWAY_VERSION", "v8")
    monkeypatch.delenv("SLIPWAY_SLOT", raising=False)
    settings = Settings(database_url="postgresql+asyncpg://x/y", redis_url="redis://x", secret_key="s" * 40)
    assert (settings.slipway_version, settings.slipway_slot) == ("v8", "")
