"""Alerts on the API (beyond its SLOs) and on the video processing worker."""

from __future__ import annotations

from dashboards.fleet import API_JOB, WORKER_JOB
from dashboards.rulebook import Alert, RuleFile, RuleGroup

_API = f'job="{API_JOB}"'
_WORKER = f'job="{WORKER_JOB}"'
# Every worker reports the same shared queue, so the queue is read once per job.
_QUEUE = f"max by (job) (video_queue_depth{{{_WORKER}}})"


def _api_alerts() -> list[Alert]:
    return [
        Alert(
            name="ApiAllInstancesDown",
            expr=f"sum by (job) (up{{{_API}}}) == 0",
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
    finished = f"worker_jobs_total{{{_WORKER}}}"
    failed = f'worker_jobs_total{{{_WORKER},result="failed"}}'
    done = f'worker_jobs_total{{{_WORKER},result=~"ready|failed"}}'
    return [
        Alert(
            name="WorkerQueueGrowing",
            expr=f"{_QUEUE} > 20\nand\nmax by (job) (delta(video_queue_depth{{{_WORKER}}}[30m])) > 0",
            severity="warning",
            for_="15m",
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
            # Before its first job a worker exports no worker_jobs_total series; count that as zero.
            expr=(
                f"{_QUEUE} > 0\nand on (job)\n(\n  sum by (job) (increase({finished}[30m])) == 0\n"
                f"  or on (job)\n  0 * {_QUEUE} unless on (job) sum by (job) ({finished})\n)"
            ),
            severity="critical",
            for_="15m",
            summary="Videos wait in the queue but no worker finishes any.",
            description="{{ $value | humanize }} videos wait and no job has finished in the last 30 minutes.",
        ),
    ]


def rule_file() -> RuleFile:
    return RuleFile(
        stem="app",
        groups=[RuleGroup(name="api", rules=_api_alerts()), RuleGroup(name="worker", rules=_worker_alerts())],
    )
