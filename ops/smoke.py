"""Smoke test of a deployed environment, through nginx over TLS, as a client would use it.

Creates an API key with the app's own CLI on an app host, uploads a generated video, waits
until the worker has processed it, lists it and reads the stats. `python -m ops.smoke --env NAME`.
"""

from __future__ import annotations

import argparse
import ssl
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from ops.errors import OpsError
from ops.fleet.ssh import run_on
from ops.fleet.state import EnvPaths, FleetState

READY_TIMEOUT_SECONDS = 120.0


def make_clip(path: Path, frames: int = 30) -> Path:
    """A small MPEG-4 clip with moving content, made with OpenCV (as the app reads it)."""
    import cv2  # noqa: PLC0415 - heavy; only the smoke test needs it
    import numpy as np  # noqa: PLC0415

    width, height = 160, 120
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (width, height))
    gradient = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
    for index in range(frames):
        frame = cv2.cvtColor(gradient, cv2.COLOR_GRAY2BGR)
        x = (index * 5) % (width - 20)
        cv2.rectangle(frame, (x, 40), (x + 20, 60), (0, 0, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def create_api_key(env: str, host: str = "app1", name: str = "") -> str:
    """Create an API key with `python -m app create-key` inside the host's running API container."""
    step = "create an API key"
    containers = run_on(
        env, host, ["docker", "ps", "--filter", "label=slipway.role=api", "--format", "{{.Names}}"], step=step
    ).split()
    if not containers:
        raise OpsError(
            "no API container runs",
            host=host,
            step=step,
            fix="run site.yml again (./deploy.sh up ENV) and read the app role's output",
        )
    key_name = name or f"smoke-{int(time.time())}"
    out = run_on(
        env, host, ["docker", "exec", containers[0], "python", "-m", "app", "create-key", "--name", key_name], step=step
    )
    for line in out.splitlines():
        if line.startswith("key: "):
            return line.removeprefix("key: ").strip()
    raise OpsError("create-key printed no key", host=host, step=step, detail=out, fix="check the app's CLI")


@dataclass(frozen=True)
class SmokeResult:
    video_id: int
    processing_seconds: float
    videos_total: int


def _expect(response: httpx.Response, status: int, step: str) -> httpx.Response:
    if response.status_code != status:
        raise OpsError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}, not {status}",
            host="lb",
            step=step,
            detail=response.text[:500],
            fix="read nginx's error log on lb and the API's logs on the app hosts (journalctl, docker logs)",
        )
    return response


def smoke_client(base_url: str, ca_file: Path, api_key: str = "") -> httpx.Client:
    headers = {"X-API-Key": api_key} if api_key else {}
    tls = ssl.create_default_context(cafile=str(ca_file))  # httpx deprecates `verify=<path>`
    return httpx.Client(base_url=base_url, verify=tls, headers=headers, timeout=30)


def run_smoke(base_url: str, ca_file: Path, api_key: str, progress: Callable[[str], None] = print) -> SmokeResult:
    """The smoke path; raises an OpsError naming the failing request."""
    try:
        with smoke_client(base_url, ca_file, api_key) as client, tempfile.TemporaryDirectory() as tmp:
            _expect(client.get("/health/ready"), 200, "readiness through nginx")
            project = _expect(client.post("/api/v1/projects", json={"name": "smoke"}), 201, "create a project").json()
            clip = make_clip(Path(tmp) / "smoke.mp4")
            with clip.open("rb") as body:
                files = {"file": ("smoke.mp4", body, "video/mp4")}
                accepted = _expect(client.post(f"/api/v1/projects/{project['id']}/videos", files=files), 202, "upload")
            video_id = int(accepted.json()["id"])
            progress(f"   uploaded video {video_id}, waiting for the worker")
            started = time.monotonic()
            video: dict[str, object] = {}
            while time.monotonic() - started < READY_TIMEOUT_SECONDS:
                video = _expect(client.get(f"/api/v1/videos/{video_id}"), 200, "read the video").json()
                if video["status"] in ("ready", "failed"):
                    break
                time.sleep(1)
            if video.get("status") != "ready":
                raise OpsError(
                    f"video {video_id} is {video.get('status')!r} after {READY_TIMEOUT_SECONDS:.0f}s, not ready",
                    host="app1",
                    step="video processing",
                    detail=str(video.get("failure_reason") or video),
                    fix="read the worker's logs on the app hosts: journalctl -u slipway-worker",
                )
            processing = time.monotonic() - started
            listed = _expect(client.get("/api/v1/videos", params={"project_id": project["id"]}), 200, "list").json()
            if video_id not in [item["id"] for item in listed["items"]]:
                raise OpsError(
                    f"video {video_id} is missing from the list", host="lb", step="list videos", fix="check the API"
                )
            stats = _expect(client.get("/api/v1/stats"), 200, "read the stats").json()
    except httpx.HTTPError as error:
        raise OpsError(
            f"cannot reach the API at {base_url}: {error}",
            host="lb",
            step="smoke test",
            fix="check that nginx runs on lb and its port is published (python -m ops.fleet status)",
        ) from error
    return SmokeResult(video_id, processing, int(stats["videos_total"]))


def smoke_env(env: str, progress: Callable[[str], None] = print) -> SmokeResult:
    """Smoke-test a fleet environment: key from app1, requests to the lb's published 443."""
    paths = EnvPaths.for_env(env)
    state = FleetState.load(paths)
    if state is None:
        raise OpsError(
            f"environment {env} does not exist", step="smoke test", fix=f"create it first: ./deploy.sh up {env}"
        )
    api_key = create_api_key(env)
    return run_smoke(f"https://127.0.0.1:{state.https_port}", paths.ca_cert, api_key, progress)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.smoke", description=__doc__)
    parser.add_argument("--env", required=True)
    args = parser.parse_args(argv)
    try:
        result = smoke_env(args.env)
    except OpsError as error:
        print(error.render(), file=sys.stderr)
        return 1
    print(f"smoke ok: video {result.video_id} ready in {result.processing_seconds:.1f}s, {result.videos_total} videos")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
