"""Tenants and scopes, proved by walking the route table: a key of another tenant gets 404 on every
object route (so ids do not leak) and sees none of the objects in lists, and a read-only key gets
403 on every route that writes. A route added without an entry here fails the walk."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.apikeys import create_key
from app.services import Services
from tests.app.conftest import TEST_SECRET
from tests.app.helpers import assert_error, create_project

EVENT = {"frame": 1, "timestamp_ms": 1, "label": "car", "confidence": 0.5, "x": 1, "y": 1, "width": 1, "height": 1}


async def _key(client: httpx.AsyncClient, tenant: str, scopes: tuple[str, ...] = ("read", "write", "admin")) -> str:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    async with services.sessionmaker() as session:
        return (await create_key(session, f"{tenant} key", TEST_SECRET, tenant=tenant, scopes=scopes)).key


async def _objects(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, int]:
    """A project, a ready video with a thumbnail key, a test session with an event: the owner's."""
    project_id = await create_project(client, auth)
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    async with services.engine.begin() as connection:
        video_id = await connection.scalar(
            text(
                "INSERT INTO videos (project_id, filename, content_type, size_bytes, storage_key, status, attempts,"
                " thumbnail_key) VALUES (:project, 'v.mp4', 'video/mp4', 1, 'videos/x', 'ready', 1, 'videos/x.jpg')"
                " RETURNING id"
            ),
            {"project": project_id},
        )
    session = await client.post("/api/v1/sessions", json={"video_id": video_id, "name": "s"}, headers=auth)
    session_id = session.json()["id"]
    added = await client.post(f"/api/v1/sessions/{session_id}/detections", json={"events": [EVENT]}, headers=auth)
    assert added.status_code == 201, added.text
    return {"project_id": project_id, "video_id": int(video_id), "session_id": session_id}


def _routes(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    app: Any = client.app  # type: ignore[attr-defined]
    return sorted(
        (method, path) for path, item in app.openapi()["paths"].items() if path.startswith("/api/") for method in item
    )


def _request(method: str, template: str, ids: dict[str, int]) -> dict[str, Any]:
    """A request that is valid in every way but whose key it is (bodies name the owner's objects)."""
    path = re.sub(r"\{(\w+)\}", lambda match: str(ids[match.group(1)]), template)
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("post", "/api/v1/projects"): {"json": {"name": "p"}},
        ("post", "/api/v1/projects/{project_id}/videos"): {"files": {"file": ("v.mp4", b"not read", "video/mp4")}},
        ("post", "/api/v1/sessions"): {"json": {"video_id": ids["video_id"], "name": "s"}},
        ("post", "/api/v1/sessions/{session_id}/detections"): {"json": {"events": [EVENT]}},
    }
    if method != "get" and (method, template) not in bodies and method != "delete":
        raise AssertionError(f"no valid request body for {method.upper()} {template}: add one to the walk")
    return {"method": method.upper(), "url": path, **bodies.get((method, template), {})}


@pytest.fixture
async def owned(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, int]:
    return await _objects(client, auth)


async def test_another_tenants_key_gets_404_on_every_object_route(
    client: httpx.AsyncClient, auth: dict[str, str], owned: dict[str, int]
) -> None:
    foreign = {"X-API-Key": await _key(client, "other")}
    walked = 0
    for method, template in _routes(client):
        if "{" not in template and (method, template) != ("post", "/api/v1/sessions"):
            continue
        response = await client.request(**_request(method, template, owned), headers=foreign)
        assert_error(response, 404, "not_found")
        walked += 1
    assert walked >= 9
    # Nothing was changed or deleted by those requests.
    assert (await client.get(f"/api/v1/videos/{owned['video_id']}", headers=auth)).status_code == 200
    detections = await client.get(f"/api/v1/sessions/{owned['session_id']}/detections", headers=auth)
    assert len(detections.json()["items"]) == 1


async def test_lists_and_stats_show_only_the_keys_tenant(
    client: httpx.AsyncClient, auth: dict[str, str], owned: dict[str, int]
) -> None:
    foreign = {"X-API-Key": await _key(client, "other")}
    for path in ("/api/v1/projects", "/api/v1/videos", "/api/v1/sessions"):
        for headers, count in ((foreign, 0), (auth, 1)):
            for _ in range(2):  # the second request may come from the hot path
                assert len((await client.get(path, headers=headers)).json()["items"]) == count, path
    for _ in range(2):
        assert (await client.get("/api/v1/stats", headers=foreign)).json()["videos_total"] == 0
        assert (await client.get("/api/v1/stats", headers=auth)).json()["videos_total"] == 1
    filtered = await client.get("/api/v1/videos", params={"project_id": owned["project_id"]}, headers=foreign)
    assert filtered.json()["items"] == []


async def test_read_only_key_reads_everything_and_writes_nothing(
    client: httpx.AsyncClient, auth: dict[str, str], owned: dict[str, int]
) -> None:
    reader = {"X-API-Key": await _key(client, "default", ("read",))}
    for method, template in _routes(client):
        response = await client.request(**_request(method, template, owned), headers=reader)
        if method == "get":
            assert response.status_code in {200, 404 if template.endswith("thumbnail") else 200}, (
                template,
                response.text,
            )
        else:
            assert_error(response, 403, "forbidden")


async def test_delete_needs_the_admin_scope(
    client: httpx.AsyncClient, auth: dict[str, str], owned: dict[str, int]
) -> None:
    writer = {"X-API-Key": await _key(client, "default", ("read", "write"))}
    assert_error(await client.delete(f"/api/v1/videos/{owned['video_id']}", headers=writer), 403, "forbidden")
    assert (await client.post("/api/v1/projects", json={"name": "w"}, headers=writer)).status_code == 201
    assert (await client.delete(f"/api/v1/videos/{owned['video_id']}", headers=auth)).status_code == 204
