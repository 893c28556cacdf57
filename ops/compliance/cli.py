"""`python -m ops.compliance --env NAME | --inventory PATH`: the hardening checklist as a report.

Exit status: 0 when no host fails a control, 1 when some do, 2 when the run itself failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ops.compliance.results import Outcome, totals
from ops.compliance.run import REPO_ROOT, run_compliance
from ops.errors import OpsError
from ops.fleet import model
from ops.fleet.state import EnvPaths


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ops.compliance", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--env", help="a local environment: uses .slipway/ENV/inventory/hosts.yml")
    target.add_argument("--inventory", type=Path, help="any Ansible inventory (aws included)")
    parser.add_argument(
        "--out",
        type=Path,
        help="directory for junit.xml and report.md (default: .slipway/ENV/compliance, or next to the inventory)",
    )
    parser.add_argument("--platform", help="waivers of this platform (default: each host's slipway_platform)")
    parser.add_argument("--hosts", default="", help="comma-separated hosts to check (default: all)")
    parser.add_argument("--controls", default="", help="comma-separated control ids to check (default: all)")
    return parser


def _split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.env is not None:
            model.check_env_name(args.env)
            paths = EnvPaths.for_env(args.env)
            inventory = paths.inventory_file
            out = args.out or paths.root / "compliance"
            title = f"Compliance report: environment {args.env}"
        else:
            inventory = args.inventory.resolve()
            out = args.out or inventory.parent / "compliance"
            title = f"Compliance report: {inventory.name}"
        run = run_compliance(
            inventory,
            out.resolve(),
            title=title,
            platform=args.platform,
            hosts=_split(args.hosts),
            controls=_split(args.controls),
        )
    except OpsError as error:
        print(error.render(), file=sys.stderr)
        return 2
    for host, controls in run.grouped.items():
        count = totals(controls)
        print(
            f"{host:<8} pass {count[Outcome.PASS]:>3}  fail {count[Outcome.FAIL]:>3}  waived {count[Outcome.WAIVED]:>3}"
        )
    for failure in run.failures:
        print(f"FAIL {failure.host} {failure.control}")
    for loose in run.loose_failures:
        print(f"ERROR {loose.test_id}: {loose.message[:200]}")
    shown = run.report.relative_to(REPO_ROOT) if run.report.is_relative_to(REPO_ROOT) else run.report
    print(f"report: {shown}  junit: {run.junit.name} next to it")
    return 0 if run.ok else 1
