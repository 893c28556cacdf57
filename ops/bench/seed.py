"""Bench data, generated inside PostgreSQL: 10,000 videos and a session with 200,000 detections."""

from __future__ import annotations

from ops.localservices import Postgres

VIDEOS = 10_000
DETECTIONS = 200_000
PROJECTS = 20
BENCH_SESSION_ID = 1

SEED_SQL = f"""
INSERT INTO projects (name, description) SELECT 'project ' || g, '' FROM generate_series(1, {PROJECTS}) g;
INSERT INTO videos (project_id, filename, content_type, size_bytes, storage_key, status, attempts,
                    fps, frame_count, duration_seconds, width, height, codec, thumbnail_key)
SELECT 1 + g % {PROJECTS}, 'clip-' || g || '.mp4', 'video/mp4', 1000000 + g, 'videos/' || g || '/original.mp4',
       (ARRAY['ready', 'ready', 'ready', 'failed', 'uploaded'])[1 + g % 5]::video_status, 1,
       30, 300, 10, 1280, 720, 'mp4v', 'videos/' || g || '/thumbnail.jpg'
FROM generate_series(1, {VIDEOS}) g;
INSERT INTO test_sessions (video_id, name) VALUES (1, 'bench');
INSERT INTO detection_events (session_id, frame, timestamp_ms, label, confidence, x, y, width, height)
SELECT {BENCH_SESSION_ID}, g, g * 33, (ARRAY['car', 'person', 'bike', 'dog', 'truck'])[1 + g % 5],
       (g % 100) / 100.0, g % 1280, g % 720, 40, 80
FROM generate_series(1, {DETECTIONS}) g;
"""  # noqa: S608 - only this module's own constants are interpolated


def seed(postgres: Postgres) -> None:
    postgres.psql(SEED_SQL, database=postgres.database)
    # Vacuumed now, as any table is soon after a bulk load, rather than by autovacuum in the
    # middle of a measurement (it wakes up about a minute after the inserts). VACUUM cannot run
    # inside the transaction a multi-statement psql -c makes, hence its own call.
    postgres.psql("VACUUM (ANALYZE)", database=postgres.database)
