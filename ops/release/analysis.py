"""The canary gate's statistics: a canary's requests judged against the baseline's of the same window.

nginx splits the traffic between the old version (the baseline) and the new one (the canary) at
the same time, so the two samples differ only by the version. `judge` fails the canary when it is
significantly worse, in errors (overall or on one route) or in latency; passes it when enough of
its requests were seen and nothing is worse; and otherwise calls it inconclusive, never a pass.

Errors: Fisher's exact test, one-sided (the canary fails more often), exact however rare the
failures; overall and per route, so that a failure confined to one route of several is not
diluted by the others. Those tests form one family, corrected with Tarone's modified Bonferroni:
a test whose failures are too few to ever reach significance is not counted, so with rare
background failures the correction costs a failing route almost no power, and a healthy canary
still passes. Failures can fail a canary before `min_requests` (three 502s out of five requests).

Latency, on the successful requests and from `min_requests` on: two tests, Bonferroni within their
family, each on the canary's latencies shrunk by the tolerance (so the null is "at most that much
slower"). Neither does the other's job, as measured on the simulated traffic of `ops.bench.gate`
(1,440 canary and 3,960 baseline requests): the share of canary requests above the baseline's p99
(Fisher) catches 3% of requests turning 10x slower every time, where Mann-Whitney's rank test
never does; the rank test catches every request turning 1.3x slower 97% of the time, where the
tail test does 27%.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Literal

import numpy as np
from scipy import stats

Outcome = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class Request:
    """One request from nginx's access log, served by either version."""

    route: str  # the path template, e.g. "GET /videos/{id}"
    status: int  # nginx's own 502, 504 and 499 included
    seconds: float  # nginx's request time
    at: float = 0.0  # when nginx logged it (seconds since the epoch, the lb's clock)

    @property
    def failed(self) -> bool:
        return self.status >= 500 or self.status == 499


@dataclass(frozen=True)
class GatePolicy:
    # Fewer canary (or baseline) requests than this are never a pass.
    min_requests: int = 50
    # The significance level: at most this chance, per judgment and per family of tests (errors,
    # latency), that a canary no worse than the baseline fails. Fisher's test is conservative with
    # rare failures, so the real rate is lower (`python -m ops.bench.gate` measures it per release:
    # at 0.05, 1.4% of healthy canaries failed one of their three judgments at 45 s a step; at 0.02
    # none of 800, while a route failing 2% of its requests is still caught in 98-99%).
    alpha: float = 0.02
    # A test's failures fail the gate only when the canary's error ratio exceeds the baseline's by
    # more than this (0.5 percentage points) and counts at least `min_failures` failed requests:
    # a stray 502 or two is no regression.
    error_tolerance: float = 0.005
    min_failures: int = 3
    # The tail that latency is judged on, and how much slower the canary may be (10%) before it fails.
    latency_quantile: float = 0.99
    latency_tolerance: float = 0.10

    def __post_init__(self) -> None:
        if not (0 < self.alpha < 1 and 0 < self.latency_quantile < 1):
            raise ValueError("alpha and latency_quantile must be between 0 and 1")
        if min(self.min_requests, self.min_failures) < 1 or min(self.error_tolerance, self.latency_tolerance) < 0:
            raise ValueError("min_requests and min_failures must be positive, the tolerances not negative")


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[str, ...]
    # Counts, ratios, latencies (ms) and p-values, for the audit record and the report.
    figures: dict[str, float | int]


def judge(
    baseline: Sequence[Request],
    canary: Sequence[Request],
    policy: GatePolicy = GatePolicy(),
    *,
    latency_canary: Sequence[Request] | None = None,
) -> Verdict:
    """Judge the canary's requests against the baseline's, both from the same window.

    `latency_canary`, when given, is the part of the canary's requests its latency is judged on
    (the ones after its warm-up: a slot's first requests open its connections); its errors are
    always judged on all of them."""
    base, can = _Side.of(baseline), _Side.of(canary)
    warm = can if latency_canary is None else _Side.of(latency_canary)
    figures: dict[str, float | int] = {}
    reasons = _errors(base, can, policy, figures) + _latency(base, warm, policy, figures)
    if reasons:
        return Verdict("fail", tuple(reasons), figures)
    few = [
        f"only {side.total.requests} {name} requests (at least {policy.min_requests} needed)"
        for name, side in (("canary", can), ("baseline", base))
        if side.total.requests < policy.min_requests
    ]
    if few:
        return Verdict("inconclusive", tuple(few), figures)
    summary = f"canary errors {can.total} vs baseline {base.total}"
    if "canary_p99_ms" in figures and "baseline_p99_ms" in figures:
        summary += f"; p99 {figures['canary_p99_ms']:.1f} ms vs {figures['baseline_p99_ms']:.1f} ms"
    return Verdict("pass", (summary,), figures)


@dataclass(frozen=True)
class _Counts:
    requests: int = 0
    failures: int = 0

    @property
    def ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def __str__(self) -> str:
        return f"{self.failures}/{self.requests} ({self.ratio:.2%})"


