"""Test sessions over a video, and their detection events: bulk ingest, pages, NDJSON stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Exists, bindparam, insert, literal_column, select, text

from app.cache import stats_key
from app.deps import CursorParam, IdFilter, IdPath, ReadKey, ServicesDep, SessionDep, TextFilter, WriteKey
from app.errors import BODY_ERRORS, KEYED_ERRORS, ApiError, error_responses, links
from app.models import DetectionEvent, Project, TestSession, Video
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
from app.tenancy import owned_session, owned_video, tenant_videos

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
async def create_session(body: SessionCreate, session: SessionDep, services: ServicesDep, key: WriteKey) -> SessionOut:
    """Start a test session over a video."""
    video = await owned_video(session, key.tenant, body.video_id)
    row = TestSession(video_id=body.video_id, name=body.name)
    session.add(row)
    await session.commit()
    await services.stats_cache.invalidate(stats_key(key.tenant, None), stats_key(key.tenant, video.project_id))
    return SessionOut.model_validate(row)


@router.get("", response_model=Page[SessionOut])
async def list_sessions(
    key: ReadKey,  # before the connection: refused requests never take one from the pool
    services: ServicesDep,
    video_id: IdFilter = None,
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Response:
    """List test sessions, newest first."""
    after = parse_cursor(cursor)
    statement = _sessions_page(video_id is not None, after is not None)
    params = {"video_id": video_id, "after": after, "tenant": key.tenant}
    page, _ = await json_page(services.reads, statement, params, limit)
    return Response(page, media_type="application/json")


@lru_cache
def _sessions_page(by_video: bool, after: bool) -> CompiledQuery:
    rows = (
        select(*json_columns(TestSession.__table__.columns))
        .where(TestSession.video_id.in_(tenant_videos()))
        .order_by(TestSession.id.desc())
        .limit(bindparam("limit"))
    )
    if by_video:
        rows = rows.where(TestSession.video_id == bindparam("video_id"))
    if after:
        rows = rows.where(TestSession.id < bindparam("after"))
    return page_statement(rows, descending=True)


@router.get("/{session_id}", responses=error_responses(404))
async def get_session(session_id: IdPath, session: SessionDep, key: ReadKey) -> SessionOut:
    """One test session."""
    test_session, _ = await owned_session(session, key.tenant, session_id)
    return SessionOut.model_validate(test_session)


@router.post(
    "/{session_id}/detections",
    status_code=201,
    responses=error_responses(*BODY_ERRORS, 404),
)
async def ingest_detections(
    session_id: IdPath, body: DetectionBatch, session: SessionDep, services: ServicesDep, key: WriteKey
) -> DetectionsInserted:
    """Record up to 10,000 detection events in one request (all or none)."""
    _, project_id = await owned_session(session, key.tenant, session_id)
    rows = [{"session_id": session_id, **event.model_dump()} for event in body.events]
    await session.execute(insert(DetectionEvent), rows)
    await session.commit()
    await services.stats_cache.invalidate(stats_key(key.tenant, None), stats_key(key.tenant, project_id))
    return DetectionsInserted(inserted=len(rows))


@router.get("/{session_id}/detections", response_model=Page[DetectionOut], responses=error_responses(404))
async def list_detections(  # noqa: PLR0917 - FastAPI passes query parameters as arguments
    session_id: IdPath,
    key: ReadKey,  # before the connection: refused requests never take one from the pool
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
    page, count = await json_page(services.reads, statement, params | {"tenant": key.tenant}, limit)
    if count == 0:  # only an empty page needs to tell "no such session" from "no events"
        await require_session(services.reads, key.tenant, session_id)
    return Response(page, media_type="application/json")


def _owns_session() -> Exists:
    """The tenant bound as `tenant` owns the session bound as `session_id`."""
    return (
        select(TestSession.id)
        .join(Video, Video.id == TestSession.video_id)
        .join(Project, Project.id == Video.project_id)
        .where(TestSession.id == bindparam("session_id"), Project.tenant == bindparam("tenant"))
        .exists()
    )


_SESSION_OWNED = CompiledQuery.of(select(literal_column("1")).where(_owns_session()))


async def require_session(reads: ReadPool, tenant: str, session_id: int) -> None:
    """Raise the 404 of a session that does not exist or is another tenant's."""
    if (
        await reads.fetchrow(_SESSION_OWNED.sql, *_SESSION_OWNED.args({"session_id": session_id, "tenant": tenant}))
        is None
    ):
        raise ApiError(404, f"test session {session_id} does not exist")


@lru_cache
def detections_page(by_label: bool, by_confidence: bool, after: bool) -> CompiledQuery:
    rows = (
        select(DetectionEvent)
        .where(DetectionEvent.session_id == bindparam("session_id"), _owns_session())
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
    session_id: IdPath, session: SessionDep, services: ServicesDep, key: ReadKey
) -> StreamingResponse:
    """Every detection event of a session as NDJSON (one JSON object per line), streamed from a
    server-side cursor so memory stays flat however many events there are."""
    await owned_session(session, key.tenant, session_id)
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
