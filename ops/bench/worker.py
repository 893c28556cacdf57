"""Worker throughput: the real Worker.process (claim, OpenCV, thumbnail, status) on 720p clips."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from app.settings import Settings
from app.worker import Worker

INSERT_VIDEO = text("""
INSERT INTO videos (project_id, filename, content_type, size_bytes, storage_key, status, attempts)
VALUES (1, :name, 'video/mp4', :size, :key, 'uploaded', 0) RETURNING id
""")


@dataclass(frozen=True)
class WorkerThroughput:
    clips: int
    seconds: float

    @property
    def clips_per_second(self) -> float:
        return self.clips / self.seconds


async def worker_throughput(settings: Settings, clips: list[Path]) -> WorkerThroughput:
    worker = Worker(settings)
    ids = []
    try:
        async with worker.engine.begin() as connection:
            for number, clip in enumerate(clips):
                key = f"bench/{number}/{clip.name}"
                target = settings.storage_path / key
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(clip, target)
                params = {"name": clip.name, "size": clip.stat().st_size, "key": key}
                ids.append((await connection.execute(INSERT_VIDEO, params)).scalar_one())
        started = time.perf_counter()
        for video_id in ids:
            await worker.process(video_id)
        elapsed = time.perf_counter() - started
        async with worker.engine.connect() as connection:
            ready = await connection.scalar(
                text("SELECT count(*) FROM videos WHERE id = ANY(:ids) AND status = 'ready'"), {"ids": ids}
            )
        if ready != len(ids):
            raise RuntimeError(f"only {ready} of {len(ids)} bench clips were processed")
        return WorkerThroughput(len(ids), elapsed)
    finally:
        await worker.redis.aclose()
        await worker.engine.dispose()
