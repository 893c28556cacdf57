"""Small helpers for the API tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx


async def create_project(client: httpx.AsyncClient, auth: dict[str, str], name: str = "demo") -> int:
    response = await client.post("/api/v1/projects", json={"name": name}, headers=auth)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def upload(
    client: httpx.AsyncClient, auth: dict[str, str], project_id: int, path: Path, content_type: str = "video/mp4"
) -> httpx.Response:
    with path.open("rb") as handle:
        return await client.post(
            f"/api/v1/projects/{project_id}/videos",
            files={"file": (path.name, handle, content_type)},
            headers=auth,
        )


async def wait_for_status(
    client: httpx.AsyncClient, auth: dict[str, str], video_id: int, wanted: set[str], timeout: float = 30
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body: dict[str, Any] = (await client.get(f"/api/v1/videos/{video_id}", headers=auth)).json()
        if body["status"] in wanted:
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"video {video_id} stayed {body['status']!r}, wanted {wanted}")
        await asyncio.sleep(0.1)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Every error has the same JSON shape and carries the request ID."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    return error
