"""`python -m ops.release.probe BASE_URL --check PATH=STATUS ... --seconds N`: the release gate's
requests through nginx.

Sends the app definition's smoke checks (`smoke:` in the definition; its live path when it lists
none) one GET at a time, in turn, for N seconds, and stops at the first answer that is not the
check's status (a bad release should not keep failing clients' requests while the gate watches).
Prints one JSON line, `{"probes": 41, "failed": 0, "last_status": 200, "last_path": "/health/live",
"seconds": 10.0}`, and exits 0: the gate judges it. rollout.yml starts it on the controller as soon
as nginx serves the new slots, so the bake runs while the old slots drain, and the gate collects
it afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import json
import ssl
import sys
import time
from dataclasses import asdict, dataclass

import httpx

MAX_SECONDS = 3600.0


@dataclass(frozen=True)
class Check:
    path: str
    status: int

    @classmethod
    def parse(cls, text: str) -> Check:
        path, _, status = text.rpartition("=")
        if not path.startswith("/") or not status.isdigit():
            raise ValueError(f"--check {text!r}: write PATH=STATUS, e.g. /health/live=200")
        return cls(path, int(status))


@dataclass(frozen=True)
class ProbeResult:
    probes: int
    failed: int  # 0 or 1: probing stops at the first failure
    last_status: int  # 0 when the last probe got no answer
    last_path: str
    seconds: float


def probe(
    base_url: str,
    checks: list[Check],
    *,
    seconds: float,
    verify: bool | ssl.SSLContext = True,
    interval: float = 0.25,
) -> ProbeResult:
    """GET each check's path in turn until `seconds` pass or one answer is not the check's status."""
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"--seconds must be in (0, {MAX_SECONDS:.0f}]")
    if not checks:
        raise ValueError("give at least one --check")
    began = time.monotonic()
    probes, status, check = 0, 0, checks[0]
    base = base_url.rstrip("/")
    # A new connection per probe, as a new client would open: a reload's closed keep-alive
    # connection is not what the gate is there to see.
    with httpx.Client(verify=verify, timeout=5.0, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for check in itertools.cycle(checks):
            probes += 1
            try:
                status = client.get(base + check.path).status_code
            except httpx.HTTPError:
                status = 0
            if status != check.status or time.monotonic() - began >= seconds:
                break
            time.sleep(interval)
    return ProbeResult(probes, int(status != check.status), status, check.path, round(time.monotonic() - began, 2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.release.probe", description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="where clients reach the service, e.g. https://lb.example")
    parser.add_argument("--check", action="append", default=[], help="PATH=STATUS, once per smoke check")
    parser.add_argument("--seconds", type=float, required=True, help="the bake window")
    parser.add_argument("--ca", help="CA bundle to verify nginx's certificate with")
    parser.add_argument("--interval", type=float, default=0.25, help="pause between two probes (seconds)")
    args = parser.parse_args(argv)
    verify: bool | ssl.SSLContext = ssl.create_default_context(cafile=args.ca) if args.ca else True
    try:
        checks = [Check.parse(text) for text in args.check]
        result = probe(args.base_url, checks, seconds=args.seconds, verify=verify, interval=args.interval)
    except ValueError as error:
        print(f"ops.release.probe: {error}", file=sys.stderr)
        return 2
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
