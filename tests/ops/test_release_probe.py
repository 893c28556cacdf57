"""The release gate's probes, against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from ops.localservices import free_port
from ops.release.probe import Check, main, probe

LIVE = [Check("/health/live", 200)]


class _FailsFromTheFifthRequest(BaseHTTPRequestHandler):
    """/health/live answers 200 four times, then 500; /private answers 401."""

    served = 0
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        if self.path == "/private":
            status = 401
        else:
            type(self).served += 1
            status = 200 if type(self).served < 5 else 500
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _FailsFromTheFifthRequest.served = 0
    _FailsFromTheFifthRequest.paths = []
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), _FailsFromTheFifthRequest)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_probes_for_the_whole_window_while_every_answer_is_expected(server: str) -> None:
    result = probe(server, LIVE, seconds=0.5, interval=0.2)

    assert (result.failed, result.last_status) == (0, 200)
    assert 2 <= result.probes <= 4
    assert 0.5 <= result.seconds < 1.5


def test_checks_are_sent_in_turn_each_with_its_own_status(server: str) -> None:
    result = probe(server, [Check("/private", 401), *LIVE], seconds=0.3, interval=0.05)

    assert result.failed == 0
    assert _FailsFromTheFifthRequest.paths[:4] == ["/private", "/health/live", "/private", "/health/live"]


def test_stops_at_the_first_unexpected_answer(server: str) -> None:
    result = probe(server, LIVE, seconds=30, interval=0.01)

    assert (result.probes, result.failed, result.last_status, result.last_path) == (5, 1, 500, "/health/live")
    assert result.seconds < 5


def test_no_answer_is_a_failure() -> None:
    result = probe(f"http://127.0.0.1:{free_port()}", LIVE, seconds=5, interval=0.01)

    assert (result.probes, result.failed, result.last_status) == (1, 1, 0)


def test_cli_prints_one_json_line_and_refuses_bad_arguments(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([server, "--check", "/health/live=200", "--seconds", "0.3", "--interval", "0.1"]) == 0
    assert json.loads(capsys.readouterr().out)["failed"] == 0
    assert main([server, "--check", "/health/live=200", "--seconds", "0"]) == 2
    assert "--seconds" in capsys.readouterr().err
    assert main([server, "--check", "health=200", "--seconds", "1"]) == 2
    assert "PATH=STATUS" in capsys.readouterr().err
    assert main([server, "--seconds", "1"]) == 2
    assert "at least one --check" in capsys.readouterr().err
