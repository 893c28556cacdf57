"""Alerts on the API (beyond its SLOs) and on the video processing worker."""

from __future__ import annotations

from dashboards.fleet import API_JOB, QUEUE_KEY, REDIS_JOB, WORKER_JOB
from dashboards.rulebook import Alert, RuleFile, RuleGroup

_API = f'job="{API_JOB}"'
_WORKER = f'job="{WORKER_JOB}"'
# Every worker reports the same shared queue, so it is read once; when no worker is left to report
# it, redis_exporter's length of the queue key stands in, so the queue alerts outlive the workers.
_WORKER_QUEUE = f"video_queue_depth{{{_WORKER}}}"
_REDIS_QUEUE = f'redis_key_size{{job="{REDIS_JOB}",key="{QUEUE_KEY}"}}'
_QUEUE = f"(\n  max({_WORKER_QUEUE})\n  or\n  max({_REDIS_QUEUE})\n)"
_QUEUE_GROWTH = f"(\n  max(delta({_WORKER_QUEUE}[30m]))\n  or\n  max(delta({_REDIS_QUEUE}[30m]))\n)"


def _api_alerts() -> list[Alert]:
    return [
        Alert(
            name="ApiAllInstancesDown",
            # absent(): once the last slot leaves service discovery there is no `up` left to be 0.
            expr=f"sum by (job) (up{{{_API}}}) == 0\nor\nabsent(up{{{_API}}})",
            severity="critical",
            for_="2m",
            summary="No API instance answers Prometheus.",
            description="All {{ $labels.job }} targets are down; the API cannot serve.",
        ),
        Alert(
            name="ApiDbPoolSaturated",
            expr=f"db_pool_checked_out{{{_API}}} / db_pool_size{{{_API}}} >= 0.90",
            severity="warning",
            for_="10m",
            summary="An API instance has lent out nearly all its database connections.",
            description=(
                "{{ $labels.instance }} on {{ $labels.host }} uses {{ $value | humanizePercentage }} "
                "of its database connection pool."
            ),
        ),
    ]


def _worker_alerts() -> list[Alert]:
    failed = f'worker_jobs_total{{{_WORKER},result="failed"}}'
    done = f'worker_jobs_total{{{_WORKER},result=~"ready|failed"}}'
    return [
        Alert(
            name="WorkerQueueGrowing",
            expr=f"{_QUEUE} > 20\nand on ()\n{_QUEUE_GROWTH} > 0",
            severity="warning",
            for_="15m",
            labels={"job": WORKER_JOB},
            summary="The video processing queue keeps growing.",
            description=(
                "{{ $value | humanize }} videos wait in the queue, and the queue has grown over the last 30 minutes."
            ),
        ),
        Alert(
            name="WorkerJobsFailing",
            expr=(
                f"sum by (job) (rate({failed}[15m]))\n/\nsum by (job) (rate({done}[15m])) > 0.10\n"
                # A guard against ratios of tiny numbers: one bad video among three is not an incident.
                f"and\nsum by (job) (increase({failed}[15m])) >= 3"
            ),
            severity="warning",
            for_="10m",
            summary="Many video processing jobs fail.",
            description=("{{ $value | humanizePercentage }} of the videos processed in the last 15 minutes failed."),
        ),
        Alert(
            name="WorkerNotProcessing",
            # Only finished jobs count: a worker that hands every job back (requeued) makes no progress.
            # With no worker_jobs_total series at all (no worker yet, or all dead) that is zero progress.
            expr=(
                f"{_QUEUE} > 0\nand on ()\n(\n  sum(increase({done}[30m])) == 0\n"
                f"  or on ()\n  0 * {_QUEUE} unless on () sum({done})\n)"
            ),
            severity="critical",
            for_="15m",
            labels={"job": WORKER_JOB},
            summary="Videos wait in the queue but no worker finishes any.",
            description="{{ $value | humanize }} videos wait and no job has finished in the last 30 minutes.",
        ),
    ]


def rule_file() -> RuleFile:
    return RuleFile(
        stem="app",
        groups=[RuleGroup(name="api", rules=_api_alerts()), RuleGroup(name="worker", rules=_worker_alerts())],
    )
