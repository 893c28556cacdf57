from __future__ import annotations

import httpx

from app.services import Services


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
