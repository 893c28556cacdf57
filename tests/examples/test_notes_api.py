"""The notes API in-process against real PostgreSQL: its endpoints, its errors, health and metrics."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from ops.localservices import Postgres, free_port
from tests.examples.conftest import TOKEN, app_client, create_database

from notes import db  # isort: skip - on the path the conftest gives it
from notes.settings import Settings  # isort: skip


async def create(client: httpx.AsyncClient, auth: dict[str, str], title: str, body: str = "") -> dict[str, object]:
    response = await client.post("/notes", json={"title": title, "body": body}, headers=auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_note_is_created_read_and_deleted(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    created = await client.post("/notes", json={"title": "shopping", "body": "milk, bread"}, headers=auth)
    note = created.json()

    assert created.status_code == 201
    assert created.headers["location"] == f"/notes/{note['id']}"
    assert note["title"] == "shopping"
    assert note["body"] == "milk, bread"
    assert (await client.get(f"/notes/{note['id']}", headers=auth)).json() == note
    assert (await client.delete(f"/notes/{note['id']}", headers=auth)).status_code == 204
    gone = await client.get(f"/notes/{note['id']}", headers=auth)
    assert gone.status_code == 404
    assert gone.json()["error"] == "not_found"
    assert (await client.delete(f"/notes/{note['id']}", headers=auth)).status_code == 404


async def test_the_body_may_be_left_out(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post("/notes", json={"title": "just a title"}, headers=auth)

    assert response.status_code == 201
    assert response.json()["body"] == ""


async def test_notes_are_listed_newest_first_one_page_at_a_time(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    ids = [(await create(client, auth, f"note {n}"))["id"] for n in range(5)]

    seen: list[object] = []
    pages = 0
    query: dict[str, int] = {"limit": 2}
    while True:
        page = (await client.get("/notes", params=query, headers=auth)).json()
        seen += [note["id"] for note in page["items"]]
        pages += 1
        if page["next"] is None:
            break
        query["before"] = page["next"]

    assert seen == ids[::-1]
    assert pages == 3
    default = (await client.get("/notes", headers=auth)).json()
    assert [note["id"] for note in default["items"]] == ids[::-1]
    assert default["next"] is None


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
    ids=["none", "wrong", "no-scheme", "basic"],
)
async def test_notes_need_the_token(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    for response in (
        await client.get("/notes", headers=headers),
        await client.post("/notes", json={"title": "t"}, headers=headers),
        await client.get("/notes/1", headers=headers),
        await client.delete("/notes/1", headers=headers),
    ):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


BAD_BODIES = {
    "not-json": b"title=x",
    "truncated": b'{"title": "x"',
    "not-utf8": b'{"title": "\xff"}',
    "array": b'[{"title": "x"}]',
    "string": b'"x"',
    "null": b"null",
    "empty": b"",
    "no-title": b'{"body": "x"}',
    "null-title": b'{"title": null}',
    "blank-title": b'{"title": "   "}',
    "number-title": b'{"title": 5}',
    "long-title": json.dumps({"title": "x" * 201}).encode(),
    "long-body": json.dumps({"title": "x", "body": "y" * 10_001}).encode(),
    "object-body": b'{"title": "x", "body": {"a": 1}}',
    "unknown-field": b'{"title": "x", "colour": "red"}',
    "nul": b'{"title": "a\\u0000b"}',
    "lone-surrogate": b'{"title": "a\\ud800b"}',
    "deeply-nested": b"[" * 30_000 + b"]" * 30_000,
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_a_bad_note_is_refused_with_422(client: httpx.AsyncClient, auth: dict[str, str], body: bytes) -> None:
    response = await client.post("/notes", content=body, headers=auth | {"content-type": "application/json"})

    assert response.status_code == 422, response.text
    assert response.json()["error"] in ("invalid_json", "invalid_body")
    assert (await client.get("/notes", headers=auth)).json()["items"] == []


async def test_the_refusal_names_each_bad_field(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post("/notes", json={"title": "", "body": 3, "tags": []}, headers=auth)

    assert response.json()["fields"] == {
        "title": "must not be blank",
        "body": "must be a string",
        "tags": "unknown field",
    }


async def test_a_body_over_64_kib_is_refused_with_413(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    big = json.dumps({"title": "x", "body": "y" * 70_000})

    async def streamed() -> object:  # no Content-Length: the limit holds while reading
        yield big.encode()

    declared = await client.post("/notes", content=big, headers=auth)
    chunked = await client.post("/notes", content=streamed(), headers=auth)  # type: ignore[arg-type]

    assert declared.status_code == chunked.status_code == 413
    assert declared.json()["error"] == chunked.json()["error"] == "body_too_large"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/notes?limit=0", 422),
        ("GET", "/notes?limit=101", 422),
        ("GET", "/notes?limit=abc", 422),
        ("GET", "/notes?before=-1", 422),
        ("GET", "/notes?before=99999999999999999999", 422),
        ("GET", "/notes?limit=%C2%B2", 422),
        ("GET", "/notes?limit=" + "9" * 5000, 422),
        ("GET", "/notes?before=" + "1" * 5000, 422),
        ("GET", "/notes/0", 404),
        ("GET", "/notes/99999999999999999999", 404),
        ("DELETE", "/notes/9223372036854775808", 404),
        ("GET", "/notes/abc", 404),
        ("GET", "/nowhere", 404),
        ("PUT", "/notes", 405),
        ("PATCH", "/notes/1", 405),
        ("POST", "/readyz", 405),
    ],
)
async def test_bad_requests_get_a_json_4xx(
    client: httpx.AsyncClient, auth: dict[str, str], method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, headers=auth)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]


async def test_live_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/livez")).json() == {"status": "live"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    note = await create(client, auth, "counted")
    await client.get(f"/notes/{note['id']}", headers=auth)
    await client.get("/notes/424242", headers=auth)
    await client.get("/no/such/path")

    response = await client.get("/internal/metrics")
    text = response.text

    assert response.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{method="POST",route="/notes",status="201"} 1.0' in text
    assert 'http_requests_total{method="GET",route="/notes/{note_id}",status="200"} 1.0' in text
    assert 'http_requests_total{method="GET",route="/notes/{note_id}",status="404"} 1.0' in text
    assert 'http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    # Error series exist at zero from the start, so the first 500 shows in rate().
    assert 'http_requests_total{method="DELETE",route="/notes/{note_id}",status="500"} 0.0' in text
    assert 'http_request_duration_seconds_bucket{le="0.1",method="GET",route="/notes/{note_id}"}' in text


async def test_without_the_database_ready_is_503_and_notes_503(postgres: Postgres, auth: dict[str, str]) -> None:
    nowhere = f"postgresql://{postgres.user}:{postgres.password}@127.0.0.1:{free_port()}/notes"
    async for client in app_client(Settings(database_url=nowhere, token=TOKEN)):
        ready = await client.get("/readyz")
        live = await client.get("/livez")
        created = await client.post("/notes", json={"title": "lost"}, headers=auth)
        listed = await client.get("/notes", headers=auth)

        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert live.status_code == 200
        assert created.status_code == listed.status_code == 503
        assert created.json()["error"] == "database_unavailable"


async def test_before_its_migration_ready_is_503(postgres: Postgres, auth: dict[str, str]) -> None:
    url = create_database(postgres, "notes_unmigrated")
    async for client in app_client(Settings(database_url=url, token=TOKEN)):
        ready = await client.get("/readyz")
        listed = await client.get("/notes", headers=auth)

        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "reason": "UndefinedTableError"}
        assert listed.status_code == 503
        await db.migrate(url)
        assert (await client.get("/readyz")).status_code == 200


async def test_the_migration_is_idempotent_even_run_at_once(postgres: Postgres) -> None:
    url = create_database(postgres, "notes_migrate")
    await asyncio.gather(db.migrate(url), db.migrate(url), db.migrate(url))
    async for client in app_client(Settings(database_url=url, token=TOKEN)):
        note = await client.post("/notes", json={"title": "kept"}, headers={"Authorization": f"Bearer {TOKEN}"})
        await db.migrate(url)  # again, with data: nothing is dropped
        kept = await client.get(f"/notes/{note.json()['id']}", headers={"Authorization": f"Bearer {TOKEN}"})

        assert kept.json()["title"] == "kept"
