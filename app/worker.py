"""`python -m app worker`: processes uploaded videos; also runs the sweeper.

PostgreSQL holds every job's state; Redis only carries video ids to wake workers. A job is
claimed with a conditional UPDATE (uploaded -> processing), so a duplicate queue entry is
harmless, and a heartbeat renews the job's lease (JOB_LEASE_SECONDS) while it runs. The sweeper puts back on the queue
whatever the queue lost (Redis restarted, a worker killed mid-job), so no accepted upload is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import tempfile
from pathlib import Path

from prometheus_client import start_http_server
from redis.exceptions import RedisError
from sqlalchemy import text

from app.cache import ResponseCache, stats_key
from app.db import create_engine
from app.jobqueue import JobQueue
from app.logs import configure_logging
from app.metrics import (
    APP_INFO,
    PROCESSING_DURATION,
    QUEUE_DEPTH,
    REGISTRY,
    SWEEPER_REQUEUED,
    WORKER_BUSY,
    WORKER_JOBS,
    set_build_info,
)
from app.redis_client import Breaker, create_redis
from app.settings import Settings
from app.storage import create_storage
from app.video import VideoError, VideoLimits, extract

log = logging.getLogger(__name__)

POP_TIMEOUT_SECONDS = 1.0
SWEEPER_LOCK_ID = 0x5113_7A2  # one sweeper at a time across all workers

CLAIM = text("""
UPDATE videos SET status = 'processing', attempts = attempts + 1, updated_at = now()
WHERE id = :id AND status = 'uploaded'
RETURNING storage_key, project_id, (SELECT tenant FROM projects WHERE projects.id = videos.project_id)
""")
HEARTBEAT = text("UPDATE videos SET updated_at = now() WHERE id = :id AND status = 'processing'")
MARK_READY = text("""
UPDATE videos SET status = 'ready', failure_reason = NULL, updated_at = now(),
    fps = :fps, frame_count = :frame_count, duration_seconds = :duration_seconds,
    width = :width, height = :height, codec = :codec, thumbnail_key = :thumbnail_key
WHERE id = :id AND status = 'processing'
""")
MARK_FAILED = text("""
UPDATE videos SET status = 'failed', failure_reason = :reason, updated_at = now()
WHERE id = :id AND status = 'processing'
""")
HAND_BACK = text("""
UPDATE videos SET status = 'uploaded', updated_at = now() WHERE id = :id AND status = 'processing'
""")
SWEEP_STALE = text("""
UPDATE videos SET status = 'uploaded', updated_at = now()
WHERE status = 'processing' AND updated_at < now() - make_interval(secs => :stuck) AND attempts < :max_attempts
RETURNING id
""")
SWEEP_GIVE_UP = text("""
UPDATE videos SET status = 'failed', updated_at = now(),
    failure_reason = 'processing did not finish after ' || attempts || ' attempts'
