"""Worker and video processing: the queue, jobs by result, processing time, the sweeper."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from dashboards.boards.common import Query, new_dashboard, row, stat_panel, timeseries_panel

UID = "slipway-worker"
_WORKER = 'job="worker"'
_RATE = "$__rate_interval"


def _processing_quantile(quantile: float) -> str:
    buckets = f"video_processing_duration_seconds_bucket{{{_WORKER}}}[{_RATE}]"
    return f"histogram_quantile({quantile}, sum by (le) (rate({buckets})))"


def build() -> Dashboard:
    jobs = f"worker_jobs_total{{{_WORKER}}}"
    return (
        new_dashboard(
            UID,
            "Slipway / Worker and video processing",
            "The video processing queue, jobs finished by result, processing time and stuck-job sweeps.",
        )
        .with_row(row("Now"))
        .with_panel(
            stat_panel(
                "Videos waiting",
                "Videos in the processing queue (every worker reports the same shared queue).",
                "none",
                Query(f"max(video_queue_depth{{{_WORKER}}})", "queue"),
                thresholds=[(None, "green"), (20, "orange"), (100, "red")],
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Workers busy",
                "Workers processing a video right now.",
                "none",
                Query(f"sum(worker_busy{{{_WORKER}}})", "busy"),
                thresholds=[(None, "blue")],
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Workers up",
                "Worker metrics endpoints Prometheus scrapes successfully.",
                "none",
                Query(f"sum(up{{{_WORKER}}})", "up"),
                thresholds=[(None, "red"), (1, "green")],
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Jobs finished (1h)",
                "Videos finished in the last hour, whatever the result.",
                "none",
                Query(f"sum(increase({jobs}[1h])) or vector(0)", "jobs"),
                thresholds=[(None, "blue")],
                width=6,
            )
        )
        .with_row(row("Throughput"))
        .with_panel(
            timeseries_panel(
                "Queue depth",
                "Videos waiting to be processed.",
                "none",
                Query(f"max(video_queue_depth{{{_WORKER}}})", "queue"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Jobs by result",
                "Jobs finished per second: ready, failed, or handed back (requeued) on shutdown.",
                "ops",
                Query(f"sum by (result) (rate({jobs}[{_RATE}]))", "{{result}}"),
                stacked=True,
            )
        )
        .with_panel(
            timeseries_panel(
                "Processing time",
                "p50 and p95 of the time to extract metadata and a thumbnail from one video.",
                "s",
                Query(_processing_quantile(0.5), "p50"),
                Query(_processing_quantile(0.95), "p95"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Busy workers and sweeps",
                "Workers busy per instance, and videos the sweeper put back on the queue per second.",
                "none",
                Query(f"worker_busy{{{_WORKER}}}", "busy {{instance}}"),
                Query(f"sum(rate(video_sweeper_requeued_total{{{_WORKER}}}[{_RATE}]))", "requeued/s"),
            )
        )
    )
