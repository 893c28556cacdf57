"""API overview: SLOs and error budget, then rate, errors and duration (RED) by route, saturation."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from dashboards.boards.common import Query, new_dashboard, row, stat_panel, timeseries_panel
from dashboards.fleet import API_TRAFFIC, LATENCY_THRESHOLD_SECONDS

UID = "slipway-api"
_API = 'job="api"'
_RATE = "$__rate_interval"


def _requests(extra: str = "") -> str:
    return f"http_requests_total{{{_API}{extra}}}[{_RATE}]"


def _share_by_route(status_regex: str) -> str:
    # Routes that never failed have no 5xx series at all; show them at 0 rather than not at all.
    status = f',status=~"{status_regex}"'
    matching = f"sum by (route) (rate({_requests(status)}))"
    every = f"sum by (route) (rate({_requests()}))"
    return f"({matching} or 0 * {every})\n/\n{every}"


def _slo_row(dashboard: Dashboard) -> Dashboard:
    availability = 'slo="api-availability"'
    latency = 'slo="api-latency"'
    budget_steps: list[tuple[float | None, str]] = [(None, "red"), (0.25, "orange"), (0.5, "green")]
    return (
        dashboard.with_row(row("Service level objectives (30 days)"))
        .with_panel(
            stat_panel(
                "Availability",
                "Share of API requests answered without a 5xx over the SLO period (objective 99.9 %).",
                "percentunit",
                Query(f"1 - slo:sli_error:ratio_rate30d{{{availability}}}", "availability"),
                thresholds=[(None, "red"), (0.999, "green")],
            )
        )
        .with_panel(
            stat_panel(
                "Availability error budget left",
                "Share of the 30-day availability error budget not yet spent.",
                "percentunit",
                Query(f"slo:period_error_budget_remaining:ratio{{{availability}}}", "budget left"),
                thresholds=budget_steps,
            )
        )
        .with_panel(
            stat_panel(
                "Latency SLI",
                f"Share of API requests answered within {LATENCY_THRESHOLD_SECONDS} s over the SLO period "
                "(objective 99 %).",
                "percentunit",
                Query(f"1 - slo:sli_error:ratio_rate30d{{{latency}}}", "within threshold"),
                thresholds=[(None, "red"), (0.99, "green")],
            )
        )
        .with_panel(
            stat_panel(
                "Latency error budget left",
                "Share of the 30-day latency error budget not yet spent.",
                "percentunit",
                Query(f"slo:period_error_budget_remaining:ratio{{{latency}}}", "budget left"),
                thresholds=budget_steps,
            )
        )
        .with_panel(
            stat_panel(
                "Firing alerts",
                "Critical and warning alerts firing now (the Watchdog is left out).",
                "none",
                Query('sum(ALERTS{alertstate="firing",severity=~"critical|warning"}) or vector(0)', "alerts"),
                thresholds=[(None, "green"), (1, "orange")],
            )
        )
        .with_panel(
            stat_panel(
                "Versions serving",
                "API slots per app version (app_info).",
                "none",
                Query(f"count by (version) (app_info{{{_API}}})", "{{version}}"),
                thresholds=[(None, "blue")],
            )
        )
        .with_panel(
            timeseries_panel(
                "Burn rate",
                "How fast each SLO spends its error budget (1 = exactly the budget over 30 days). "
                "Pages fire at 14.4 (1h) and 6 (6h), tickets at 3 (1d) and 1 (3d).",
                "none",
                Query("slo:current_burn_rate:ratio", "{{slo}} 5m"),
                Query("slo:sli_error:ratio_rate1h / on (slo) slo:error_budget:ratio", "{{slo}} 1h"),
                Query("slo:sli_error:ratio_rate6h / on (slo) slo:error_budget:ratio", "{{slo}} 6h"),
                width=24,
            )
        )
    )


def _red_rows(dashboard: Dashboard) -> Dashboard:
    quantile = "histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[{r}])))"
    return (
        dashboard.with_row(row("Rate"))
        .with_panel(
            timeseries_panel(
                "Requests by route",
                "Requests per second answered by the API, by route template.",
                "reqps",
                Query(f"sum by (route) (rate({_requests()}))", "{{route}}"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Requests by status",
                "Requests per second by HTTP status.",
                "reqps",
                Query(f"sum by (status) (rate({_requests()}))", "{{status}}"),
                stacked=True,
            )
        )
        .with_row(row("Errors"))
        .with_panel(
            timeseries_panel(
                "5xx share by route",
                "Share of requests answered with a 5xx, per route; these spend the availability budget.",
                "percentunit",
                Query(_share_by_route("5.."), "{{route}}"),
            )
        )
        .with_panel(
            timeseries_panel(
                "4xx share by route",
                "Share of requests answered with a 4xx (client errors; not an SLO error).",
                "percentunit",
                Query(_share_by_route("4.."), "{{route}}"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Rate-limited requests",
                "Requests refused with 429 by the rate limiter, per second.",
                "reqps",
                Query(f"sum(rate(rate_limit_rejections_total{{{_API}}}[{_RATE}]))", "429/s"),
            )
        )
        .with_row(row("Duration"))
        .with_panel(
            timeseries_panel(
                "Latency percentiles",
                "p50, p95 and p99 of the time to answer, all routes (probes included).",
                "s",
                Query(quantile.format(q=0.5, sel=_API, r=_RATE), "p50"),
                Query(quantile.format(q=0.95, sel=_API, r=_RATE), "p95"),
                Query(quantile.format(q=0.99, sel=_API, r=_RATE), "p99"),
            )
        )
        .with_panel(
            timeseries_panel(
                "p95 latency by route",
                "95th percentile of the time to answer, per route template.",
                "s",
                Query(
                    "histogram_quantile(0.95, sum by (route, le) "
                    f"(rate(http_request_duration_seconds_bucket{{{_API}}}[{_RATE}])))",
                    "{{route}}",
                ),
            )
        )
        .with_panel(
            timeseries_panel(
                f"Requests within {LATENCY_THRESHOLD_SECONDS} s",
                "Share of user requests (probes and /metrics left out) answered within the latency SLO threshold.",
                "percentunit",
                Query(
                    f'sum(rate(http_request_duration_seconds_bucket{{{API_TRAFFIC},le="{LATENCY_THRESHOLD_SECONDS}"}}'
                    f"[{_RATE}]))\n/\n"
                    f"sum(rate(http_request_duration_seconds_count{{{API_TRAFFIC}}}[{_RATE}]))",
                    "within threshold",
                ),
            )
        )
    )


def _saturation_row(dashboard: Dashboard) -> Dashboard:
    cache = f"cache_requests_total{{{_API}}}[{_RATE}]"
    hits = f'cache_requests_total{{{_API},result="hit"}}[{_RATE}]'
    return (
        dashboard.with_row(row("Saturation"))
        .with_panel(
            timeseries_panel(
                "Requests in flight",
                "Requests being answered at scrape time, per API slot.",
                "none",
                Query(f"sum by (instance) (http_requests_in_flight{{{_API}}})", "{{instance}}"),
                width=8,
            )
        )
        .with_panel(
            timeseries_panel(
                "Database pool in use",
                "Connections lent out by each slot's SQLAlchemy pool, as a share of the pool size.",
                "percentunit",
                Query(f"db_pool_checked_out{{{_API}}} / db_pool_size{{{_API}}}", "{{instance}}"),
                width=8,
            )
        )
        .with_panel(
            timeseries_panel(
                "Cache hit ratio",
                "Share of cache lookups answered from Redis, per cache.",
                "percentunit",
                Query(
                    f"(sum by (cache) (rate({hits})) or 0 * sum by (cache) (rate({cache})))\n/\n"
                    f"sum by (cache) (rate({cache}))",
                    "{{cache}}",
                ),
                width=8,
            )
        )
    )


def build() -> Dashboard:
    dashboard = new_dashboard(
        UID,
        "Slipway / API overview",
        "The API's SLOs and error budgets, requests, errors and latency by route, and saturation.",
    )
    return _saturation_row(_red_rows(_slo_row(dashboard)))
