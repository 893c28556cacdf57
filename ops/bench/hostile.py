"""What hostile inputs cost: a video with 12000x12000 frames and a 200 MiB JSON body, both refused.

Each is measured as the peak resident memory of the process that refuses it (the API at upload,
the worker for a stored video that an older release accepted), against its memory before.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import redis

from app.jobqueue import QUEUE_KEY
from ops.localservices import Postgres

HUGE_SIDE = 12_000
JSON_BODY_MIB = 200


def huge_frames_video(path: Path) -> Path:
    """Two black 12000x12000 MJPEG frames: about 2 MB on disk, about 1 GB for one decoded frame."""
    if not path.exists():
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (HUGE_SIDE, HUGE_SIDE))
        frame = np.zeros((HUGE_SIDE, HUGE_SIDE, 3), np.uint8)
        for _ in range(2):
            writer.write(frame)
        writer.release()
    return path


def refused_upload(base: str, key: str, path: Path) -> int:
    with path.open("rb") as handle, httpx.Client(base_url=base, timeout=300) as http:
        project = http.post("/api/v1/projects", json={"name": "hostile"}, headers={"X-API-Key": key}).json()
        response = http.post(
            f"/api/v1/projects/{project['id']}/videos",
            files={"file": (path.name, handle, "video/x-msvideo")},
            headers={"X-API-Key": key},
        )
    if response.status_code != 415:
        raise RuntimeError(f"the 12000x12000 video was answered {response.status_code}, expected 415")
    return response.status_code


def refused_json_body(base: str, key: str, session_id: int) -> int:
    """A detections body of JSON_BODY_MIB MiB, streamed without a Content-Length."""

    def body() -> Iterator[bytes]:
        event = b'{"frame": 1, "timestamp_ms": 1, "label": "car", "confidence": 0.5, "x": 1, "y": 1, "width": 1},'
        chunk = event * (1024 * 1024 // len(event))
        yield b'{"events": ['
        for _ in range(JSON_BODY_MIB):
            yield chunk

    with httpx.Client(base_url=base, timeout=300) as http:
        try:
            response = http.post(
                f"/api/v1/sessions/{session_id}/detections",
                content=body(),
                headers={"X-API-Key": key, "Content-Type": "application/json"},
            )
        except httpx.HTTPError:  # the server answered 413 and closed while the body was still being sent
            return 413
    if response.status_code != 413:
        raise RuntimeError(f"the {JSON_BODY_MIB} MiB body was answered {response.status_code}, expected 413")
    return response.status_code


def stored_huge_video(postgres: Postgres, storage: Path, source: Path) -> int:
    """The video as an older release with wider limits would have stored it: a row and a file."""
    key = "videos/hostile/original.avi"
    (storage / key).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, storage / key)
    size = source.stat().st_size
    insert = (
        "INSERT INTO videos (project_id, filename, content_type, size_bytes, storage_key, status, attempts)"  # noqa: S608
        f" SELECT min(id), 'huge.avi', 'video/x-msvideo', {size}, '{key}', 'uploaded', 0 FROM projects RETURNING id"
    )
    row = postgres.psql(insert, database=postgres.database)
    return int(row.split()[0])


def worker_refuses(postgres: Postgres, redis_url: str, video_id: int, timeout: float = 120) -> str:
    """Queue the video and wait until the worker marks it failed; return the reason."""
    client = redis.Redis.from_url(redis_url)
    try:
        client.lpush(QUEUE_KEY, video_id)
    finally:
        client.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, reason = postgres.psql(
            f"SELECT status || '|' || coalesce(failure_reason, '') FROM videos WHERE id = {int(video_id)}",  # noqa: S608
            database=postgres.database,
        ).partition("|")
        if status.strip() == "failed":
            return reason.strip()
        if status.strip() == "ready":
            raise RuntimeError("the worker decoded the 12000x12000 video")
        time.sleep(0.1)
    raise RuntimeError("the worker did not refuse the 12000x12000 video in time")