WHERE status = 'processing' AND updated_at < now() - make_interval(secs => :stuck) AND attempts >= :max_attempts
""")
SWEEP_UNQUEUED = text("""
UPDATE videos SET updated_at = now()
WHERE id IN (
    SELECT id FROM videos WHERE status = 'uploaded' AND updated_at < now() - make_interval(secs => :stuck)
    ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED
)
RETURNING id
""")


class Worker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        # BRPOP blocks for POP_TIMEOUT_SECONDS, so reads need a longer socket timeout than the API's.
        self.redis = create_redis(settings, socket_timeout=POP_TIMEOUT_SECONDS + 5)
        breaker = Breaker()
        self.queue = JobQueue(self.redis, breaker)
        self.cache = ResponseCache(self.redis, breaker, "stats", settings.stats_cache_seconds)
        self.storage = create_storage(settings)
        self.stopping = asyncio.Event()
        self.current: set[int] = set()

    def stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stopping: finishing the current job, taking no new ones")
        self.stopping.set()

    async def run(self, handle_signals: bool = True, serve_metrics: bool = False) -> None:
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop)
        if serve_metrics:  # after the handlers: an open metrics port means SIGTERM is handled
            start_http_server(self.settings.worker_metrics_port, registry=REGISTRY)
        consumers = [asyncio.create_task(self._consume()) for _ in range(self.settings.worker_concurrency)]
        background = [asyncio.create_task(self._sweep_forever()), asyncio.create_task(self._watch_queue())]
        await self.stopping.wait()
        _, unfinished = await asyncio.wait(consumers, timeout=self.settings.shutdown_grace_seconds)
        for task in (*unfinished, *background):
            task.cancel()
        # Bounded: a cancellation that lands inside a Redis command may be swallowed by the client.
        await asyncio.wait([*unfinished, *background], timeout=5)
        await self._hand_back(list(self.current))
        await self.redis.aclose()
        await self.engine.dispose()
        log.info("stopped")

    async def _consume(self) -> None:
        while not self.stopping.is_set():
            try:
                video_id = await self.queue.pop(POP_TIMEOUT_SECONDS)
            except (RedisError, OSError) as exc:
                log.warning("queue unavailable (%s); retrying", exc.__class__.__name__)
                await asyncio.sleep(1)
                continue
            if video_id is not None:
                await self.process(video_id)

    async def process(self, video_id: int) -> None:
        async with self.engine.begin() as connection:
            claimed = (await connection.execute(CLAIM, {"id": video_id})).first()
        if claimed is None:
            return  # already processed, deleted, or claimed by another worker
        storage_key, project_id, tenant = claimed
        self.current.add(video_id)
        WORKER_BUSY.set(1)
        heartbeat = asyncio.create_task(self._heartbeat(video_id))
        try:
            with PROCESSING_DURATION.time():
                result = await self._extract(video_id, storage_key)
            if result is None:
                return
            async with self.engine.begin() as connection:
                marked = await connection.execute(MARK_READY, {"id": video_id, **result})
            if not marked.rowcount:  # deleted while it was processed: leave no thumbnail behind
                await asyncio.to_thread(self.storage.delete, str(result["thumbnail_key"]))
                return
            WORKER_JOBS.labels("ready").inc()
            log.info("video ready", extra={"video_id": video_id})
        except VideoError as exc:
            async with self.engine.begin() as connection:
                await connection.execute(MARK_FAILED, {"id": video_id, "reason": str(exc)})
            WORKER_JOBS.labels("failed").inc()
            log.info("video failed", extra={"video_id": video_id, "reason": str(exc)})
        except Exception:
            log.exception("job interrupted; handing it back", extra={"video_id": video_id})
            await self._hand_back([video_id])
        finally:
            heartbeat.cancel()
            self.current.discard(video_id)
            WORKER_BUSY.set(1 if self.current else 0)
            await self.cache.invalidate(stats_key(tenant, None), stats_key(tenant, project_id))

    async def _extract(self, video_id: int, storage_key: str) -> dict[str, object] | None:
        path = self.storage.local_path(storage_key)
        with tempfile.TemporaryDirectory(prefix="slipway-job-") as scratch:
            if path is None:
                path = Path(scratch) / "video"
                await asyncio.to_thread(self.storage.download, storage_key, path)
            elif not path.exists():
                raise VideoError("the stored file is missing")
            try:
                async with asyncio.timeout(self.settings.job_timeout_seconds):
                    metadata, thumbnail = await asyncio.to_thread(extract, path, VideoLimits.of(self.settings))
            except TimeoutError as exc:
                raise VideoError(f"processing took longer than {self.settings.job_timeout_seconds} s") from exc
        thumbnail_key = f"videos/{video_id}/thumbnail.jpg"
        await asyncio.to_thread(self.storage.put_bytes, thumbnail_key, thumbnail, "image/jpeg")
        return {**metadata.__dict__, "thumbnail_key": thumbnail_key}

    async def _heartbeat(self, video_id: int) -> None:
        interval = max(1.0, self.settings.job_lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            async with self.engine.begin() as connection:
                await connection.execute(HEARTBEAT, {"id": video_id})

    async def _hand_back(self, video_ids: list[int]) -> None:
        for video_id in video_ids:
            try:
                async with self.engine.begin() as connection:
                    await connection.execute(HAND_BACK, {"id": video_id})
                await self.queue.push(video_id)
                WORKER_JOBS.labels("requeued").inc()
            except Exception:
                log.warning("could not hand back video %s; the sweeper will", video_id)

    async def sweep(self) -> int:
        """Re-queue stuck videos once; returns how many were queued."""
        params = {"stuck": self.settings.job_lease_seconds, "max_attempts": self.settings.max_job_attempts}
        async with self.engine.begin() as connection:
            locked = await connection.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": SWEEPER_LOCK_ID})
            if not locked:
                return 0
            stale = [row[0] for row in await connection.execute(SWEEP_STALE, params)]
            await connection.execute(SWEEP_GIVE_UP, params)
            unqueued = [
                row[0]
                for row in await connection.execute(SWEEP_UNQUEUED, {"stuck": self.settings.sweep_stuck_after_seconds})
            ]
        ids = stale + unqueued
        if ids and await self.queue.push(*ids):
            SWEEPER_REQUEUED.inc(len(ids))
            log.info("sweeper re-queued %d videos", len(ids))
        return len(ids)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:
                log.warning("sweep failed: %s", exc.__class__.__name__)
            await asyncio.sleep(self.settings.sweep_interval_seconds)

    async def _watch_queue(self) -> None:
        while True:
            with contextlib.suppress(RedisError, OSError):
                QUEUE_DEPTH.set(await self.queue.depth())
            await asyncio.sleep(5)


def run_worker(settings: Settings) -> None:
    configure_logging(settings.log_level, "worker")
    APP_INFO.labels(settings.app_version).set(1)
    set_build_info(settings.slipway_version, settings.slipway_slot)
    for result in ("ready", "failed", "requeued"):
        WORKER_JOBS.labels(result)
    asyncio.run(Worker(settings).run(serve_metrics=True))
