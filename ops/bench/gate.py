"""`python -m ops.bench.gate`: how often the canary gate catches a bad version and passes a good one.

A simulation, no fleet: seeded synthetic request streams of the reference API (four routes,
lognormal latencies, a low background error rate in both versions) go through a release's canary
steps, 5% -> 25% -> 50% of the traffic with a bake per step, and `ops.release.analysis.judge`
judges each step on everything seen so far; a version is caught when a step fails. Prints, per
scenario, the share of trials that came out as wanted against its goal, and the mean number of
requests of the last judgment; exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from itertools import compress
from typing import Literal

import numpy as np

from ops.release.analysis import GatePolicy, Request, Verdict, judge
from ops.release.engine import DEFAULT_STEP_SECONDS

# The median latency of each route (seconds); every request's latency is lognormal around it.
ROUTES = {"GET /videos": 0.012, "GET /videos/{id}": 0.005, "GET /videos/{id}/detections": 0.020, "GET /stats": 0.008}
SIGMA = 0.5  # a p99 about 3x the median
BACKGROUND_ERRORS = 0.0005  # in both versions: the odd 502 of a restarted connection
FAILURE_STATUSES = (500, 502, 504, 499)
STEPS = (0.05, 0.25, 0.50)
POLICY = GatePolicy()

Wanted = Literal["caught", "passed", "inconclusive"]


@dataclass(frozen=True)
class Scenario:
    name: str
    wanted: Wanted  # caught: some step fails; passed: every step passes; inconclusive: every step is
    goal: float  # the least share of trials that must come out as wanted
    rate: float = 60.0  # requests per second, both versions together
    failing_route: str = ""
    extra_errors: float = 0.0  # the canary's failure rate on failing_route, above the background
    slowdown: float = 1.0  # every canary latency multiplied by this


# At 60 req/s and 30 s per step, a route failing 2% of its requests shows the canary about 7
# failed requests by the end of the 50% step, and catching it 95% of the time is about all that
# allows (94.9% over 5,000 trials of other seeds at the significance level 0.05); with 45 s per
# step it is 98-99%, which is why a release's steps bake 45 s by default (DEFAULT_STEP_SECONDS).
SCENARIOS = (
    Scenario("one route fails 2% of its requests", "caught", 0.95, failing_route="GET /videos/{id}", extra_errors=0.02),
    Scenario("healthy new version", "passed", 0.99),
    Scenario("new version 3x slower", "caught", 0.95, slowdown=3.0),
    Scenario("thin traffic, 0.2 req/s", "inconclusive", 1.0, rate=0.2),
)


@dataclass(frozen=True)
class Measured:
    scenario: Scenario
    trials: int
    rate: float  # the share of trials that came out as wanted
    canary_requests: float  # mean, at each trial's last judgment
    baseline_requests: float

    @property
    def met(self) -> bool:
        return self.rate >= self.scenario.goal


def _step(
    scenario: Scenario, rng: np.random.Generator, weight: float, seconds: float
) -> tuple[list[Request], list[Request]]:
    """One step's requests: (baseline, canary), nginx sending each to the canary with chance `weight`."""
    n = int(rng.poisson(scenario.rate * seconds))
    names = list(ROUTES)
    route = rng.integers(len(names), size=n)
    to_canary = rng.random(n) < weight
    latency = np.array(list(ROUTES.values()))[route] * np.exp(SIGMA * rng.standard_normal(n))
    latency = np.where(to_canary, latency * scenario.slowdown, latency)
    failing = to_canary & (route == names.index(scenario.failing_route)) if scenario.failing_route else False
    failed = rng.random(n) < BACKGROUND_ERRORS + np.where(failing, scenario.extra_errors, 0.0)
    status = np.where(failed, rng.choice(FAILURE_STATUSES, size=n), 200)
    requests = [
        Request(names[r], s, t) for r, s, t in zip(route.tolist(), status.tolist(), latency.tolist(), strict=True)
    ]
    return list(compress(requests, ~to_canary)), list(compress(requests, to_canary))


def release(scenario: Scenario, rng: np.random.Generator, bake_seconds: float, policy: GatePolicy) -> list[Verdict]:
    """Every step's verdict, judged on all requests so far; a failed step ends the release.

    An inconclusive step moves on here (a person would be asked), so that no later step passes either.
    """
    baseline: list[Request] = []
    canary: list[Request] = []
    verdicts = []
    for weight in STEPS:
        more_baseline, more_canary = _step(scenario, rng, weight, bake_seconds)
        baseline += more_baseline
        canary += more_canary
        verdicts.append(judge(baseline, canary, policy))
        if verdicts[-1].outcome == "fail":
            break
    return verdicts


def _as_wanted(wanted: Wanted, outcomes: list[str]) -> bool:
    if wanted == "caught":
        return "fail" in outcomes
    return outcomes == [{"passed": "pass", "inconclusive": "inconclusive"}[wanted]] * len(STEPS)


def simulate(
    scenario: Scenario,
    *,
    trials: int,
    bake_seconds: float = DEFAULT_STEP_SECONDS,
    seed: int = 7,
    policy: GatePolicy = POLICY,
) -> Measured:
    """Run `trials` seeded releases of `scenario` and measure how many came out as wanted."""
    wanted = 0
    canary = baseline = 0
    for trial in range(trials):
        verdicts = release(scenario, np.random.default_rng([seed, trial]), bake_seconds, policy)
        wanted += _as_wanted(scenario.wanted, [v.outcome for v in verdicts])
        canary += int(verdicts[-1].figures["canary_requests"])
        baseline += int(verdicts[-1].figures["baseline_requests"])
    return Measured(scenario, trials, wanted / trials, canary / trials, baseline / trials)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.gate", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=500, help="releases simulated per scenario")
    parser.add_argument("--bake-seconds", type=float, default=DEFAULT_STEP_SECONDS, help="bake per canary step")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not 0 < args.trials <= 100_000 or not 0 < args.bake_seconds <= 3600:
        parser.error("--trials must be in 1..100000 and --bake-seconds in (0, 3600]")
    steps = " -> ".join(f"{weight:.0%}" for weight in STEPS)
    print(
        f"canary gate, simulated: {len(ROUTES)} routes, background errors {BACKGROUND_ERRORS:.2%}, "
        f"steps {steps}, {args.bake_seconds:g} s bake each, {args.trials} trials per scenario, seed {args.seed}"
    )
    print(POLICY)
    print(
        f"\n{'scenario':<38}{'req/s':>6}  {'wanted':<13}{'measured':>9}{'goal':>9}{'':>8}"
        f"{'canary req':>11}{'base req':>9}"
    )
    results = [simulate(s, trials=args.trials, bake_seconds=args.bake_seconds, seed=args.seed) for s in SCENARIOS]
    for row in results:
        print(
            f"{row.scenario.name:<38}{row.scenario.rate:>6g}  {row.scenario.wanted:<13}{row.rate:>9.1%}"
            f"{'>= ' + format(row.scenario.goal, '.0%'):>9}{'OK' if row.met else 'MISSED':>8}"
            f"{row.canary_requests:>11.0f}{row.baseline_requests:>9.0f}"
        )
    print("(canary req, base req: mean requests of each trial's last judgment; caught: some step failed)")
    return 0 if all(row.met for row in results) else 1


if __name__ == "__main__":
    sys.exit(main())
