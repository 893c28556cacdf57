"""docs/compliance/checklist.md, generated from the checklist data
(`python -m ops.compliance checklist`; `--check` fails when the committed file differs)."""

from __future__ import annotations

from collections import Counter

from ops.compliance.checklist import GROUPS, SOURCE_KINDS, Checklist, Control, Severity

DOC_PATH = "docs/compliance/checklist.md"


def _sources(control: Control) -> str:
    return "; ".join(f"{SOURCE_KINDS[kind]} {', '.join(items)}" for kind, items in control.sources.items())


def _control(control: Control) -> list[str]:
    lines = [
        f"### {control.id}: {control.title}",
        "",
        f"- **Checks**: {control.checks}",
        f"- **Why**: {control.rationale}",
        f"- **Fix**: {control.fix}",
        f"- **Severity**: {control.severity}; **sources**: {_sources(control)}",
    ]
    if not control.implemented:
        lines.append(f"- **Not implemented**: {control.not_implemented}")
    return [*lines, ""]


def render(checklist: Checklist) -> str:
    controls = list(checklist.controls.values())
    implemented = sum(c.implemented for c in controls)
    severities = Counter(c.severity for c in controls)
    cited = Counter(kind for c in controls for kind in c.sources)
    lines = [
        "# The hardening checklist",
        "",
        "<!-- Generated from ops/compliance/checklist.yml by `python -m ops.compliance checklist`;",
        "     edit the data, not this file. -->",
        "",
        f"{len(controls)} controls ({implemented} checked by tests/compliance/, "
        f"{len(controls) - implemented} not implemented, with the reason), "
        f"{len(checklist.deviations)} deviations. Severity: "
        + ", ".join(f"{severities[s]} {s}" for s in Severity)
        + ".",
        "",
        "Sources: CIS Debian Linux 12 Benchmark v1.1.0 sections (cited by "
        f"{cited['cis_debian12']} controls), CIS Docker Benchmark v1.6.0 ({cited['cis_docker']}), "
        f"CIS PostgreSQL Benchmark ({cited['cis_postgresql']}; its sub-numbers can shift between the "
        f"benchmark's versions), dev-sec baseline control ids ({cited['devsec']}), DISA STIG ids "
        f"({cited['stig']}; DISA publishes no STIG for Debian, so these are rules of the Canonical "
        "Ubuntu 22.04 LTS STIG that ask the same thing, sometimes with other values: the control's "
        "own check is what the suite holds a host to), and a product's own guidance "
        f"({cited['other']}).",
        "",
        "`make compliance ENV=...` checks the implemented controls on every host of an inventory; "
        "docs/compliance.md explains the run, the waivers and the report.",
        "",
        "| group | scope | controls | not implemented |",
        "|---|---|---|---|",
    ]
    for group, scope in GROUPS.items():
        members = checklist.in_group(group)
        lines.append(
            f"| [{group}](#{group.lower()}) | {scope} | {len(members)} | {sum(not c.implemented for c in members)} |"
        )
    lines += ["", "## Deviations", ""]
    lines += [
        "Where the fleet departs from a source on purpose, or picks one source where two disagree. "
        "Waivers and role comments cite them by id.",
        "",
    ]
    for deviation in checklist.deviations.values():
        lines += [
            f"### {deviation.id}: {deviation.title}",
            "",
            f"- **Decision**: {deviation.decision}",
            f"- **Why**: {deviation.reason}",
            f"- **Controls**: {', '.join(deviation.controls)}",
            "",
        ]
    for group, scope in GROUPS.items():
        lines += [f"## {group}", "", f"{scope.capitalize()}.", ""]
        for control in checklist.in_group(group):
            lines += _control(control)
    return "\n".join(lines).rstrip("\n") + "\n"
