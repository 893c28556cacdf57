"""Videos: streaming upload, list, get, thumbnail, delete."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import PurePath
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import bindparam, delete, select

from app.cache import stats_key
from app.deps import AdminKey, CursorParam, IdFilter, IdPath, ReadKey, ServicesDep, SessionDep, WriteKey
from app.errors import KEYED_ERRORS, ApiError, error_responses, links
from app.models import Video, VideoStatus
from app.pagination import MAX_LIMIT, CompiledQuery, json_columns, json_page, page_statement, parse_cursor
from app.schemas import Page, VideoAccepted, VideoOut
from app.tenancy import owned_project, owned_video, tenant_projects
from app.uploads import receive_upload
from app.video import VideoError, VideoLimits, probe

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["videos"], responses=error_responses(*KEYED_ERRORS))


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary", "description": "The video"}},
            }
        }
    },
}


@router.post(
    "/projects/{project_id}/videos",
    status_code=202,
    responses=error_responses(400, 404, 413, 415)
    | links(
        202,
        GetVideo=("get", "/api/v1/videos/{video_id}", {"video_id": "$response.body#/id"}),
        GetThumbnail=("get", "/api/v1/videos/{video_id}/thumbnail", {"video_id": "$response.body#/id"}),
        DeleteVideo=("delete", "/api/v1/videos/{video_id}", {"video_id": "$response.body#/id"}),
    ),
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload_video(
    project_id: IdPath, request: Request, session: SessionDep, services: ServicesDep, key: WriteKey
) -> VideoAccepted:
    """Upload a video as multipart/form-data (part `file`). Answers 202 at once; a worker
    extracts metadata and a thumbnail, and the video's status moves to `ready` or `failed`."""
    await owned_project(session, key.tenant, project_id)
    await session.rollback()  # do not hold a connection while the body streams in

    received = await receive_upload(request, services.spool_dir, services.settings.max_upload_bytes)
    try:
        try:
            await anyio.to_thread.run_sync(probe, received.path, VideoLimits.of(services.settings))
        except VideoError as exc:
            raise ApiError(415, f"{received.filename}: {exc}", code="unsupported_video") from exc

        video = Video(
            project_id=project_id,
            filename=received.filename,
            content_type=received.content_type,
            size_bytes=received.size,
            storage_key="",
            status=VideoStatus.uploaded,
        )
        session.add(video)
        await session.flush()
        video.storage_key = f"videos/{video.id}/original{_extension(received.filename)}"
        await anyio.to_thread.run_sync(
            services.storage.put_file, video.storage_key, received.path, received.content_type
        )
        await session.commit()
    finally:
        received.path.unlink(missing_ok=True)

    # Both may fail with Redis down; the sweeper queues the video later and the cache expires.
    await services.queue.push(video.id)
    await services.stats_cache.invalidate(stats_key(key.tenant, None), stats_key(key.tenant, project_id))
    log.info("video accepted", extra={"video_id": video.id, "size_bytes": received.size})
    return VideoAccepted(id=video.id, status=VideoStatus.uploaded)


def _extension(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    return suffix if suffix.isascii() and suffix[1:].isalnum() and len(suffix) <= 6 else ""


@router.get("/videos", response_model=Page[VideoOut])
async def list_videos(  # noqa: PLR0917 - FastAPI passes query parameters as arguments
    key: ReadKey,  # before the connection: refused requests never take one from the pool
    services: ServicesDep,
    project_id: IdFilter = None,
    status: VideoStatus | None = None,
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Response:
    """List videos, newest first, optionally of one project and/or in one status."""
    after = parse_cursor(cursor)
    statement = videos_page(project_id is not None, status is not None, after is not None)
    params = {"project_id": project_id, "status": status, "after": after, "tenant": key.tenant}
    page, _ = await json_page(services.reads, statement, params, limit)
    return Response(page, media_type="application/json")


@lru_cache
def videos_page(by_project: bool, by_status: bool, after: bool) -> CompiledQuery:
    columns = json_columns(getattr(Video, name) for name in VideoOut.model_fields)
    rows = (
        select(*columns)
        .where(Video.project_id.in_(tenant_projects()))
        .order_by(Video.id.desc())
        .limit(bindparam("limit"))
    )
    if by_project:
        rows = rows.where(Video.project_id == bindparam("project_id"))
    if by_status:
        rows = rows.where(Video.status == bindparam("status"))
    if after:
        rows = rows.where(Video.id < bindparam("after"))
    return page_statement(rows, descending=True)


@router.get("/videos/{video_id}", responses=error_responses(404))
async def get_video(video_id: IdPath, key: ReadKey, services: ServicesDep) -> VideoOut:
    """One video with its processing status and, once ready, its metadata."""
    row = await services.reads.fetchrow(_VIDEO_BY_ID.sql, *_VIDEO_BY_ID.args({"id": video_id, "tenant": key.tenant}))
    if row is None:
        raise ApiError(404, f"video {video_id} does not exist")
    return VideoOut.model_validate(dict(row))


_VIDEO_BY_ID = CompiledQuery.of(
    select(*[getattr(Video, name) for name in VideoOut.model_fields]).where(
        Video.id == bindparam("id"), Video.project_id.in_(tenant_projects())
    )
)


@router.get(
    "/videos/{video_id}/thumbnail",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"image/jpeg": {}}},
        **error_responses(404, 409),
    },
)
async def get_thumbnail(video_id: IdPath, session: SessionDep, services: ServicesDep, key: ReadKey) -> Response:
    """The video's JPEG thumbnail (320 px wide), once the video is ready."""
    video = await owned_video(session, key.tenant, video_id)
    if video.status != VideoStatus.ready or not video.thumbnail_key:
        raise ApiError(409, f"video {video_id} has no thumbnail yet (status: {video.status.value})")
    try:
        data = await anyio.to_thread.run_sync(services.storage.read_bytes, video.thumbnail_key)
    except FileNotFoundError as exc:
        log.error("thumbnail missing from storage", extra={"video_id": video_id, "key": video.thumbnail_key})
        raise ApiError(404, f"the thumbnail of video {video_id} is missing from storage") from exc
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.delete("/videos/{video_id}", status_code=204, responses=error_responses(404))
async def delete_video(video_id: IdPath, session: SessionDep, services: ServicesDep, key: AdminKey) -> None:
    """Delete a video, its thumbnail, its test sessions and their detections."""
    video = await owned_video(session, key.tenant, video_id)
    keys = [key for key in (video.storage_key, video.thumbnail_key) if key]
    await session.execute(delete(Video).where(Video.id == video_id))
    await session.commit()
    for storage_key in keys:  # after the commit: a failed delete leaves an orphan file, never a dangling row
        await anyio.to_thread.run_sync(services.storage.delete, storage_key)
    await services.stats_cache.invalidate(stats_key(key.tenant, None), stats_key(key.tenant, video.project_id))
