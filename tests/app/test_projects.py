from __future__ import annotations

import httpx
import pytest

from tests.app.helpers import assert_error, create_project


async def test_create_and_get_project(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    created = await client.post("/api/v1/projects", json={"name": "bridge", "description": "cams"}, headers=auth)
    assert created.status_code == 201
    project = created.json()
    fetched = await client.get(f"/api/v1/projects/{project['id']}", headers=auth)
    assert fetched.json() == project


async def test_list_projects_pages_with_a_cursor(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    ids = [await create_project(client, auth, f"p{i}") for i in range(5)]
    first = (await client.get("/api/v1/projects", params={"limit": 2}, headers=auth)).json()
    assert [p["id"] for p in first["items"]] == ids[::-1][:2]
    seen = [p["id"] for p in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await client.get("/api/v1/projects", params={"limit": 2, "cursor": cursor}, headers=auth)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1]


async def test_empty_list_has_no_cursor(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert (await client.get("/api/v1/projects", headers=auth)).json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": "a", "owner": 1}, "owner")],
)
async def test_create_project_rejects_bad_input(
    client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, object], field: str
) -> None:
    error = assert_error(await client.post("/api/v1/projects", json=body, headers=auth), 422, "validation_error")
    assert field in {str(part) for detail in error["details"] for part in detail["loc"]}


async def test_malformed_json_is_a_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/projects", content=b"{not json", headers=auth | {"content-type": "application/json"}
    )
    assert_error(response, 422, "validation_error")


async def test_bad_cursor_is_a_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get("/api/v1/projects", params={"cursor": "'; drop table"}, headers=auth)
    assert_error(response, 422, "validation_error")


async def test_unknown_project_is_a_404(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert_error(await client.get("/api/v1/projects/999", headers=auth), 404, "not_found")


async def test_missing_api_key_is_a_401(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v1/projects"), 401, "unauthorized")


async def test_wrong_api_key_is_a_401(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v1/projects", headers={"X-API-Key": "sk_nope"}), 401, "unauthorized")


async def test_unknown_route_uses_the_error_shape(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v1/nothing-here"), 404, "not_found")


async def test_wrong_method_uses_the_error_shape(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert_error(await client.put("/api/v1/projects", headers=auth), 405, "method_not_allowed")
