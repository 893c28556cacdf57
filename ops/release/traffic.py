"""The traffic a canary is judged on: every request nginx sent to a slot, read from its log.

nginx writes one JSON line per request (the nginx role's `slipway_release` log format) naming the
slot of each upstream attempt, its status and its time, so the gate sees exactly the requests each
version answered, nginx's own 502/504/499 included, with no scrape interval and no series that
only appear on the first error. `TrafficLog` marks where each lb host's log ends before a canary
and reads what came after; requests to a slot nginx's upstream record calls active are the
baseline, the others the canary.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.errors import OpsError
from ops.release.analysis import Request

AGENT_SOURCE = (Path(__file__).parent / "traffic_agent.py").read_text()
RELEASE_LOG = "/var/log/nginx/slipway-release.log"  # the nginx role's nginx_release_log
UPSTREAM_RECORD = "/etc/nginx/slipway/upstream-api.slots.json"  # the nginx role's nginx_upstream_record_file

# Path segments that are ids, so `/videos/812` and `/videos/907` are one route.
_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-fA-F-]{32,36})$")


def route_of(method: str, path: str) -> str:
    """`GET /videos/{id}` for `GET /videos/812`."""
    segments = ["{id}" if _ID_SEGMENT.match(segment) else segment for segment in path.split("/")]
    return f"{method} {'/'.join(segments) or '/'}"


@dataclass(frozen=True)
class Traffic:
    baseline: list[Request]
    canary: list[Request]
    rotated: bool  # a log was rotated since the mark: its older lines were not read


def split(attempts: list[list[Any]], active: set[str]) -> tuple[list[Request], list[Request]]:
    """Attempts to an active slot are the baseline's, the others the canary's."""
    baseline: list[Request] = []
    canary: list[Request] = []
    for address, method, path, status, seconds, at in attempts:
        request = Request(route_of(str(method), str(path)), int(status), float(seconds), float(at))
        (baseline if address in active else canary).append(request)
    return baseline, canary


@dataclass(frozen=True)
class TrafficLog:
    """nginx's release log on the lb hosts, each reached with its ssh argv."""

    hosts: dict[str, tuple[str, ...]]

    def _call(self, host: str, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        remote = shlex.join(["sudo", "-n", "/usr/bin/python3", "-c", AGENT_SOURCE, operation, RELEASE_LOG])
        try:
            result = subprocess.run(
                [*self.hosts[host], remote], input=json.dumps(request), capture_output=True, text=True,
                check=False, timeout=60,
            )  # fmt: skip
            answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, ValueError, IndexError) as error:
            raise OpsError(
                f"nginx's release log on {host} could not be read",
                host=host,
                step="read the canary's traffic",
                detail=str(error),
                fix=f"check that {host} is up and reachable over SSH, then run again",
            ) from error
        return answer

    def mark(self) -> dict[str, dict[str, int]]:
        """Where each lb host's log ends now."""
        return {host: self._call(host, "mark", {}) for host in self.hosts}

    def since(self, marks: dict[str, dict[str, int]]) -> Traffic:
        """Every request logged after `marks`, split into baseline and canary."""
        baseline: list[Request] = []
        canary: list[Request] = []
        rotated = False
        for host in self.hosts:
            answer = self._call(host, "read", {**marks.get(host, {}), "record": UPSTREAM_RECORD})
            old, new = split(answer["attempts"], set(answer["active"].values()))
            baseline += old
            canary += new
            rotated = rotated or bool(answer["rotated"])
        return Traffic(baseline, canary, rotated)
