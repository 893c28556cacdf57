"""Test sessions over a video, and their detection events: bulk ingest, pages, NDJSON stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import bindparam, insert, select, text

from app.cache import stats_key
from app.deps import ApiKeyDep, CursorParam, IdFilter, IdPath, ServicesDep, SessionDep, TextFilter
from app.errors import BODY_ERRORS, KEYED_ERRORS, ApiError, error_responses, links
from app.models import DetectionEvent, TestSession, Video
from app.pagination import MAX_LIMIT, CompiledQuery, json_columns, json_page, page_statement, parse_cursor
from app.readpool import ReadPool
from app.schemas import (
    DetectionBatch,
    DetectionOut,
    DetectionsInserted,
    Page,
    SessionCreate,
    SessionOut,
)
from app.services import Services

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"], responses=error_responses(*KEYED_ERRORS))

STREAM_BATCH_ROWS = 1000  # rows fetched per round trip while streaming; bounds the API's memory


@router.post(
    "",
    status_code=201,
    responses=error_responses(*BODY_ERRORS, 404)
    | links(
        201,
        GetSession=("get", "/api/v1/sessions/{session_id}", {"session_id": "$response.body#/id"}),
        AddDetections=("post", "/api/v1/sessions/{session_id}/detections", {"session_id": "$response.body#/id"}),
        ListDetections=("get", "/api/v1/sessions/{session_id}/detections", {"session_id": "$response.body#/id"}),
        StreamDetections=(
            "get",
            "/api/v1/sessions/{session_id}/detections/stream",
            {"session_id": "$response.body#/id"},
        ),
    ),
)
async def create_session(body: SessionCreate, session: SessionDep, services: ServicesDep, _: ApiKeyDep) -> SessionOut:
    """Start a test session over a video."""
    video = await session.get(Video, body.video_id)
    if video is None:
        raise ApiError(404, f"video {body.video_id} does not exist")
    row = TestSession(video_id=body.video_id, name=body.name)
    session.add(row)
    await session.commit()
    await services.stats_cache.invalidate(stats_key(None), stats_key(video.project_id))
    return SessionOut.model_validate(row)


@router.get("", response_model=Page[SessionOut])
async def list_sessions(
    _: ApiKeyDep,  # before the connection: refused requests never take one from the pool
    services: ServicesDep,
    video_id: IdFilter = None,
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Response:
    """List test sessions, newest first."""
    after = parse_cursor(cursor)
    statement = _sessions_page(video_id is not None, after is not None)
    page, _ = await json_page(services.reads, statement, {"video_id": video_id, "after": after}, limit)
    return Response(page, media_type="application/json")


@lru_cache
def _sessions_page(by_video: bool, after: bool) -> CompiledQuery:
    rows = (
        select(*json_columns(TestSession.__table__.columns)).order_by(TestSession.id.desc()).limit(bindparam("limit"))
    )
    if by_video:
        rows = rows.where(TestSession.video_id == bindparam("video_id"))
    if after:
        rows = rows.where(TestSession.id < bindparam("after"))
    return page_statement(rows, descending=True)


async def _session_row(session: SessionDep, session_id: int) -> TestSession:
    row = await session.get(TestSession, session_id)
    if row is None:
        raise ApiError(404, f"test session {session_id} does not exist")
    return row


@router.get("/{session_id}", responses=error_responses(404))
async def get_session(session_id: IdPath, session: SessionDep, _: ApiKeyDep) -> SessionOut:
    """One test session."""
    return SessionOut.model_validate(await _session_row(session, session_id))


@router.post(
    "/{session_id}/detections",
    status_code=201,
    responses=error_responses(*BODY_ERRORS, 404),
)
async def ingest_detections(
    session_id: IdPath, body: DetectionBatch, session: SessionDep, services: ServicesDep, _: ApiKeyDep
) -> DetectionsInserted:
    """Record up to 10,000 detection events in one request (all or none)."""
    test_session = await _session_row(session, session_id)
    project_id = await session.scalar(select(Video.project_id).where(Video.id == test_session.video_id))
    rows = [{"session_id": session_id, **event.model_dump()} for event in body.events]
    await session.execute(insert(DetectionEvent), rows)
    await session.commit()
    await services.stats_cache.invalidate(stats_key(None), stats_key(project_id))
    return DetectionsInserted(inserted=len(rows))


@router.get("/{session_id}/detections", response_model=Page[DetectionOut], responses=error_responses(404))
async def list_detections(  # noqa: PLR0917 - FastAPI passes query parameters as arguments
    session_id: IdPath,
    _: ApiKeyDep,  # before the connection: refused requests never take one from the pool
    services: ServicesDep,
    label: TextFilter = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1, allow_inf_nan=False)] = None,
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
) -> Response:
    """A page of a session's detection events in recording order (1,000 by default)."""
    after = parse_cursor(cursor)
    statement = detections_page(label is not None, min_confidence is not None, after is not None)
    params = {"session_id": session_id, "label": label, "min_confidence": min_confidence, "after": after}
    page, count = await json_page(services.reads, statement, params, limit)
    if count == 0:  # only an empty page needs to tell "no such session" from "no events"
        await require_session(services.reads, session_id)
    return Response(page, media_type="application/json")


_SESSION_EXISTS = CompiledQuery.of(select(TestSession.id).where(TestSession.id == bindparam("id")))


async def require_session(reads: ReadPool, session_id: int) -> None:
    """Raise the 404 of an unknown session."""
    if await reads.fetchrow(_SESSION_EXISTS.sql, session_id) is None:
        raise ApiError(404, f"test session {session_id} does not exist")


@lru_cache
def detections_page(by_label: bool, by_confidence: bool, after: bool) -> CompiledQuery:
    rows = (
        select(DetectionEvent)
        .where(DetectionEvent.session_id == bindparam("session_id"))
        .order_by(DetectionEvent.id)
        .limit(bindparam("limit"))
    )
    if by_label:
        rows = rows.where(DetectionEvent.label == bindparam("label"))
    if by_confidence:
        rows = rows.where(DetectionEvent.confidence >= bindparam("min_confidence"))
    if after:
        rows = rows.where(DetectionEvent.id > bindparam("after"))
    return page_statement(rows, descending=False)


@router.get(
    "/{session_id}/detections/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}, **error_responses(404)},
)
async def stream_detections(
    session_id: IdPath, session: SessionDep, services: ServicesDep, _: ApiKeyDep
) -> StreamingResponse:
    """Every detection event of a session as NDJSON (one JSON object per line), streamed from a
    server-side cursor so memory stays flat however many events there are."""
    await _session_row(session, session_id)
    await session.close()
    return StreamingResponse(_ndjson(services, session_id), media_type="application/x-ndjson")


async def _ndjson(services: Services, session_id: int) -> AsyncIterator[bytes]:
    query = text("SELECT row_to_json(d)::text FROM detection_events d WHERE d.session_id = :session_id ORDER BY d.id")
    async with services.engine.connect() as connection:
        result = await connection.stream(
            query.execution_options(yield_per=STREAM_BATCH_ROWS), {"session_id": session_id}
        )
        async for rows in result.partitions(STREAM_BATCH_ROWS):
            yield ("\n".join(row[0] for row in rows) + "\n").encode()
