"""The real commands under signals: the worker killed mid-job or stopped, the API drained."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from app.settings import Settings
from ops.localservices import Postgres, free_port, wait_for_port
from tests.app.helpers import create_project, upload, wait_for_status
from tests.app.processes import start
from tests.app.videos import make_video


def statuses(postgres: Postgres) -> dict[int, tuple[str, int]]:
    rows = postgres.psql("SELECT id, status, attempts FROM videos ORDER BY id", database=postgres.database)
    return {int(i): (s, int(a)) for i, s, a in (line.split("|") for line in rows.splitlines())}


async def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.to_thread(process.wait, timeout)


async def test_worker_killed_mid_job_loses_no_upload(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings, migrated: Postgres, tmp_path: Path
) -> None:
    clip = make_video(tmp_path / "clip.avi", codec="XVID", width=640, height=360, frames=60)
    project = await create_project(client, auth)
    ids = [(await upload(client, auth, project, clip)).json()["id"] for _ in range(12)]

    # The production lease and sweep interval: the orphan waits for its lease to run out.
    defaults = {"JOB_LEASE_SECONDS": 30, "SWEEP_INTERVAL_SECONDS": 15}
    first = start("worker", settings, WORKER_METRICS_PORT=free_port(), **defaults)
    try:
        for _ in range(2000):  # bounded: freeze the worker until it is caught holding a job, then kill -9
            first.send_signal(signal.SIGSTOP)
            if any(status == "processing" for status, _ in statuses(migrated).values()):
                break
            first.send_signal(signal.SIGCONT)
            await asyncio.sleep(0.01)
        first.kill()
        first.wait(timeout=10)
        killed_at = time.monotonic()
    finally:
        if first.poll() is None:
            first.kill()
    orphaned = [video for video, (status, _) in statuses(migrated).items() if status == "processing"]
    assert orphaned, "the worker was not killed mid-job"

    second = start("worker", settings, WORKER_METRICS_PORT=free_port(), **defaults)
    try:
        for video_id in ids:
            assert (await wait_for_status(client, auth, video_id, {"ready", "failed"}, timeout=90))["status"] == "ready"
        assert time.monotonic() - killed_at < 60, "the killed worker's job was not reclaimed within 60 s"
        assert all(statuses(migrated)[video][1] == 2 for video in orphaned)  # claimed again after the kill
        assert await stop(second) == 0
    finally:
        if second.poll() is None:
            second.kill()


async def test_worker_exits_0_on_sigterm(settings: Settings) -> None:
    port = free_port()
    worker = start("worker", settings, WORKER_METRICS_PORT=port)
    try:
        await asyncio.to_thread(wait_for_port, port)
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        assert "video_queue_depth" in metrics
        assert "worker_busy" in metrics
        assert await stop(worker) == 0
    finally:
        if worker.poll() is None:
            worker.kill()


async def slow_upload_body(clip: bytes) -> AsyncIterator[bytes]:
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="slow.mp4"\r\n\r\n'
    step = max(1, len(clip) // 10)
    for offset in range(0, len(clip), step):
        await asyncio.sleep(0.2)
        yield clip[offset : offset + step]
    yield b"\r\n--b--\r\n"


async def test_api_drains_on_sigterm_and_finishes_in_flight_requests(
    settings: Settings, auth: dict[str, str], video_file: Path
) -> None:
    port = free_port()
    api = start("serve", settings, PORT=port, SHUTDOWN_DRAIN_SECONDS=1.5)
    try:
        await asyncio.to_thread(wait_for_port, port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            project = (await http.post("/api/v1/projects", json={"name": "p"}, headers=auth)).json()["id"]
            in_flight = asyncio.create_task(
                http.post(
                    f"/api/v1/projects/{project}/videos",
                    content=slow_upload_body(video_file.read_bytes()),
                    headers=auth | {"content-type": "multipart/form-data; boundary=b"},
                )
            )
            await asyncio.sleep(0.5)
            api.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.2)
            ready = await http.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["status"] == "draining"
            assert (await in_flight).status_code == 202  # finished although SIGTERM came mid-upload
        assert await asyncio.to_thread(api.wait, 30) == 0
    finally:
        if api.poll() is None:
            api.kill()
