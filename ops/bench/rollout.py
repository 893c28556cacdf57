"""`python -m ops.bench.rollout`: how long releases and rollbacks take on 2 app hosts, and what
clients see meanwhile.

Against a local fleet (default env `bench`, stood up first if missing): a steady-state load
through nginx over TLS gives p50/p99; then, under the same load: a release of the running image
stamped with a new version (no image build) in host batches; a warm rollback (the previous slot
still runs, so nginx switches to it); a canary release through every step; and a cold rollback
(the warm slots stopped first, so the old image starts again). Prints each duration, the time a
warm rollback takes until nginx serves the old version, p50/p99 during the rollout against steady
state and the failed requests (client retries on and off), with the goals. The fleet ends on the
release it started with.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ops.deploy.local import deploy
from ops.errors import OpsError
from ops.fleet.state import REPO_ROOT, EnvPaths, FleetState
from ops.load import BackgroundLoad, LoadReport
from ops.release import fleet_view
from ops.release.engine import ReleaseOptions
from ops.release.environments import open_releaser
from ops.release.target import ReleaseTarget, resolve

GOALS = {"rollout_seconds": 60.0, "warm_rollback_to_traffic": 2.0, "cold_rollback_seconds": 20.0, "p99_ratio": 2.0}
# Stops every app host's idle slot (a release keeps it warm), so the next rollback starts cold.
_RETIRE_WARM_SLOTS = (
    "systemctl stop 'slipway-retire-api-*.timer'; active=$(cat /etc/slipway/app/active-slot); "
    "for slot in blue green; do [ $slot = $active ] || systemctl stop slipway-api@$slot; done"
)


def _retire_warm_slots(target: ReleaseTarget) -> None:
    command = [str(Path(sys.executable).parent / "ansible"), "app", "-i", str(target.inventory_file), "-b",
               "-m", "ansible.builtin.shell", "-a", _RETIRE_WARM_SLOTS]  # fmt: skip
    environment = os.environ | {"ANSIBLE_CONFIG": str(REPO_ROOT / "playbooks" / "ansible.cfg")}
    subprocess.run(command, cwd=REPO_ROOT / "playbooks", env=environment, capture_output=True, check=True, timeout=300)


def _window(report: LoadReport, start: float, end: float) -> LoadReport:
    return LoadReport([s for s in report.samples if start <= s.started <= end], seconds=end - start)


def measure(
    env: str, *, rate: float, concurrency: int, steady_seconds: float, bake: int, step_seconds: int
) -> dict[str, object]:
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
    load = BackgroundLoad(url, concurrency=concurrency, rate=rate, verify=str(paths.ca_cert), max_seconds=1800)
    stamp = time.strftime("%H%M%S")
    with load:
        time.sleep(steady_seconds)
        steady_end = load.elapsed()
        rollout = releaser.release(
            f"bench-{stamp}", ReleaseOptions(from_image=local_image, serial="1", bake_seconds=bake)
        )
        rollout_end = load.elapsed()
        rollout_start = rollout_end - rollout.seconds + rollout.durations.get("image", 0.0)
        warm = releaser.rollback(rollout.previous)
        canary = releaser.release(
            f"bench-{stamp}-canary",
            ReleaseOptions(from_image=local_image, canary=(5, 25, 50), step_seconds=step_seconds),
        )
        _retire_warm_slots(target)
        cold = releaser.rollback(rollout.previous)
    steady = _window(load.report, 0.0, steady_end)
    during = _window(load.report, rollout_start, rollout_end)
    rollout_seconds = rollout.seconds - rollout.durations.get("image", 0.0)
    canary_seconds = canary.seconds - canary.durations.get("image", 0.0)
    warm_to_traffic = warm.durations.get("to_traffic", warm.seconds)
    p99_ratio = during.percentile(99) / steady.percentile(99)
    return {
        "env": env,
        "app_hosts": len(target.app_hosts()),
        "rollout_seconds": round(rollout_seconds, 1),
        "rollout_phases": {key: round(value, 1) for key, value in rollout.durations.items()},
        "warm_rollback_seconds": round(warm.seconds, 1),
        "warm_rollback_to_traffic": round(warm_to_traffic, 1),
        "canary_seconds": round(canary_seconds, 1),
        "canary_phases": {key: round(value, 1) for key, value in canary.durations.items()},
        "cold_rollback_seconds": round(cold.seconds, 1),
        "steady": steady.summary(),
        "during_rollout": during.summary(),
        "p99_ratio": round(p99_ratio, 2),
        "requests": load.report.total,
        "failed_requests": len(load.report.failures),
        # A GET resent once on a connection nginx closed unanswered would have failed with retries off.
        "failed_requests_without_retry": len(load.report.failures) + int(load.report.summary()["retried"]),
        "goals_met": {
            "rollout": rollout_seconds <= GOALS["rollout_seconds"],
            "warm_rollback": warm_to_traffic <= GOALS["warm_rollback_to_traffic"],
            "cold_rollback": cold.seconds <= GOALS["cold_rollback_seconds"],
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
    parser.add_argument("--step-seconds", type=int, default=20, help="bake of each canary step (seconds)")
    args = parser.parse_args(argv)
    try:
        figures = measure(
            args.env, rate=args.rate, concurrency=args.concurrency, steady_seconds=args.steady_seconds,
            bake=args.bake, step_seconds=args.step_seconds,
        )  # fmt: skip
    except OpsError as error:
        print(error.render(), file=sys.stderr)
        return 1
    steady, during = figures["steady"], figures["during_rollout"]
    assert isinstance(steady, dict)
    assert isinstance(during, dict)
    hosts = figures["app_hosts"]
    print(f"rollout        {figures['rollout_seconds']}s for {hosts} app hosts in batches (goal <= 60 s, no build)")
    print(f"warm rollback  {figures['warm_rollback_to_traffic']}s until nginx serves the old version (goal <= 2 s), "
          f"{figures['warm_rollback_seconds']}s to the end of the command")  # fmt: skip
    print(
        f"canary         {figures['canary_seconds']}s: 5% -> 25% -> 50% ({args.step_seconds} s each), then the switch"
    )
    print(f"cold rollback  {figures['cold_rollback_seconds']}s (goal <= 20 s)")
    print(f"steady         p50 {steady['p50_ms']} ms  p99 {steady['p99_ms']} ms")
    print(f"rollout        p50 {during['p50_ms']} ms  p99 {during['p99_ms']} ms  "
          f"({figures['p99_ratio']}x steady; goal <= 2x)")  # fmt: skip
    print(
        f"failed         {figures['failed_requests']} of {figures['requests']} requests "
        f"({figures['failed_requests_without_retry']} with client retries off)"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
