"""The notes commands as the image runs them: `migrate`, and `serve` drained by SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import httpx
import pytest

from ops.localservices import Postgres, free_port, wait_for_port
from tests.examples.conftest import TOKEN, create_database, environment, run_notes, start_server


def test_migrate_creates_the_table_and_runs_again(postgres: Postgres) -> None:
    url = create_database(postgres, "notes_cli")
    env = environment(url)

    first, second = run_notes("migrate", env=env), run_notes("migrate", env=env)

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert postgres.psql("SELECT count(*) FROM notes", database=url.rsplit("/", 1)[1]) == "0"


def test_a_missing_setting_is_named(process_env: dict[str, str]) -> None:
    env = {key: value for key, value in process_env.items() if key != "NOTES_TOKEN"}

    result = run_notes("serve", env=env)

    assert result.returncode == 2
    assert "NOTES_TOKEN" in result.stderr


async def slow_body() -> AsyncIterator[bytes]:
    yield b'{"title": "in flight", "body": "'
    for _ in range(10):
        await asyncio.sleep(0.25)
        yield b"x" * 100
    yield b'"}'


async def test_sigterm_drains_finishes_in_flight_requests_and_exits_0(process_env: dict[str, str]) -> None:
    port = free_port()
    env = process_env | {"PORT": str(port), "NOTES_DRAIN_SECONDS": "1", "NOTES_GRACE_SECONDS": "10"}
    server = start_server(env)
    try:
        await asyncio.to_thread(wait_for_port, port)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            assert (await http.get("/readyz")).status_code == 200
            in_flight = asyncio.create_task(http.post("/notes", content=slow_body(), headers=auth))
            await asyncio.sleep(0.5)
            server.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.2)

            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "draining"}
            assert ready.headers["connection"] == "close"
            assert (await http.get("/livez")).status_code == 200  # still serving while drained
            created = await in_flight  # the body ends ~2 s after SIGTERM, past the drain delay
            assert created.status_code == 201, created.text
            assert created.json()["body"] == "x" * 1000
        assert await asyncio.to_thread(server.wait, 30) == 0
        async with httpx.AsyncClient(timeout=2) as late:
            with pytest.raises(httpx.ConnectError):  # the listener is gone with the process
                await late.get(f"http://127.0.0.1:{port}/livez")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)


async def test_a_second_sigterm_stops_at_once(process_env: dict[str, str]) -> None:
    port = free_port()
    env = process_env | {"PORT": str(port), "NOTES_DRAIN_SECONDS": "30"}
    server = start_server(env)
    try:
        await asyncio.to_thread(wait_for_port, port)
        server.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.3)
        server.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(server.wait, 10) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)


async def test_a_request_slower_than_the_grace_period_does_not_hold_the_exit(process_env: dict[str, str]) -> None:
    port = free_port()
    env = process_env | {"PORT": str(port), "NOTES_DRAIN_SECONDS": "0.2", "NOTES_GRACE_SECONDS": "1"}
    server = start_server(env)

    async def endless() -> AsyncIterator[bytes]:
        yield b'{"title": "never ends", "body": "'
        for _ in range(600):
            await asyncio.sleep(0.1)
            yield b"x"

    try:
        await asyncio.to_thread(wait_for_port, port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            stuck = asyncio.create_task(
                http.post("/notes", content=endless(), headers={"Authorization": f"Bearer {TOKEN}"})
            )
            await asyncio.sleep(0.3)
            server.send_signal(signal.SIGTERM)
            started = asyncio.get_running_loop().time()
            assert await asyncio.to_thread(server.wait, 20) == 0
            assert asyncio.get_running_loop().time() - started < 5
            with pytest.raises(httpx.HTTPError):  # cut off, not answered
                await stuck
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
