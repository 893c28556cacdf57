"""`python -m ops.compliance --env NAME | --inventory PATH`: the hardening checklist as a report.

Exit status: 0 when no host fails a control, 1 when some do, 2 when the run itself failed.

`python -m ops.compliance checklist [--check]` writes docs/compliance/checklist.md from the
checklist data (with --check: exit 1 when the committed file differs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ops.compliance import checklist_doc
from ops.compliance.checklist import ChecklistError, checklist, control_sort_key
from ops.compliance.results import ControlResult, Outcome, totals
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


def _checklist_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ops.compliance checklist",
        description="Write docs/compliance/checklist.md from ops/compliance/checklist.yml.",
    )
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when the file differs")
    return parser


def checklist_main(argv: list[str]) -> int:
    args = _checklist_parser().parse_args(argv)
    path = REPO_ROOT / checklist_doc.DOC_PATH
    try:
        text = checklist_doc.render(checklist())
    except ChecklistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if args.check:
        if current != text:
            print(f"{checklist_doc.DOC_PATH} is out of date: run python -m ops.compliance checklist", file=sys.stderr)
            return 1
        print(f"{checklist_doc.DOC_PATH} matches the checklist")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {checklist_doc.DOC_PATH} ({'unchanged' if current == text else 'updated'})")
    return 0


def print_failures(failures: list[ControlResult]) -> None:
    """One block per failing control: the hosts, the title and the fix."""
    hosts: dict[str, list[str]] = {}
    for failure in failures:
        hosts.setdefault(failure.control, []).append(failure.host)
    for control_id, names in sorted(hosts.items(), key=lambda item: control_sort_key(item[0])):
        control = checklist().controls.get(control_id)
        title = control.title if control else "(not in the checklist)"
        print(f"FAIL {control_id} {title}: {', '.join(names)}")
        if control:
            print(f"     fix: {control.fix}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["checklist"]:
        return checklist_main(argv[1:])
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
    print_failures(run.failures)
    for loose in run.loose_failures:
        print(f"ERROR {loose.test_id}: {loose.message[:200]}")
    shown = run.report.relative_to(REPO_ROOT) if run.report.is_relative_to(REPO_ROOT) else run.report
    print(f"report: {shown}  junit: {run.junit.name} next to it")
    return 0 if run.ok else 1
