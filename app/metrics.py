"""Prometheus metrics of the API and the worker (names are part of the kit's contract)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route template",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
HTTP_IN_FLIGHT = Gauge("http_requests_in_flight", "HTTP requests being answered", registry=REGISTRY)
CACHE_REQUESTS = Counter("cache_requests", "Cache lookups", ["cache", "result"], registry=REGISTRY)
RATE_LIMITED = Counter("rate_limit_rejections", "Requests refused with 429", registry=REGISTRY)
APP_INFO = Gauge("app_info", "Build information", ["version"], registry=REGISTRY)
# What the deployment says runs here (SLIPWAY_VERSION, SLIPWAY_SLOT), as a constant 1.
BUILD_INFO = Gauge(
    "app_build_info", "The release and slot the deployment started", ["version", "slot"], registry=REGISTRY
)
# Statuses whose series exist from start-up, so that increase() sees the first error of a route.
PRECREATED_ERROR_STATUSES = ("500", "503")

QUEUE_DEPTH = Gauge("video_queue_depth", "Video jobs waiting in the queue", registry=REGISTRY)
PROCESSING_DURATION = Histogram(
    "video_processing_duration_seconds",
    "Time to extract metadata and a thumbnail from one video",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
    registry=REGISTRY,
)
WORKER_JOBS = Counter("worker_jobs", "Video jobs finished, by result", ["result"], registry=REGISTRY)
WORKER_BUSY = Gauge("worker_busy", "1 while the worker processes a job", registry=REGISTRY)
SWEEPER_REQUEUED = Counter("video_sweeper_requeued", "Stuck videos put back on the queue", registry=REGISTRY)


def precreate_request_series(routes: Iterable[tuple[str, str, int]]) -> None:
    """Create each route's counter series at zero: its success status, then 500 and 503.

    A counter series that first appears at 1 has no earlier sample, so rate() and increase()
    over it read nothing until the second error; at 0 from start-up, the first one counts.
    """
    for method, route, success in routes:
        for status in (str(success), *PRECREATED_ERROR_STATUSES):
            HTTP_REQUESTS.labels(method, route, status)
        HTTP_DURATION.labels(method, route)


def set_build_info(version: str, slot: str) -> None:
    BUILD_INFO.clear()
    BUILD_INFO.labels(version, slot).set(1)


class PoolCollector(Collector):
    """Reads the SQLAlchemy pool at scrape time, so the hot path pays nothing for it."""

    def __init__(self, checked_out: Callable[[], int], size: Callable[[], int]) -> None:
        self._checked_out = checked_out
        self._size = size

    def collect(self) -> Iterable[GaugeMetricFamily]:
        yield GaugeMetricFamily("db_pool_checked_out", "Connections lent out by the pool", value=self._checked_out())
        yield GaugeMetricFamily("db_pool_size", "Connections the pool keeps", value=self._size())
