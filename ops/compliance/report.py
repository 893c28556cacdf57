"""The Markdown report: totals per host, then per host and control pass, fail or waived, the
waivers with their reasons, the failures with their messages, and the controls not implemented."""

from __future__ import annotations

from collections import Counter

from ops.compliance.results import CheckResult, ControlResult, Outcome, control_sort_key, totals

MARK = {Outcome.PASS: "pass", Outcome.FAIL: "**FAIL**", Outcome.WAIVED: "waived"}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _failures(grouped: dict[str, dict[str, ControlResult]], loose_failures: list[CheckResult]) -> list[str]:
    failed = [r for controls in grouped.values() for r in controls.values() if r.outcome is Outcome.FAIL]
    if not failed and not loose_failures:
        return []
    lines = ["## Failures", ""]
    for r in failed:
        for check in r.checks:
            if check.outcome is Outcome.FAIL:
                lines.append(f"- {r.host} {r.control} `{check.test_id}`: {_cell(check.message)[:300]}")
    lines += [f"- (no host) `{check.test_id}`: {_cell(check.message)[:300]}" for check in loose_failures]
    lines.append("")
    return lines


def render(
    *,
    title: str,
    grouped: dict[str, dict[str, ControlResult]],
    not_implemented: dict[str, str],
    loose_failures: list[CheckResult],
) -> str:
    lines = [f"# {title}", ""]
    implemented = {c for controls in grouped.values() for c in controls}
    run_and_passed = {c for controls in grouped.values() for c, r in controls.items() if r.outcome is Outcome.PASS}
    lines += [
        f"Controls implemented: {len(implemented)}; not implemented: {len(not_implemented)}. "
        f"Controls that ran and passed on at least one host: {len(run_and_passed)}.",
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

    lines += _failures(grouped, loose_failures)

    lines += ["## Waivers", "", "| control | hosts | reason |", "|---|---|---|"]
    waivers: dict[tuple[str, str], list[str]] = {}
    for host, controls in grouped.items():
        for r in controls.values():
            for reason in r.waiver_reasons:
                waivers.setdefault((r.control, reason), []).append(host)
    for (control, reason), hosts in sorted(waivers.items(), key=lambda item: control_sort_key(item[0][0])):
        lines.append(f"| {control} | {', '.join(hosts)} | {_cell(reason)} |")
    lines.append("")

    lines += ["## Per host and control", ""]
    for host, controls in grouped.items():
        lines += [f"### {host}", "", "| control | result | checks | note |", "|---|---|---|---|"]
        for control, r in controls.items():
            passed = sum(c.outcome is Outcome.PASS for c in r.checks)
            note = "some checks waived" if r.partly_waived else ""
            lines.append(f"| {control} | {MARK[r.outcome]} | {passed}/{len(r.checks)} passed | {note} |")
        lines.append("")

    lines += ["## Not implemented", "", "| control | reason |", "|---|---|"]
    for control, reason in sorted(not_implemented.items(), key=lambda item: control_sort_key(item[0])):
        lines.append(f"| {control} | {_cell(reason)} |")
    lines.append("")
    return "\n".join(lines)
