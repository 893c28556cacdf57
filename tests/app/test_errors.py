"""Errors classified by cause: the client's mistakes are 4xx with the API's error body, a file
missing from storage is a 404, and 503 is kept for a dependency that is really down."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError

from app.errors import error_response_for
from app.services import Services
from app.worker import Worker
from tests.app.helpers import assert_error, create_project, upload, wait_for_status

BIGINT_OVER = 2**63
INT_OVER = 2**31


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/projects", {"name": "a\u0000b"}),
        ("/api/v1/projects", {"name": "ok", "description": "\u0000"}),
        ("/api/v1/sessions", {"video_id": 1, "name": "x\u0000"}),
    ],
)
async def test_nul_character_in_a_body_is_a_422(
    client: httpx.AsyncClient, auth: dict[str, str], path: str, body: dict[str, object]
) -> None:
    assert_error(await client.post(path, json=body, headers=auth), 422, "validation_error")


async def test_nul_character_in_a_query_is_a_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get("/api/v1/sessions/1/detections", params={"label": "car\u0000"}, headers=auth)
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/projects/{BIGINT_OVER}",
        f"/api/v1/videos/{BIGINT_OVER}",
        f"/api/v1/videos/{BIGINT_OVER}/thumbnail",
        f"/api/v1/sessions/{BIGINT_OVER}",
        f"/api/v1/sessions/{BIGINT_OVER}/detections",
        f"/api/v1/sessions/{BIGINT_OVER}/detections/stream",
        f"/api/v1/videos?project_id={BIGINT_OVER}",
        f"/api/v1/sessions?video_id={BIGINT_OVER}",
        f"/api/v1/stats?project_id={BIGINT_OVER}",
    ],
)
async def test_id_out_of_range_is_a_422(client: httpx.AsyncClient, auth: dict[str, str], path: str) -> None:
    assert_error(await client.get(path, headers=auth), 422, "validation_error")


async def test_id_out_of_range_in_writes_is_a_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert_error(await client.delete(f"/api/v1/videos/{BIGINT_OVER}", headers=auth), 422, "validation_error")
    created = await client.post("/api/v1/sessions", json={"video_id": BIGINT_OVER, "name": "s"}, headers=auth)
    assert_error(created, 422, "validation_error")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("frame", str(INT_OVER)),
        ("timestamp_ms", str(BIGINT_OVER)),
        ("x", "Infinity"),
        ("y", "NaN"),
        ("confidence", "true"),
    ],
)
async def test_detection_value_out_of_range_is_a_422(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, value: str
) -> None:
    session_id = await _session(client, auth)
    fields = {"frame": "1", "timestamp_ms": "1", "label": '"car"', "confidence": "0.5", "x": "1", "y": "1"}
    fields |= {"width": "1", "height": "1", name: value}
    event = ", ".join(f'"{key}": {raw}' for key, raw in fields.items())
    response = await client.post(
        f"/api/v1/sessions/{session_id}/detections",
        content=f'{{"events": [{{{event}}}]}}',
        headers=auth | {"Content-Type": "application/json"},
    )
    assert_error(response, 422, "validation_error")


async def _session(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    """A test session over a video row written straight to the database (no upload needed)."""
    project_id = await create_project(client, auth)
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    async with services.engine.begin() as connection:
        video_id = await connection.scalar(
            text(
                "INSERT INTO videos (project_id, filename, content_type, size_bytes, storage_key, status, attempts)"
                " VALUES (:project, 'v.mp4', 'video/mp4', 1, 'videos/x', 'ready', 0) RETURNING id"
            ),
            {"project": project_id},
        )
    created = await client.post("/api/v1/sessions", json={"video_id": video_id, "name": "s"}, headers=auth)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


async def test_thumbnail_missing_from_storage_is_a_404(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Worker, video_file: Path, storage: Path
) -> None:
    project = await create_project(client, auth)
    video_id = (await upload(client, auth, project, video_file)).json()["id"]
    await wait_for_status(client, auth, video_id, {"ready"})
    (storage / "videos" / str(video_id) / "thumbnail.jpg").unlink()
    error = assert_error(await client.get(f"/api/v1/videos/{video_id}/thumbnail", headers=auth), 404, "not_found")
    assert "storage" in error["message"]


MULTIPART = "multipart/form-data; boundary=XyZ"


@pytest.mark.parametrize(
    "part_headers",
    [
        b"Content-Disposition form-data; name=file\r\n",  # no colon: a malformed header line
        b'Content-Disposition: form-data; name="file"; filename="a.mp4"\r\nContent-Type: video/\xff\xfe\r\n',
        b'Content-Disposition: form-data; name="file"; filename="a\x00.mp4"\r\nContent-Type: video/mp4\x00\r\n',
    ],
)
async def test_malformed_multipart_part_is_a_4xx(
    client: httpx.AsyncClient, auth: dict[str, str], part_headers: bytes
) -> None:
    project = await create_project(client, auth)
    body = b"--XyZ\r\n" + part_headers + b"\r\nnot a video\r\n--XyZ--\r\n"
    response = await client.post(
        f"/api/v1/projects/{project}/videos", content=body, headers=auth | {"Content-Type": MULTIPART}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] in {"bad_request", "unsupported_video"}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence"), 422),
        (asyncpg.exceptions.NumericValueOutOfRangeError("out of range"), 422),
        (asyncpg.exceptions.UniqueViolationError("duplicate"), 409),
        (asyncpg.exceptions.QueryCanceledError("statement timeout"), 503),
        (asyncpg.exceptions.CannotConnectNowError("starting up"), 503),
        (asyncpg.exceptions.TooManyConnectionsError("too many"), 503),
        (asyncpg.exceptions.UndefinedTableError("no such table"), 500),
        (ConnectionRefusedError(111, "refused"), 503),
        (TimeoutError(), 503),
    ],
)
def test_database_errors_are_classified_by_cause(error: Exception, status: int) -> None:
    assert error_response_for(error).status_code == status


def test_driver_errors_under_sqlalchemy_are_classified_by_their_cause() -> None:
    driver = asyncpg.exceptions.DataError("invalid input for query argument $1: 2147483648")
    try:
        raise AsyncAdapt_asyncpg_dbapi.InterfaceError("invalid input") from driver
    except AsyncAdapt_asyncpg_dbapi.InterfaceError as adapted:
        wrapped = DBAPIError("INSERT ...", {}, adapted)
    assert error_response_for(wrapped).status_code == 422
