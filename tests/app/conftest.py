"""App fixtures: a migrated database, the app in-process behind httpx, a worker, an API key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.apikeys import create_key
from app.db import create_sessionmaker
from app.main import create_app
from app.migrate import upgrade
from app.settings import Settings
from app.worker import Worker
from ops.localservices import Postgres, Redis

TEST_SECRET = "test-secret-key-0123456789abcdef-0123456789"
TABLES = "detection_events, test_sessions, videos, projects, api_keys"


def make_settings(postgres: Postgres, redis: Redis, storage: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": postgres.url,
        "redis_url": redis.url,
        "secret_key": TEST_SECRET,
        "storage_path": storage,
        "upload_tmp_path": storage.parent / "tmp",
        "sweep_interval_seconds": 0.2,
        "sweep_stuck_after_seconds": 1,
        "job_lease_seconds": 5,
        "shutdown_grace_seconds": 5,
        "max_upload_bytes": 5 * 1024 * 1024,
        "rate_limit_per_minute": 10_000,
        "api_key_cache_seconds": 0.5,
        "log_level": "WARNING",
    }
    return Settings(**(values | overrides))


@pytest.fixture(scope="session")
def migrated(postgres: Postgres, redis_server: Redis, tmp_path_factory: pytest.TempPathFactory) -> Postgres:
    upgrade(make_settings(postgres, redis_server, tmp_path_factory.mktemp("storage")))
    return postgres


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    return tmp_path / "videos"


@pytest.fixture
def settings_factory(migrated: Postgres, redis_server: Redis, storage: Path) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        return make_settings(migrated, redis_server, storage, **overrides)

    return factory


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory()


@pytest.fixture(autouse=True)
def clean_state(request: pytest.FixtureRequest) -> None:
    """Each app test starts from empty tables and an empty Redis."""
    if "migrated" not in request.fixturenames and "settings" not in request.fixturenames:
        return
    postgres: Postgres = request.getfixturevalue("migrated")
    redis: Redis = request.getfixturevalue("redis_server")
    if redis.process is None:
        redis.start()
    postgres.psql(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE", database=postgres.database)
    import redis as redis_lib  # noqa: PLC0415

    redis_lib.Redis.from_url(redis.url).flushall()


async def _client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]  # lets tests reach app.state
            yield client


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client_for(settings):
        yield client


@pytest.fixture
async def api_key(settings: Settings) -> str:
    engine = create_async_engine(settings.database_url.get_secret_value())
    try:
        async with create_sessionmaker(engine)() as session:
            return (await create_key(session, "tests", TEST_SECRET)).key
    finally:
        await engine.dispose()


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"X-API-Key": api_key}


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[Worker]:
    """A worker running in this event loop (OpenCV work still goes to its thread pool)."""
    import asyncio  # noqa: PLC0415

    running = Worker(settings)
    task = asyncio.create_task(running.run(handle_signals=False))
    yield running
    running.stop()
    await asyncio.wait_for(task, timeout=30)


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    from tests.app.videos import make_video  # noqa: PLC0415

    return make_video(tmp_path / "clip.mp4")
