"""The notes image, built from examples/notes/Dockerfile with the wheelhouse and run as the fleet runs
an app: read-only root, tmpfs /tmp, no capabilities, its own numeric user, against real PostgreSQL."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ops import images
from ops.docker_engine import ensure_engine
from ops.localservices import Postgres, free_port
from tests.examples.conftest import NOTES_ROOT, TOKEN, create_database, pins

pytestmark = pytest.mark.docker

TAG = "slipway-test/notes:latest"
CONTAINER = "slipway-test-notes"


def _docker(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


def _stage_context(root: Path) -> Path:
    """The repository-root paths the Dockerfile copies, and only the wheels notes installs.

    The repository's .dockerignore sends only what the reference API's image copies, so the build
    context is staged here with the same layout."""
    (root / "examples" / "notes").mkdir(parents=True)
    shutil.copy(NOTES_ROOT / "requirements.txt", root / "examples" / "notes" / "requirements.txt")
    shutil.copytree(
        NOTES_ROOT / "notes", root / "examples" / "notes" / "notes", ignore=shutil.ignore_patterns("__pycache__")
    )
    wheels = root / "ops" / "images" / "wheelhouse"
    wheels.mkdir(parents=True)
    wanted = {name.replace("-", "_") for name in pins(NOTES_ROOT / "requirements.txt")}
    for wheel in images.build_wheelhouse().glob("*.whl"):
        if wheel.name.split("-", 1)[0].lower() in wanted:
            shutil.copy(wheel, wheels / wheel.name)
    return root


@pytest.fixture(scope="module")
def notes_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    ensure_engine()
    images.ensure_base_image()
    context = _stage_context(tmp_path_factory.mktemp("notes-context"))
    build_args = ["--build-arg", "PIP_NO_INDEX=1", "--build-arg", "PIP_FIND_LINKS=/wheels"]
    _docker("build", "-q", "-t", TAG, "-f", str(NOTES_ROOT / "Dockerfile"), *build_args, str(context))
    return TAG


@pytest.fixture
def database_url(postgres: Postgres) -> str:
    return create_database(postgres, "notes_image")


@pytest.fixture
def container() -> Iterator[str]:
    _docker("rm", "-f", CONTAINER, check=False)
    yield CONTAINER
    _docker("rm", "-f", CONTAINER, check=False)


def hardened(url: str, port: int) -> list[str]:
    """`docker run` flags of a fleet slot, on the machine's network to reach the test PostgreSQL."""
    flags = ["--network", "host", "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL"]
    flags += ["--security-opt", "no-new-privileges"]
    env = {"NOTES_DATABASE_URL": url, "NOTES_TOKEN": TOKEN, "PORT": str(port), "NOTES_LOG_LEVEL": "WARNING"}
    return flags + [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]


def test_the_image_runs_notes_as_a_numeric_user_without_pip(notes_image: str) -> None:
    config = json.loads(_docker("image", "inspect", notes_image).stdout)[0]["Config"]
    probe = "import os, shutil, importlib.util as u; print(os.getuid(), u.find_spec('pip'), shutil.which('gcc'))"
    out = _docker("run", "--rm", "--read-only", "--entrypoint", "python", notes_image, "-c", probe).stdout

    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["python", "-m", "notes"]
    assert config["Cmd"] == ["serve"]
    assert "9000/tcp" in config["ExposedPorts"]
    assert out.split() == ["10001", "None", "None"]


def test_the_image_migrates_serves_read_only_and_stops_with_0(
    notes_image: str, database_url: str, container: str
) -> None:
    port = free_port()
    flags = hardened(database_url, port)

    assert _docker("run", "--rm", *flags, notes_image, "migrate", timeout=120).returncode == 0
    _docker("run", "-d", "--name", container, *flags, notes_image, "serve")
    base = f"http://127.0.0.1:{port}"
    ready = None
    for _ in range(120):
        try:
            ready = httpx.get(f"{base}/readyz", timeout=2)
            if ready.status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    assert ready is not None
    assert ready.status_code == 200, ready.text

    auth = {"Authorization": f"Bearer {TOKEN}"}
    created = httpx.post(f"{base}/notes", json={"title": "from the image"}, headers=auth, timeout=10)
    assert created.status_code == 201, created.text
    assert (
        httpx.get(f"{base}/notes/{created.json()['id']}", headers=auth, timeout=10).json()["title"] == "from the image"
    )
    assert "http_requests_total" in httpx.get(f"{base}/internal/metrics", timeout=10).text

    started = time.monotonic()
    _docker("stop", "-t", "20", container, timeout=60)  # SIGTERM, then SIGKILL after 20 s
    state = json.loads(_docker("inspect", container).stdout)[0]["State"]
    assert state["ExitCode"] == 0
    assert time.monotonic() - started < 15  # drained and exited, not killed
