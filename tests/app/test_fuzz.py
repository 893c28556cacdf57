"""The API fuzzed from its own OpenAPI document: the real server process on PostgreSQL and Redis.

Schemathesis generates requests from the document (examples, boundary coverage, random fuzzing
and stateful sequences that follow the documented links), sends them to `python -m app serve`
with a worker running, and checks every answer with every check it has. The database is seeded
with a processed video, a test session and detections, so that the reads reach real rows. The
run is bounded by MAX_EXAMPLES per operation, and by MAX_SECONDS as a whole.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from ops.localservices import free_port, wait_for_port
from tests.app.processes import run, start
from tests.app.videos import make_video

MAX_EXAMPLES = 200
MAX_SECONDS = 170
CONFIG = Path(__file__).parent / "schemathesis.toml"


@pytest.fixture
def served_api(settings: Settings) -> Iterator[str]:
    port = free_port()
    # One client sends every request, many of them without a key on purpose.
    server = start("serve", settings, PORT=port, APP_ENV="development", FAILED_AUTH_PER_MINUTE=1_000_000)
    worker = start("worker", settings, WORKER_METRICS_PORT=free_port())
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            process.wait(timeout=30)


def _seed(base_url: str, key: str, video: Path) -> None:
    """A project with a processed video, a test session over it and a few detections."""
    auth = {"X-API-Key": key}
    with httpx.Client(base_url=base_url, headers=auth, timeout=30) as client:
        project = client.post("/api/v1/projects", json={"name": "seeded"}).json()["id"]
        with video.open("rb") as handle:
            upload = client.post(
                f"/api/v1/projects/{project}/videos", files={"file": (video.name, handle, "video/mp4")}
            )
        video_id = upload.json()["id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/v1/videos/{video_id}").json()["status"] != "ready":
            assert time.monotonic() < deadline, "the seeded video was not processed"
            time.sleep(0.1)
        session = client.post("/api/v1/sessions", json={"video_id": video_id, "name": "seeded"}).json()["id"]
        event = {"frame": 1, "timestamp_ms": 100, "label": "car", "confidence": 0.9, "x": 1, "y": 2, "width": 3}
        added = client.post(f"/api/v1/sessions/{session}/detections", json={"events": [event | {"height": 4}] * 3})
        assert added.status_code == 201, added.text


def test_fuzzing_finds_no_failure(served_api: str, settings: Settings, tmp_path: Path) -> None:
    key = run(["create-key", "--name", "fuzzing"], settings).stdout.split("key: ")[1].strip()
    _seed(served_api, key, make_video(tmp_path / "clip.mp4"))
    report = tmp_path / "report.json"
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run"),
        f"{served_api}/openapi.json",
        *("--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--workers", "1", "--seed", "1"),
        *("--header", f"X-API-Key: {key}", "--report", "json", "--report-json-path", str(report)),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=MAX_SECONDS, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    summary = json.loads(report.read_text())
    # The figures of the run, shown with `pytest -s` (or -rP).
    phases = [name for name, phase in summary["phases"].items() if phase["status"] != "skip"]
    print(
        f"fuzzing: {summary['operations']['tested']} operations, {summary['test_cases']['generated']} cases,"
        f" {summary['running_time']:.0f} s, phases {', '.join(phases)}"
    )
    assert summary["test_cases"]["with_failures"] == 0