@dataclass(frozen=True)
class _Side:
    """One version's requests and failures, overall and per route, and its successful requests' latencies."""

    total: _Counts
    routes: dict[str, _Counts]
    seconds: np.ndarray

    @classmethod
    def of(cls, requests: Sequence[Request]) -> _Side:
        status = np.fromiter(map(attrgetter("status"), requests), dtype=np.int64, count=len(requests))
        failed = (status >= 500) | (status == 499)  # Request.failed, all at once
        routes = list(map(attrgetter("route"), requests))
        failures = Counter(routes[i] for i in np.flatnonzero(failed))
        seconds = np.fromiter(map(attrgetter("seconds"), requests), dtype=float, count=len(requests))
        return cls(
            _Counts(len(requests), int(failed.sum())),
            {route: _Counts(n, failures[route]) for route, n in Counter(routes).items()},
            seconds[~failed],
        )


def _greater(canary_hits: int, canary_n: int, baseline_hits: int, baseline_n: int) -> tuple[float, float]:
    """Fisher's one-sided p that the canary's share of hits is larger, and the least p these margins allow."""
    hits = canary_hits + baseline_hits
    if hits == 0 or canary_n == 0 or baseline_n == 0:
        return 1.0, 1.0
    table = [[canary_hits, canary_n - canary_hits], [baseline_hits, baseline_n - baseline_hits]]
    p = float(stats.fisher_exact(table, alternative="greater").pvalue)
    # The most extreme table: every hit in the canary (or as many as it has requests).
    least = float(stats.hypergeom.pmf(min(hits, canary_n), canary_n + baseline_n, hits, canary_n))
    return p, least


def _tarone_level(least_ps: Sequence[float], alpha: float) -> float:
    """Tarone's per-test level: alpha over the number of tests that could reach it at all."""
    for k in range(1, len(least_ps) + 1):
        if sum(least <= alpha / k for least in least_ps) <= k:
            return alpha / k
    return alpha / max(len(least_ps), 1)


def _errors(base: _Side, can: _Side, policy: GatePolicy, figures: dict[str, float | int]) -> list[str]:
    figures |= {
        "baseline_requests": base.total.requests,
        "canary_requests": can.total.requests,
        "baseline_failures": base.total.failures,
        "canary_failures": can.total.failures,
        "baseline_error_ratio": base.total.ratio,
        "canary_error_ratio": can.total.ratio,
    }
    # The overall test, then one per route the canary served (one route alone is the overall test).
    tests = {"": (can.total, base.total)}
    if len(can.routes) > 1:
        tests |= {route: (counts, base.routes.get(route, _Counts())) for route, counts in sorted(can.routes.items())}
    results = {name: _greater(c.failures, c.requests, b.failures, b.requests) for name, (c, b) in tests.items()}
    level = _tarone_level([least for _, least in results.values()], policy.alpha)
    figures["errors_level"] = level
    reasons = []
    for name, (c, b) in tests.items():
        p = results[name][0]
        if name:
            figures |= {f"canary_requests[{name}]": c.requests, f"canary_failures[{name}]": c.failures}
            figures |= {f"baseline_requests[{name}]": b.requests, f"baseline_failures[{name}]": b.failures}
        figures[f"errors_p[{name}]" if name else "errors_p"] = p
        worse = c.ratio - b.ratio > policy.error_tolerance and c.failures >= policy.min_failures
        if worse and p < level:
            reasons.append(f"canary errors {c} vs baseline {b}{f' on {name}' if name else ''}: p={p:.2g}")
    return reasons


def _latency(base: _Side, can: _Side, policy: GatePolicy, figures: dict[str, float | int]) -> list[str]:
    # Failed requests are judged as errors: a fast 502 must not make the canary look quick.
    for name, side in (("baseline", base), ("canary", can)):
        if len(side.seconds):
            p50, p99 = np.quantile(side.seconds, [0.5, 0.99]) * 1000
            figures |= {f"{name}_p50_ms": float(p50), f"{name}_p99_ms": float(p99)}
    if min(len(base.seconds), len(can.seconds)) < policy.min_requests:
        return []  # no tail to speak of
    shrunk = can.seconds / (1 + policy.latency_tolerance)
    tail = float(np.quantile(base.seconds, policy.latency_quantile))
    canary_slow, baseline_slow = int(np.sum(shrunk > tail)), int(np.sum(base.seconds > tail))
    tail_p, _ = _greater(canary_slow, len(shrunk), baseline_slow, len(base.seconds))
    rank_p = float(stats.mannwhitneyu(shrunk, base.seconds, alternative="greater").pvalue)
    level = policy.alpha / 2
    figures |= {"latency_level": level, "tail_p": tail_p, "rank_p": rank_p}
    figures |= {"canary_slow": canary_slow, "baseline_slow": baseline_slow, "slow_ms": tail * 1000}
    slower = f"{policy.latency_tolerance:.0%} slower than"
    reasons = []
    if tail_p < level:
        reasons.append(
            f"canary requests {slower} the baseline's p{policy.latency_quantile * 100:g} ({tail * 1000:.1f} ms): "
            f"{canary_slow}/{len(shrunk)} vs baseline {baseline_slow}/{len(base.seconds)} above it: p={tail_p:.2g}"
        )
    if rank_p < level:
        reasons.append(
            f"canary latencies {slower} the baseline's (p50 {figures['canary_p50_ms']:.1f} ms vs "
            f"{figures['baseline_p50_ms']:.1f} ms, rank test): p={rank_p:.2g}"
        )
    return reasons
