"""Service level objectives of the API and the multi-window, multi-burn-rate rules they generate.

The windows are the SRE Workbook's (30-day period): a page when 2 % of the budget goes in an hour
or 5 % in six hours, a ticket when 10 % goes in a day or in three days. Each long window is paired
with a short one (1/12 of it) so the alert stops soon after the burn stops.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.fleet import API_JOB, API_TRAFFIC, LATENCY_BUCKETS, LATENCY_THRESHOLD_SECONDS
from dashboards.rulebook import Alert, Recording, RuleDefinitionError, RuleFile, RuleGroup, Severity

PERIOD = "30d"


@dataclass(frozen=True)
class BurnWindow:
    severity: Severity
    long: str
    short: str
    factor: float


BURN_WINDOWS = (
    BurnWindow("critical", "1h", "5m", 14.4),
    BurnWindow("critical", "6h", "30m", 6),
    BurnWindow("warning", "1d", "2h", 3),
    BurnWindow("warning", "3d", "6h", 1),
)

# How long each severity's condition must hold: a page a little (scrape gaps), a ticket longer.
FOR_BY_SEVERITY: dict[Severity, str] = {"critical": "2m", "warning": "15m"}


def sli_windows() -> list[str]:
    """Every window a burn-rate alert reads, shortest first."""
    windows = {w.long for w in BURN_WINDOWS} | {w.short for w in BURN_WINDOWS}
    return sorted(windows, key=_seconds)


@dataclass(frozen=True)
class Slo:
    """An SLO as a ratio of bad events to all events, read from counters.

    `{fn}` in the queries becomes `rate` for the burn-rate windows and `increase` for the period,
    `{window}` each window.
    """

    name: str
    alert_name: str
    objective: float
    title: str
    bad_events: str
    all_events: str
    bad_event_phrase: str
    # A selector that exists as soon as the API exports the SLI at all, for the absent alert.
    sli_metric: str

    @property
    def error_budget(self) -> float:
        return round(1 - self.objective, 10)

    def events(self, query: str, window: str, fn: str = "rate") -> str:
        return query.replace("{fn}", fn).replace("{window}", window)

    def error_ratio(self, window: str, fn: str = "rate") -> str:
        """bad / all, and 0 rather than NaN when a window saw no request at all.

        A window without traffic would record 0/0 = NaN, and every average or panel built on it
        would stay NaN; with no series at all (the SLI is gone) the result stays empty instead,
        which the absent alert reports.
        """
        bad = self.events(self.bad_events, window, fn)
        every = self.events(self.all_events, window, fn)
        return f"(\n  {bad}\n)\n/\n(\n  {every} > 0\n)\nor\n0 * {every}"

    def validate(self) -> None:
        if not 0 < self.objective < 1:
            raise RuleDefinitionError(f"SLO {self.name}: the objective must be a ratio between 0 and 1")
        for query in (self.bad_events, self.all_events):
            if "{window}" not in query or "{fn}" not in query:
                raise RuleDefinitionError(f"SLO {self.name}: every query needs the {{fn}} and {{window}} placeholders")


def availability_slo() -> Slo:
    requests = f"sum({{fn}}(http_requests_total{{{API_TRAFFIC}}}[{{window}}]))"
    # Until the first 5xx there is no 5xx series at all; count that as zero errors, not as no data.
    errors = f'sum({{fn}}(http_requests_total{{{API_TRAFFIC},status=~"5.."}}[{{window}}])) or vector(0)'
    return Slo(
        name="api-availability",
        alert_name="ApiAvailabilityErrorBudgetBurn",
        objective=0.999,
        title="API availability: 99.9 % of requests answered without a 5xx",
        bad_events=errors,
        all_events=requests,
        bad_event_phrase="answered with a 5xx status",
        sli_metric=f'http_requests_total{{job="{API_JOB}"}}',
    )


def latency_slo() -> Slo:
    if LATENCY_THRESHOLD_SECONDS not in LATENCY_BUCKETS:
        raise RuleDefinitionError("the latency SLO threshold must be one of the API histogram's buckets")
    count = f"sum({{fn}}(http_request_duration_seconds_count{{{API_TRAFFIC}}}[{{window}}]))"
    fast = (
        f'sum({{fn}}(http_request_duration_seconds_bucket{{{API_TRAFFIC},le="{LATENCY_THRESHOLD_SECONDS}"}}'
        "[{window}]))"
    )
    return Slo(
        name="api-latency",
        alert_name="ApiLatencyErrorBudgetBurn",
        objective=0.99,
        title=f"API latency: 99 % of requests answered within {LATENCY_THRESHOLD_SECONDS} s",
        bad_events=f"{count}\n  -\n  {fast}",
        all_events=count,
        bad_event_phrase=f"slower than {LATENCY_THRESHOLD_SECONDS} s",
        sli_metric=f'http_request_duration_seconds_count{{job="{API_JOB}"}}',
    )


SLOS = (availability_slo(), latency_slo())

# Fewer requests than this in the long window never page or open a ticket: one failed request
# among a handful on a quiet night is a large share, not a spent budget.
MIN_REQUESTS = 200
# The SLI must be missing this long before the absent alert fires (a restart or a slot switch
# leaves a scrape or two without it).
SLI_ABSENT_FOR = "10m"


def error_ratio_metric(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"


def _recordings(slo: Slo) -> list[Recording]:
    labels = {"slo": slo.name}
    selector = f'{{slo="{slo.name}"}}'
    rules = [Recording(error_ratio_metric(w), slo.error_ratio(w), labels) for w in sli_windows()]
    shortest = error_ratio_metric(sli_windows()[0])
    budget = slo.error_budget
    rules += [
        # The period ratio reads the counters' increase over the whole period, so each minute
        # weighs by its traffic (an average of short ratios would weigh an idle minute like a busy one).
        Recording(error_ratio_metric(PERIOD), slo.error_ratio(PERIOD, fn="increase"), labels),
        Recording("slo:objective:ratio", f"vector({slo.objective})", labels),
        Recording("slo:error_budget:ratio", f"vector({budget})", labels),
        Recording("slo:current_burn_rate:ratio", f"{shortest}{selector} / {budget}", labels),
        Recording("slo:period_burn_rate:ratio", f"{error_ratio_metric(PERIOD)}{selector} / {budget}", labels),
        Recording("slo:period_error_budget_remaining:ratio", f"1 - slo:period_burn_rate:ratio{selector}", labels),
    ]
    return rules


def _burn_condition(slo: Slo, window: BurnWindow) -> str:
    threshold = f"({window.factor:g} * {slo.error_budget:g})"
    selector = f'{{slo="{slo.name}"}}'
    return (
        f"(\n  {error_ratio_metric(window.long)}{selector} > {threshold}\n  and\n"
        f"  {error_ratio_metric(window.short)}{selector} > {threshold}\n  and on ()\n"
        f"  {slo.events(slo.all_events, window.long, 'increase')} >= {MIN_REQUESTS}\n)"
    )


def _burn_alert(slo: Slo, severity: Severity) -> Alert:
    windows = [w for w in BURN_WINDOWS if w.severity == severity]
    pace = ", ".join(f"{w.factor:g}x over {w.long} and {w.short}" for w in windows)
    action = "page" if severity == "critical" else "ticket"
    return Alert(
        name=slo.alert_name,
        expr="\nor\n".join(_burn_condition(slo, w) for w in windows),
        severity=severity,
        for_=FOR_BY_SEVERITY[severity],
        summary=f"The API is spending its {slo.name.removeprefix('api-')} error budget too fast.",
        description=(
            f"SLO {{{{ $labels.slo }}}}: {{{{ $value | humanizePercentage }}}} of API requests were "
            f"{slo.bad_event_phrase} over the long window, against a budget of {slo.error_budget:.2%} "
            f"({action} thresholds: {pace})."
        ),
    )


def _absent_alert(slo: Slo) -> Alert:
    return Alert(
        name="SloMetricAbsent",
        expr=f"absent({slo.sli_metric})",
        severity="warning",
        for_=SLI_ABSENT_FOR,
        labels={"slo": slo.name},
        summary="An SLO has no data, so its burn-rate alerts cannot fire.",
        description=(
            f"Prometheus has no {{{{ $labels.job }}}} series for SLO {slo.name} (value {{{{ $value }}}}): "
            "the API stopped exporting the metric or nothing scrapes it."
        ),
    )


def slo_group(slo: Slo) -> RuleGroup:
    slo.validate()
    rules: list[Alert | Recording] = [
        *_recordings(slo),
        _burn_alert(slo, "critical"),
        _burn_alert(slo, "warning"),
        _absent_alert(slo),
    ]
    return RuleGroup(name=f"slo-{slo.name}", rules=rules)


def rule_file() -> RuleFile:
    return RuleFile(stem="slo", groups=[slo_group(slo) for slo in SLOS])


_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _seconds(duration: str) -> int:
    return int(duration[:-1]) * _UNIT_SECONDS[duration[-1]]
