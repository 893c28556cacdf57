"""`python -m ops.bench.rollout`: how long a release and a rollback take on 2 app hosts, and what
clients see meanwhile.

Against a local fleet (default env `bench`, stood up first if missing): a steady-state load
through nginx over TLS gives p50/p99; then, under the same load, a release of the running image
stamped with a new version (no image build) and a rollback to the release before it. Prints the
rollout and rollback durations and p50/p99 during the rollout against steady state, with the
goals (rollout <= 60 s without the build, rollback <= 30 s, p99 during rollout <= 2x steady).
The fleet ends on the release it started with.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ops.deploy.local import deploy
from ops.errors import OpsError
from ops.fleet.state import EnvPaths, FleetState
from ops.load import BackgroundLoad, LoadReport
from ops.release import fleet_view
from ops.release.engine import ReleaseOptions
from ops.release.environments import open_releaser
from ops.release.target import resolve

GOALS = {"rollout_seconds": 60.0, "rollback_seconds": 30.0, "p99_ratio": 2.0}


def _window(report: LoadReport, start: float, end: float) -> LoadReport:
    return LoadReport([s for s in report.samples if start <= s.started <= end], seconds=end - start)


def measure(env: str, *, rate: float, concurrency: int, steady_seconds: float, bake: int) -> dict[str, object]:
    paths = EnvPaths.for_env(env)
    if FleetState.load(paths) is None:
        deploy(env, smoke=False)
    state = FleetState.load(paths)
    assert state is not None
    target = resolve(env)
    releaser = open_releaser(env, say=lambda message: print(message, file=sys.stderr))
    running, _ = releaser.driver.read()
    local_image = "slipway/app:" + sorted(running.values())[0].rsplit(":", 1)[1]
    url = f"https://127.0.0.1:{state.https_port}/health/live"
    load = BackgroundLoad(url, concurrency=concurrency, rate=rate, verify=str(paths.ca_cert), max_seconds=1200)
    with load:
        time.sleep(steady_seconds)
        steady_end = load.elapsed()
        version = f"bench-{time.strftime('%H%M%S')}"
        rollout = releaser.release(version, ReleaseOptions(from_image=local_image, serial="1", bake_seconds=bake))
        rollout_end = load.elapsed()
        rollout_start = rollout_end - rollout.seconds + rollout.durations.get("image", 0.0)
        back = releaser.rollback(rollout.previous)
        rollback_end = load.elapsed()
    steady = _window(load.report, 0.0, steady_end)
    during = _window(load.report, rollout_start, rollout_end)
    during_rollback = _window(load.report, rollback_end - back.seconds, rollback_end)
    rollout_seconds = rollout.seconds - rollout.durations.get("image", 0.0)
    p99_ratio = during.percentile(99) / steady.percentile(99)
    return {
        "env": env,
        "app_hosts": len(target.app_hosts()),
        "rollout_seconds": round(rollout_seconds, 1),
        "rollout_phases": {key: round(value, 1) for key, value in rollout.durations.items()},
        "rollback_seconds": round(back.seconds, 1),
        "steady": steady.summary(),
        "during_rollout": during.summary(),
        "during_rollback": during_rollback.summary(),
        "p99_ratio": round(p99_ratio, 2),
        "failed_requests": len(load.report.failures),
        # A GET resent once on a connection nginx closed unanswered would have failed with retries off.
        "failed_requests_without_retry": len(load.report.failures) + int(load.report.summary()["retried"]),
        "goals_met": {
            "rollout": rollout_seconds <= GOALS["rollout_seconds"],
            "rollback": back.seconds <= GOALS["rollback_seconds"],
            "p99": p99_ratio <= GOALS["p99_ratio"],
        },
        "running_after": sorted({fleet_view.version_of(v.active_image) for v in fleet_view.read(target).values()}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.rollout", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="bench", help="local fleet to measure on (default: bench)")
    parser.add_argument("--rate", type=float, default=60.0, help="requests per second through nginx")
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--steady-seconds", type=float, default=20.0)
    parser.add_argument("--bake", type=int, default=10, help="gate window per batch (seconds)")
    args = parser.parse_args(argv)
    try:
        figures = measure(
            args.env, rate=args.rate, concurrency=args.concurrency, steady_seconds=args.steady_seconds, bake=args.bake
        )
    except OpsError as error:
        print(error.render(), file=sys.stderr)
        return 1
    steady, during = figures["steady"], figures["during_rollout"]
    assert isinstance(steady, dict)
    assert isinstance(during, dict)
    print(f"rollout  {figures['rollout_seconds']}s for {figures['app_hosts']} app hosts (goal <= 60 s, no build)")
    print(f"rollback {figures['rollback_seconds']}s (goal <= 30 s)")
    print(f"steady   p50 {steady['p50_ms']} ms  p99 {steady['p99_ms']} ms")
    print(
        f"rollout  p50 {during['p50_ms']} ms  p99 {during['p99_ms']} ms  ({figures['p99_ratio']}x steady; goal <= 2x)"
    )
    print(
        f"failed   {figures['failed_requests']} requests "
        f"({figures['failed_requests_without_retry']} with client retries off)"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
