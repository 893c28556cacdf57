"""The release gate's probes, against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ops.localservices import free_port
from ops.release.probe import main, probe


class _FailsFromTheFifthRequest(BaseHTTPRequestHandler):
    served = 0

    def do_GET(self) -> None:
        type(self).served += 1
        self.send_response(200 if type(self).served < 5 else 500)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _FailsFromTheFifthRequest.served = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), _FailsFromTheFifthRequest)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/health/live"
    httpd.shutdown()
    httpd.server_close()


def test_probes_for_the_whole_window_while_every_answer_is_200(server: str) -> None:
    result = probe(server, seconds=0.5, interval=0.2)

    assert (result.failed, result.last_status) == (0, 200)
    assert 2 <= result.probes <= 4
    assert 0.5 <= result.seconds < 1.5


def test_stops_at_the_first_answer_that_is_not_200(server: str) -> None:
    result = probe(server, seconds=30, interval=0.01)

    assert (result.probes, result.failed, result.last_status) == (5, 1, 500)
    assert result.seconds < 5


def test_no_answer_is_a_failure() -> None:
    result = probe(f"http://127.0.0.1:{free_port()}/", seconds=5, interval=0.01)

    assert (result.probes, result.failed, result.last_status) == (1, 1, 0)


def test_cli_prints_one_json_line_and_refuses_an_unbounded_window(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([server, "--seconds", "0.3", "--interval", "0.1"]) == 0
    assert json.loads(capsys.readouterr().out)["failed"] == 0
    assert main([server, "--seconds", "0"]) == 2
    assert "--seconds" in capsys.readouterr().err
