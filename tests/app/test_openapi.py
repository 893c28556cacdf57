"""The OpenAPI document describes the service as it answers: security, errors, bodies, formats."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.app.helpers import create_project

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]


async def test_api_key_is_a_security_scheme_of_every_api_operation(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key made with `python -m app create-key`",
    }
    for method, path, operation in _operations(document):
        names = [param["name"].lower() for param in operation.get("parameters", [])]
        assert "x-api-key" not in names, (method, path)
        if path.startswith("/api/"):
            assert operation["security"] == [{"ApiKey": []}], (method, path)
        else:
            assert "security" not in operation, (method, path)


async def test_every_error_status_has_the_api_error_body(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in _operations(document):
        if not path.startswith("/api/"):
            continue
        statuses = set(operation["responses"])
        assert {"401", "422", "429", "503"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if method == "post":
            assert {"400", "413"} <= statuses, (method, path)
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


async def test_upload_body_is_described(client: httpx.AsyncClient) -> None:
    operation = (await _document(client))["paths"]["/api/v1/projects/{project_id}/videos"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"]
    assert schema["properties"]["file"]["format"] == "binary"


async def test_ids_and_numbers_are_bounded(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    video_id = next(
        param
        for param in document["paths"]["/api/v1/videos/{video_id}"]["get"]["parameters"]
        if param["name"] == "video_id"
    )
    assert (video_id["schema"]["minimum"], video_id["schema"]["maximum"]) == (1, 2**63 - 1)
    event = document["components"]["schemas"]["DetectionIn"]["properties"]
    assert event["frame"]["maximum"] == 2**31 - 1


async def test_timestamps_have_one_format_on_every_path(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    created = await client.post("/api/v1/projects", json={"name": "p"}, headers=auth)
    project_id = created.json()["id"]
    await create_project(client, auth, "q")
    one = (await client.get(f"/api/v1/projects/{project_id}", headers=auth)).json()
    page = (await client.get("/api/v1/projects", headers=auth)).json()["items"]
    listed = next(item for item in page if item["id"] == project_id)
    assert ISO_UTC.match(created.json()["created_at"])
    assert created.json()["created_at"] == one["created_at"] == listed["created_at"]


async def test_method_not_allowed_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.request("PATCH", "/api/v1/videos/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET"
    assert response.json()["error"]["code"] == "method_not_allowed"
