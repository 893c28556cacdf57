#!/usr/bin/python3
"""A webhook receiver for Alertmanager on a local or test fleet: it stands where a pager would.

Each POST to /slipway/<receiver> (page, ticket, heartbeat) is appended as one JSON line to
<data dir>/<receiver>.jsonl, with the time it arrived, so tests and people can see what would have
paged and when. GET /-/healthy answers 200. Standard library only, so nothing to install.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_PATH = re.compile(r"^/slipway/(?P<receiver>[a-z][a-z0-9-]{0,30})$")
_MAX_BODY = 1 << 20


class Handler(BaseHTTPRequestHandler):
    data_dir: Path

    def do_GET(self) -> None:
        self._answer(200 if self.path == "/-/healthy" else 404)

    def do_POST(self) -> None:
        match = _PATH.match(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if match is None or not 0 < length <= _MAX_BODY:
            self._answer(404 if match is None else 400)
            return
        try:
            payload = json.loads(self.rfile.read(length))
        except ValueError:
            self._answer(400)
            return
        record = {"received": time.time(), "receiver": match["receiver"], "payload": payload}
        with (self.data_dir / f"{match['receiver']}.jsonl").open("a", encoding="utf-8") as log:
            log.write(json.dumps(record, sort_keys=True) + "\n")
        self._answer(200)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the JSON lines are the log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1:9095")
    parser.add_argument("--data-dir", type=Path, default=Path("/var/lib/slipway-webhook"))
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    Handler.data_dir = args.data_dir
    ThreadingHTTPServer((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
