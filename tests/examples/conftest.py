"""Notes example fixtures: its own database on the suite's PostgreSQL, migrated, and the app in-process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.localservices import Postgres

NOTES_ROOT = Path(__file__).resolve().parents[2] / "examples" / "notes"
# The example is its own project (its image runs `python -m notes`), not a package of the kit.
if str(NOTES_ROOT) not in sys.path:
    sys.path.insert(0, str(NOTES_ROOT))

from notes import db  # noqa: E402
from notes.app import create_app  # noqa: E402
from notes.settings import Settings  # noqa: E402

TOKEN = "notes-test-token-0123456789abcdef"
_databases = count()


def create_database(postgres: Postgres, prefix: str = "notes") -> str:
    """A fresh, empty database owned by the suite's role; its asyncpg URL."""
    name = f"{prefix}_{os.getpid()}_{next(_databases)}"
    postgres.psql(f"CREATE DATABASE {name} OWNER {postgres.user}")
    return f"postgresql://{postgres.user}:{postgres.password}@127.0.0.1:{postgres.port}/{name}"


def pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a requirements file, by normalized name."""
    found = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", path.read_text(), flags=re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in found}


def environment(url: str, **extra: Any) -> dict[str, str]:
    """What the platform gives the container, for the notes commands run as processes here."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOTES_")}
    env |= {"PYTHONPATH": str(NOTES_ROOT), "NOTES_DATABASE_URL": url, "NOTES_TOKEN": TOKEN}
    env |= {"NOTES_LOG_LEVEL": "WARNING", "NOTES_HOST": "127.0.0.1"}
    return env | {key: str(value) for key, value in extra.items()}


def run_notes(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notes", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def start_server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`python -m notes serve` as the image runs it (its JSON logs are not read by the tests)."""
    return subprocess.Popen([sys.executable, "-m", "notes", "serve"], env=env, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="session")
async def notes_url(postgres: Postgres) -> str:
    url = create_database(postgres)
    await db.migrate(url)
    return url


@pytest.fixture
def notes_settings(notes_url: str) -> Settings:
    return Settings(database_url=notes_url, token=TOKEN)


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def empty_notes(postgres: Postgres, notes_url: str) -> None:
    postgres.psql("TRUNCATE notes RESTART IDENTITY", database=notes_url.rsplit("/", 1)[1])


async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notes") as client:
            yield client


@pytest.fixture
async def client(notes_settings: Settings, empty_notes: None) -> AsyncIterator[httpx.AsyncClient]:
    async for client in app_client(notes_settings):
        yield client


@pytest.fixture
def process_env(notes_url: str) -> dict[str, str]:
    return environment(notes_url)
