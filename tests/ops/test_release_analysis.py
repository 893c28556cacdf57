"""The canary gate's statistics: clear cases of each outcome, and a short run of its simulation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ops.bench import gate
from ops.release.analysis import GatePolicy, Request, judge

ROUTES = ("GET /videos", "GET /videos/{id}", "GET /videos/{id}/detections", "GET /stats")


def traffic(
    n: int,
    *,
    seed: int,
    slowdown: float = 1.0,
    failures: dict[str, int] | None = None,
    status: int = 502,
) -> list[Request]:
    """`n` requests spread evenly over ROUTES, lognormal latencies around 10 ms; `failures` per route."""
    rng = np.random.default_rng(seed)
    latencies = (0.010 * slowdown * np.exp(0.5 * rng.standard_normal(n))).tolist()
    left = dict(failures or {})
    requests = []
    for i, seconds in enumerate(latencies):
        route = ROUTES[i % len(ROUTES)]
        failed = left.get(route, 0) > 0
        left[route] = left.get(route, 0) - failed
        requests.append(Request(route, status if failed else 200, seconds))
    return requests


def test_judge_passes_healthy_canary() -> None:
    verdict = judge(traffic(2000, seed=1), traffic(600, seed=2))

    assert verdict.outcome == "pass"
    assert verdict.reasons[0].startswith("canary errors 0/600 (0.00%) vs baseline 0/2000 (0.00%); p99 ")


def test_judge_fails_canary_failing_on_every_route() -> None:
    canary = traffic(600, seed=2, failures=dict.fromkeys(ROUTES, 5))

    verdict = judge(traffic(2000, seed=1, failures={"GET /stats": 1}), canary)

    assert verdict.outcome == "fail"
    assert verdict.reasons[0].startswith("canary errors 20/600 (3.33%) vs baseline 1/2000 (0.05%): p=")
    assert verdict.figures["errors_p"] < 1e-6


def test_judge_fails_errors_confined_to_one_route() -> None:
    canary = traffic(1440, seed=2, failures={"GET /videos/{id}": 7})

    verdict = judge(traffic(3960, seed=1, failures={"GET /videos": 1, "GET /stats": 1}), canary)

    assert verdict.outcome == "fail"
    assert verdict.reasons == ("canary errors 7/360 (1.94%) vs baseline 0/990 (0.00%) on GET /videos/{id}: p=9.2e-05",)
    assert verdict.figures["canary_failures[GET /videos/{id}]"] == 7


def test_judge_passes_canary_with_a_few_stray_failures() -> None:
    canary = traffic(1440, seed=2, failures={"GET /videos": 1, "GET /stats": 1})

    verdict = judge(traffic(3960, seed=1), canary)

    assert verdict.outcome == "pass"


@pytest.mark.parametrize("status", [499, 500, 502, 504])
def test_judge_counts_nginx_failures(status: int) -> None:
    canary = traffic(600, seed=2, failures=dict.fromkeys(ROUTES, 5), status=status)

    verdict = judge(traffic(2000, seed=1), canary)

    assert canary[0].failed
    assert verdict.outcome == "fail"
    assert verdict.figures["canary_failures"] == 20


@pytest.mark.parametrize("status", [200, 301, 404, 429])
def test_request_other_statuses_are_no_failure(status: int) -> None:
    assert not Request("GET /videos", status, 0.01).failed


def test_judge_is_inconclusive_on_thin_traffic() -> None:
    verdict = judge(traffic(40, seed=1), traffic(5, seed=2))

    assert verdict.outcome == "inconclusive"
    assert verdict.reasons == (
        "only 5 canary requests (at least 50 needed)",
        "only 40 baseline requests (at least 50 needed)",
    )


def test_judge_fails_broken_canary_before_enough_requests() -> None:
    verdict = judge(traffic(200, seed=1), traffic(5, seed=2, failures=dict.fromkeys(ROUTES, 2)))

    assert verdict.outcome == "fail"


def test_judge_fails_slower_canary() -> None:
    verdict = judge(traffic(3960, seed=1), traffic(90, seed=2, slowdown=3.0))

    assert verdict.outcome == "fail"
    assert verdict.figures["tail_p"] < 1e-6
    assert verdict.figures["rank_p"] < 1e-6
    assert verdict.figures["canary_p99_ms"] > 2 * verdict.figures["baseline_p99_ms"]


def test_judge_fails_canary_with_a_slower_tail_only() -> None:
    canary = traffic(1440, seed=2)
    canary[::30] = [Request(r.route, r.status, r.seconds * 10) for r in canary[::30]]

    verdict = judge(traffic(3960, seed=1), canary)

    assert verdict.outcome == "fail"
    assert verdict.reasons[0].startswith("canary requests 10% slower than the baseline's p99")
    assert verdict.figures["rank_p"] > verdict.figures["latency_level"]


def test_judge_passes_canary_within_latency_tolerance() -> None:
    verdict = judge(traffic(3960, seed=1), traffic(1440, seed=2, slowdown=1.03))

    assert verdict.outcome == "pass"


def test_verdict_figures_serialise_for_the_audit_record() -> None:
    verdict = judge(traffic(2000, seed=1), traffic(600, seed=2, failures={"GET /stats": 1}))

    figures = json.loads(json.dumps(verdict.figures))
    assert figures["canary_requests"] == 600
    assert figures["canary_failures"] == 1
    assert figures["canary_error_ratio"] == pytest.approx(1 / 600)
    assert {"baseline_p50_ms", "baseline_p99_ms", "canary_p50_ms", "canary_p99_ms", "errors_p", "tail_p"} <= set(
        figures
    )


@pytest.mark.parametrize("changes", [{"alpha": 0.0}, {"alpha": 1.5}, {"min_requests": 0}, {"latency_tolerance": -0.1}])
def test_gate_policy_refuses_impossible_settings(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        GatePolicy(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scenario", "least"),
    [(scenario, least) for scenario, least in zip(gate.SCENARIOS, [0.8, 0.9, 0.9, 1.0], strict=True)],
    ids=[scenario.wanted for scenario in gate.SCENARIOS],
)
def test_simulate_comes_close_to_the_goals(scenario: gate.Scenario, least: float) -> None:
    measured = gate.simulate(scenario, trials=40)

    assert measured.rate >= least


def test_main_prints_one_line_per_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    gate.main(["--trials", "5", "--bake-seconds", "10"])

    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith(tuple(s.name for s in gate.SCENARIOS))] == lines[4:8]
