"""ops.load against a real server on loopback: bounded, and every request recorded."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ops.load import BackgroundLoad, check_target, main, run_load
from ops.localservices import free_port, wait_for_port

FLAKY_APP = """
import itertools
counter = itertools.count()
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    status = 500 if next(counter) % 10 == 9 else 200
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})
"""


async def _answer_once_then_close_unanswered(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One keep-alive answer per connection, then the next request on it is dropped unanswered,
    as an nginx worker drops idle connections when it reloads."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}")
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")
    writer.close()


@pytest.fixture
async def closing_server() -> AsyncIterator[str]:
    server = await asyncio.start_server(_answer_once_then_close_unanswered, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/"


async def test_a_connection_closed_unanswered_is_retried_once_and_counted(closing_server: str) -> None:
    report = await run_load(closing_server, concurrency=1, max_requests=6, max_seconds=10)

    # Every second request finds its kept-alive connection closed under it and goes again on a
    # new connection (not kept), so the next one opens a new kept-alive connection.
    assert report.failures == []
    assert [sample.retried for sample in report.samples] == [False, True, False, True, False, True]
    assert report.summary()["retried"] == 3


async def test_without_retries_a_connection_closed_unanswered_is_a_failure(closing_server: str) -> None:
    report = await run_load(closing_server, concurrency=1, max_requests=4, max_seconds=10, retry_stale=False)

    assert [sample.status for sample in report.samples] == [200, 0, 200, 0]
    assert report.samples[1].error == "RemoteProtocolError"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A uvicorn app where every tenth request answers 500."""
    folder = tmp_path_factory.mktemp("flaky")
    (folder / "flaky.py").write_text(FLAKY_APP)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "flaky:app", "--port", str(port), "--no-access-log"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}/"
    process.terminate()
    process.wait(timeout=10)


async def test_stops_at_the_request_budget_and_counts_failures(server: str) -> None:
    report = await run_load(server, concurrency=4, max_requests=200, max_seconds=30)
    assert report.total == 200
    assert len(report.failures) == 20
    assert report.summary()["failed"] == 20
    assert report.percentile(50) <= report.percentile(99)


async def test_stops_at_the_time_budget(server: str) -> None:
    report = await run_load(server, concurrency=2, max_requests=10_000_000, max_seconds=0.5)
    assert 0 < report.total < 10_000_000
    assert report.seconds < 5


async def test_connection_errors_are_failures() -> None:
    report = await run_load(f"http://127.0.0.1:{free_port()}/", concurrency=1, max_requests=3, max_seconds=5)
    assert [sample.status for sample in report.samples] == [0, 0, 0]
    assert all(sample.error == "ConnectError" for sample in report.samples)


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "https://example.com/"])
def test_refuses_targets_off_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        check_target(url)


def test_cli_writes_every_sample_and_exits_1_on_failures(server: str, tmp_path: Path) -> None:
    samples = tmp_path / "samples.jsonl"
    code = main([server, "--requests", "30", "--concurrency", "3", "--samples", str(samples)])
    assert code == 1
    lines = [json.loads(line) for line in samples.read_text().splitlines()]
    assert len(lines) == 30
    assert sum(1 for line in lines if line["status"] == 500) == 3


async def test_rate_paces_the_whole_run(server: str) -> None:
    report = await run_load(server, concurrency=4, max_requests=40, max_seconds=30, rate=20)

    assert report.total == 40
    # 40 requests on a 20/s schedule: the last one cannot start before 1.95 s.
    assert max(sample.started for sample in report.samples) >= 1.9


def test_background_load_records_while_running_and_stops_on_exit(server: str) -> None:
    with BackgroundLoad(server, concurrency=2, rate=50) as load:
        while len(load.report.samples) < 20 and load.elapsed() < 20:
            time.sleep(0.05)
        seen_while_running = len(load.report.samples)
    report = load.report

    assert seen_while_running >= 20
    assert report.total >= seen_while_running
    assert abs(len(report.failures) - report.total / 10) <= 1
