"""The Markdown report: totals per host; each failing control with its title, its fix and the
failed checks' messages; the waivers with their reasons; per host and control pass, fail or
waived; and the controls not implemented. Titles and fixes come from the checklist data."""

from __future__ import annotations

from collections import Counter

from ops.compliance.checklist import Checklist, control_sort_key
from ops.compliance.results import CheckResult, ControlResult, Outcome, totals

MARK = {Outcome.PASS: "pass", Outcome.FAIL: "**FAIL**", Outcome.WAIVED: "waived"}
UNKNOWN_TITLE = "(not in the checklist)"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _title(checklist: Checklist, control_id: str) -> str:
    control = checklist.controls.get(control_id)
    return control.title if control else UNKNOWN_TITLE


def _failures(
    grouped: dict[str, dict[str, ControlResult]], loose_failures: list[CheckResult], checklist: Checklist
) -> list[str]:
    failed: dict[str, list[ControlResult]] = {}
    for controls in grouped.values():
        for r in controls.values():
            if r.outcome is Outcome.FAIL:
                failed.setdefault(r.control, []).append(r)
    if not failed and not loose_failures:
        return []
    lines = ["## Failures", ""]
    for control_id in sorted(failed, key=control_sort_key):
        results = failed[control_id]
        control = checklist.controls.get(control_id)
        lines.append(f"### {control_id}: {_title(checklist, control_id)}")
        lines.append("")
        lines.append(f"- **Hosts**: {', '.join(r.host for r in results)}")
        if control is not None:
            lines.append(f"- **Checks**: {control.checks}")
            lines.append(f"- **Fix**: {control.fix}")
        lines.append("")
        for r in results:
            for check in r.checks:
                if check.outcome is Outcome.FAIL:
                    lines.append(f"- {r.host} {r.control} `{check.test_id}`: {_cell(check.message)[:300]}")
        lines.append("")
    if loose_failures:
        lines += ["### Errors outside any control", ""]
        lines += [f"- (no host) `{check.test_id}`: {_cell(check.message)[:300]}" for check in loose_failures]
        lines.append("")
    return lines


def render(
    *,
    title: str,
    grouped: dict[str, dict[str, ControlResult]],
    checklist: Checklist,
    loose_failures: list[CheckResult],
) -> str:
    not_implemented = checklist.not_implemented
    lines = [f"# {title}", ""]
    implemented = {c for controls in grouped.values() for c in controls}
    run_and_passed = {c for controls in grouped.values() for c, r in controls.items() if r.outcome is Outcome.PASS}
    lines += [
        f"Controls that ran: {len(implemented)} of {len(checklist.controls)} in the checklist "
        f"(not implemented: {len(not_implemented)}). "
        f"Controls that ran and passed on at least one host: {len(run_and_passed)}. "
        "docs/compliance/checklist.md explains every control.",
        "",
        "## Totals per host",
        "",
        "| host | controls | pass | fail | waived | checks run |",
        "|---|---|---|---|---|---|",
    ]
    grand: Counter[Outcome] = Counter()
    for host, controls in grouped.items():
        count = totals(controls)
        grand += count
        checks = sum(len(c.checks) for c in controls.values())
        lines.append(
            f"| {host} | {len(controls)} | {count[Outcome.PASS]} | {count[Outcome.FAIL]} | "
            f"{count[Outcome.WAIVED]} | {checks} |"
        )
    lines.append(
        f"| **all** | {sum(grand.values())} | {grand[Outcome.PASS]} | {grand[Outcome.FAIL]} | "
        f"{grand[Outcome.WAIVED]} | |"
    )
    lines.append("")

    lines += _failures(grouped, loose_failures, checklist)

    lines += ["## Waivers", "", "| control | title | hosts | reason |", "|---|---|---|---|"]
    waivers: dict[tuple[str, str], list[str]] = {}
    for host, controls in grouped.items():
        for r in controls.values():
            for reason in r.waiver_reasons:
                waivers.setdefault((r.control, reason), []).append(host)
    for (control, reason), hosts in sorted(waivers.items(), key=lambda item: control_sort_key(item[0][0])):
        lines.append(f"| {control} | {_cell(_title(checklist, control))} | {', '.join(hosts)} | {_cell(reason)} |")
    lines.append("")

    lines += ["## Per host and control", ""]
    for host, controls in grouped.items():
        lines += [f"### {host}", "", "| control | title | result | checks | note |", "|---|---|---|---|---|"]
        for control, r in controls.items():
            passed = sum(c.outcome is Outcome.PASS for c in r.checks)
            note = "some checks waived" if r.partly_waived else ""
            lines.append(
                f"| {control} | {_cell(_title(checklist, control))} | {MARK[r.outcome]} | "
                f"{passed}/{len(r.checks)} passed | {note} |"
            )
        lines.append("")

    lines += ["## Not implemented", "", "| control | title | reason |", "|---|---|---|"]
    for control, reason in sorted(not_implemented.items(), key=lambda item: control_sort_key(item[0])):
        lines.append(f"| {control} | {_cell(_title(checklist, control))} | {_cell(reason)} |")
    lines.append("")
    return "\n".join(lines)
