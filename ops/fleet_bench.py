"""Benchmark of the main job: time from nothing to serving, and of the idempotent re-run.

`python -m ops.fleet_bench [--env bench] [--keep]` removes the environment, runs everything
`./deploy.sh local` runs (smoke test included), then site.yml again, and prints both times next
to their goals (12 min and 3 min on a 2-core machine). Images already built
on the machine are reused, as they would be on an operator's second environment.
"""

from __future__ import annotations

import argparse
import sys
import time

from ops.deploy.local import deploy, site_extra_vars
from ops.errors import OpsError
from ops.fleet import lifecycle
from ops.playbook import run_playbook

GOAL_FROM_NOTHING_SECONDS = 12 * 60
GOAL_RERUN_SECONDS = 3 * 60


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def bench(env: str, *, keep: bool) -> list[str]:
    lifecycle.down(env, purge_state=True)
    started = time.monotonic()
    deployment = deploy(env, smoke=True)
    from_nothing = time.monotonic() - started
    rerun = run_playbook(
        env, "site.yml", extra_vars=site_extra_vars(deployment.pull_name, force_image=False), progress=lambda _: None
    )
    changed = sum(rerun.changed.values())
    if not keep:
        lifecycle.down(env, purge_state=True)
    return [
        "fleet benchmark (local platform, 6 hosts)",
        f"  from nothing to serving (deploy.sh local, smoke included): {_minutes(from_nothing)} min"
        f"  (goal <= {_minutes(GOAL_FROM_NOTHING_SECONDS)})",
        f"    of which site.yml first run: {_minutes(deployment.site.seconds)} min",
        f"  idempotent site.yml re-run: {_minutes(rerun.seconds)} min, {changed} changes"
        f"  (goal <= {_minutes(GOAL_RERUN_SECONDS)}, 0 changes)",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.fleet_bench", description=__doc__)
    parser.add_argument("--env", default="bench")
    parser.add_argument("--keep", action="store_true", help="leave the environment up afterwards")
    args = parser.parse_args(argv)
    try:
        lines = bench(args.env, keep=args.keep)
    except OpsError as error:
        print(error.render(), file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
