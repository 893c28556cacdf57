"""`python -m ops.load`: bounded load against the API on loopback, recording every request.

Releases are judged by what clients saw while they ran: this sends a steady stream of requests
(`--concurrency` workers, each waiting for its answer before the next), stops by itself after
`--requests` or `--seconds`, whichever comes first, and keeps the status and latency of every
request, so a test can say "0 failed out of 10,412" and a benchmark can read p50/p99.
A failure is a non-2xx answer or a connection error.

One retry is allowed, the one HTTP clients make (RFC 9112 §9.3.1; Go's client and browsers do
it): when the server closed a kept-alive connection before answering, as an nginx worker does to
idle connections when it reloads, the GET is sent once more on a new connection. Each retry is
counted and shown; `retry_stale=False` counts those as failures instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_SECONDS = 3600
MAX_REQUESTS = 10_000_000


@dataclass(frozen=True)
class Sample:
    started: float  # seconds since the run began
    latency_ms: float
    status: int  # 0 for a connection error
    error: str = ""
    retried: bool = False  # sent again after the server closed the connection unanswered

    @property
    def failed(self) -> bool:
        return not 200 <= self.status < 300


@dataclass
class LoadReport:
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return len(self.samples)

    @property
    def failures(self) -> list[Sample]:
        return [sample for sample in self.samples if sample.failed]

    def percentile(self, percent: float) -> float:
        latencies = sorted(sample.latency_ms for sample in self.samples)
        if not latencies:
            return float("nan")
        index = min(len(latencies) - 1, max(0, round(percent / 100 * len(latencies)) - 1))
        return latencies[index]

    def summary(self) -> dict[str, float | int]:
        return {
            "requests": self.total,
            "failed": len(self.failures),
            "retried": sum(1 for sample in self.samples if sample.retried),
            "seconds": round(self.seconds, 2),
            "requests_per_second": round(self.total / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "mean_ms": round(statistics.fmean(s.latency_ms for s in self.samples), 2) if self.samples else 0.0,
        }


# The server closed the connection without (a whole) answer: a GET may be sent again.
UNANSWERED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


async def _get(
    client: httpx.AsyncClient, url: str, *, retry_stale: bool, fresh: httpx.AsyncClient
) -> tuple[int, str, bool]:
    """(status, error class, retried) for one GET; status 0 for a connection error. The retry goes
    on a new connection (`fresh` keeps none), as browsers do: another kept-alive one may have been
    closed by the same reload."""
    try:
        return (await client.get(url)).status_code, "", False
    except UNANSWERED as exc:
        if not retry_stale:
            return 0, exc.__class__.__name__, False
    except httpx.HTTPError as exc:
        return 0, exc.__class__.__name__, False
    try:
        return (await fresh.get(url)).status_code, "", True
    except httpx.HTTPError as exc:
        return 0, exc.__class__.__name__, True


def check_target(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise ValueError(f"load goes only to loopback addresses, not {host!r}")


async def run_load(
    url: str,
    *,
    concurrency: int = 8,
    max_requests: int = 1000,
    max_seconds: float = 30.0,
    headers: dict[str, str] | None = None,
    verify: bool | str | ssl.SSLContext = True,
    stop: asyncio.Event | None = None,
    rate: float = 0.0,
    report: LoadReport | None = None,
    retry_stale: bool = True,
) -> LoadReport:
    """Load `url` until `max_requests` are sent, `max_seconds` pass, or `stop` is set.

    `rate` > 0 paces the whole run to at most that many requests per second (an open schedule
    shared by the workers), e.g. to stay under the balancer's rate limit.
    """
    check_target(url)
    if not 0 < max_seconds <= MAX_SECONDS or not 0 < max_requests <= MAX_REQUESTS or concurrency < 1:
        raise ValueError("bounds: 0 < seconds <= 3600, 0 < requests <= 10,000,000, concurrency >= 1")
    report = LoadReport() if report is None else report  # a caller's report fills up as requests finish
    stop = stop or asyncio.Event()
    began = time.perf_counter()
    deadline = began + max_seconds
    budget = iter(range(max_requests))
    pace = [began]  # the start time of the next request when `rate` paces the run
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    # A CA file becomes a context: httpx deprecates `verify=<path>`.
    tls = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
    fresh_only = httpx.Limits(max_keepalive_connections=0)
    async with (
        httpx.AsyncClient(headers=headers, verify=tls, limits=limits, timeout=10.0) as client,
        httpx.AsyncClient(headers=headers, verify=tls, limits=fresh_only, timeout=10.0) as fresh,
    ):

        async def one_worker() -> None:
            while not stop.is_set() and time.perf_counter() < deadline and next(budget, None) is not None:
                if rate > 0:
                    # The next free slot of the schedule; never in the past, so a stall (slow
                    # answers) is not followed by a catch-up burst above the rate.
                    now = time.perf_counter()
                    slot = max(pace[0], now)
                    pace[0] = slot + 1 / rate
                    if slot > now:
                        await asyncio.sleep(slot - now)
                started = time.perf_counter()
                status, error, retried = await _get(client, url, retry_stale=retry_stale, fresh=fresh)
                latency = (time.perf_counter() - started) * 1000
                report.samples.append(Sample(started - began, latency, status, error, retried))

        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
    report.seconds = time.perf_counter() - began
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.load", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="a loopback URL, e.g. https://127.0.0.1:8443/health/ready")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=1000, help="stop after this many requests")
    parser.add_argument("--seconds", type=float, default=30.0, help="stop after this long")
    parser.add_argument("--rate", type=float, default=0.0, help="at most this many requests per second (0: no cap)")
    parser.add_argument("--header", action="append", default=[], help="NAME: VALUE (repeatable)")
    parser.add_argument("--ca", help="CA bundle to verify the server's certificate with")
    parser.add_argument("--samples", type=Path, help="write every request as JSON lines here")
    parser.add_argument(
        "--no-retry", action="store_true", help="count a connection closed unanswered as a failure, not retry it"
    )
    args = parser.parse_args(argv)
    headers = dict(item.split(":", 1) for item in args.header)
    headers = {name.strip(): value.strip() for name, value in headers.items()}
    try:
        report = asyncio.run(
            run_load(
                args.url,
                concurrency=args.concurrency,
                max_requests=args.requests,
                max_seconds=args.seconds,
                headers=headers,
                verify=args.ca or True,
                rate=args.rate,
                retry_stale=not args.no_retry,
            )
        )
    except ValueError as exc:
        print(f"ops.load: {exc}", file=sys.stderr)
        return 2
    if args.samples:
        args.samples.write_text("".join(json.dumps(asdict(sample)) + "\n" for sample in report.samples))
    print(json.dumps(report.summary()))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())


class BackgroundLoad:
    """`run_load` on a thread of its own, for callers that do something else meanwhile (a release).

    with BackgroundLoad(url, rate=80, verify=ca) as load:
        release()
    report = load.report
    """

    def __init__(self, url: str, *, max_seconds: float = 1800.0, **options: Any) -> None:
        check_target(url)
        self.url = url
        self.max_seconds = max_seconds
        self.options = options
        self.report = LoadReport()
        self.started = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ops-load", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        async def main() -> LoadReport:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            return await run_load(
                self.url,
                max_requests=MAX_REQUESTS,
                max_seconds=self.max_seconds,
                stop=self._stop,
                report=self.report,
                **self.options,
            )

        try:
            self.report = asyncio.run(main())
        except BaseException as error:
            self._error = error
            self._ready.set()

    def __enter__(self) -> BackgroundLoad:
        self.started = time.monotonic()
        self._thread.start()
        self._ready.wait(timeout=30)
        return self

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def stop(self) -> LoadReport:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)
        if self._error is not None:
            raise self._error
        return self.report

    def __exit__(self, *exc: object) -> None:
        self.stop()
