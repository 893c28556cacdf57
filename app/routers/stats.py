"""Dashboard statistics: one aggregate query, cached in Redis, invalidated by every write."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import text

from app.cache import stats_key
from app.deps import IdFilter, ReadKey, ServicesDep
from app.errors import KEYED_ERRORS, error_responses
from app.schemas import Stats

router = APIRouter(prefix="/api/v1", tags=["stats"], responses=error_responses(*KEYED_ERRORS))

# One round trip: videos aggregated with FILTER, sessions, detections and top labels as scalar
# subqueries, the whole answer built as JSON by PostgreSQL.
STATS_SQL = text("""
WITH scoped_videos AS (
    SELECT * FROM videos
    WHERE project_id IN (SELECT id FROM projects WHERE tenant = :tenant)
      AND (CAST(:project_id AS bigint) IS NULL OR project_id = :project_id)
), scoped_sessions AS (
    SELECT s.id FROM test_sessions s JOIN scoped_videos v ON v.id = s.video_id
)
SELECT json_build_object(
    'videos_total', (SELECT count(*) FROM scoped_videos),
    'videos_by_status', json_build_object(
        'uploaded', (SELECT count(*) FROM scoped_videos WHERE status = 'uploaded'),
        'processing', (SELECT count(*) FROM scoped_videos WHERE status = 'processing'),
        'ready', (SELECT count(*) FROM scoped_videos WHERE status = 'ready'),
        'failed', (SELECT count(*) FROM scoped_videos WHERE status = 'failed')
    ),
    'total_duration_seconds', (SELECT coalesce(sum(duration_seconds), 0) FROM scoped_videos),
    'total_bytes', (SELECT coalesce(sum(size_bytes), 0) FROM scoped_videos),
    'sessions_total', (SELECT count(*) FROM scoped_sessions),
    'detections_total', (
        SELECT count(*) FROM detection_events d JOIN scoped_sessions s ON s.id = d.session_id
    ),
    'top_labels', (
        SELECT coalesce(json_agg(json_build_object('label', label, 'count', n) ORDER BY n DESC, label), '[]')
        FROM (
            SELECT d.label, count(*) AS n
            FROM detection_events d JOIN scoped_sessions s ON s.id = d.session_id
            GROUP BY d.label ORDER BY n DESC, d.label LIMIT 5
        ) top
    )
)::text
""")


@router.get("/stats", response_model=Stats)
async def get_stats(services: ServicesDep, principal: ReadKey, project_id: IdFilter = None) -> Response:
    """Counts for the dashboard, for all the tenant's projects or one."""
    key = stats_key(principal.tenant, project_id)
    cached = await services.stats_cache.get(key)
    if cached is None:  # only a miss touches PostgreSQL
        async with services.engine.connect() as connection:
            cached = str(
                await connection.scalar(STATS_SQL, {"project_id": project_id, "tenant": principal.tenant})
            ).encode()
        await services.stats_cache.set(key, cached)
    return Response(cached, media_type="application/json")
