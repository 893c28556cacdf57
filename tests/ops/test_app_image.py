"""The API image, built from app/Dockerfile and run the way the fleet runs it: read-only root,
tmpfs /tmp, no capabilities, uid 10001, against real PostgreSQL and Redis."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ops import images
from ops.docker_engine import ensure_engine
from ops.localservices import Postgres, Redis, free_port
from tests.app.videos import make_video

pytestmark = pytest.mark.docker

PREFIX = "slipway-test-appimage"
SECRET = "image-test-secret-0123456789abcdef-0123456789"


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=600)


@pytest.fixture(scope="module")
def app_image() -> str:
    ensure_engine()
    return images.build_app_image().tag


class Runner:
    """`docker run` of the image with the fleet's hardening flags, on the machine's network so
    the throwaway servers on 127.0.0.1 are reachable."""

    def __init__(self, image: str, postgres: Postgres, redis: Redis) -> None:
        self.image = image
        self.port = free_port()
        self.env = {
            "APP_ENV": "production",
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis.url,
            "SECRET_KEY": SECRET,
            "PORT": str(self.port),
            "WORKER_METRICS_PORT": str(free_port()),
            "LOG_LEVEL": "WARNING",
        }

    def args(self) -> list[str]:
        flags = ["--network", "host", "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL"]
        flags += ["--security-opt", "no-new-privileges", "-v", f"{PREFIX}-videos:/srv/videos"]
        for key, value in self.env.items():
            flags += ["-e", f"{key}={value}"]
        return flags

    def once(self, *command: str) -> str:
        return _docker("run", "--rm", *self.args(), self.image, *command).stdout

    def start(self, name: str, *command: str) -> None:
        _docker("run", "-d", "--name", f"{PREFIX}-{name}", *self.args(), self.image, *command)


@pytest.fixture(scope="module")
def running_app(app_image: str, postgres: Postgres, redis_server: Redis) -> Iterator[Runner]:
    runner = Runner(app_image, postgres, redis_server)
    _docker("rm", "-f", f"{PREFIX}-api", f"{PREFIX}-worker", check=False)
    runner.once("migrate")
    runner.start("api")
    runner.start("worker", "worker")
    yield runner
    _docker("rm", "-f", f"{PREFIX}-api", f"{PREFIX}-worker", check=False)
    _docker("volume", "rm", "-f", f"{PREFIX}-videos", check=False)


def _wait_ready(port: int) -> httpx.Response:
    response = None
    for _ in range(120):
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the API in the image never became ready: {response and response.text}")


def test_image_runs_as_uid_10001_without_compilers(app_image: str) -> None:
    config = json.loads(_docker("image", "inspect", app_image).stdout)[0]["Config"]
    probe = "import os, shutil; print(os.getuid(), [c for c in ('gcc', 'cc', 'g++', 'make') if shutil.which(c)])"
    out = _docker("run", "--rm", "--read-only", "--entrypoint", "python", app_image, "-c", probe).stdout

    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["python", "-m", "app"]
    assert config["Cmd"] == ["serve"]
    assert "/health/live" in " ".join(config["Healthcheck"]["Test"])
    assert out.split(" ", 1) == ["10001", "[]\n"]


def test_image_is_tagged_with_version_and_commit(app_image: str) -> None:
    labels = json.loads(_docker("image", "inspect", app_image).stdout)[0]["Config"]["Labels"]

    assert app_image == f"{images.APP_REPOSITORY}:{images.project_version()}-{images.git_commit()}"
    assert labels["org.opencontainers.image.revision"] == images.git_commit()


def test_image_serves_ready_against_postgres_and_redis(running_app: Runner) -> None:
    assert _wait_ready(running_app.port).json()["status"] == "ready"


def test_image_processes_an_upload_end_to_end(running_app: Runner, tmp_path: Path) -> None:
    key = running_app.once("create-key", "--name", "image-test").split("key: ")[1].strip()
    base = f"http://127.0.0.1:{running_app.port}/api/v1"
    _wait_ready(running_app.port)
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
        project = client.post("/projects", json={"name": "image-test"}).raise_for_status().json()
        clip = make_video(tmp_path / "clip.mp4")
        with clip.open("rb") as body:
            accepted = client.post(f"/projects/{project['id']}/videos", files={"file": ("clip.mp4", body, "video/mp4")})
        assert accepted.status_code == 202, accepted.text
        video_id = accepted.json()["id"]
        video = {}
        for _ in range(120):
            video = client.get(f"/videos/{video_id}").raise_for_status().json()
            if video["status"] in ("ready", "failed"):
                break
            time.sleep(0.5)

    assert video["status"] == "ready", video
    assert video["frame_count"] == 20


def test_image_reports_healthy_to_docker(running_app: Runner) -> None:
    _wait_ready(running_app.port)
    status = ""
    for _ in range(60):
        status = _docker("inspect", "-f", "{{.State.Health.Status}}", f"{PREFIX}-api").stdout.strip()
        if status == "healthy":
            break
        time.sleep(1)

    assert status == "healthy"
