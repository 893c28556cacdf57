"""Outcomes of a compliance run, read back from pytest's JUnit XML (junit_family=xunit1, with the
properties the suite records: control, host, check, waiver)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ops.compliance.checklist import control_sort_key


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    WAIVED = "waived"


@dataclass(frozen=True)
class CheckResult:
    """One test: a single behaviour of one control on one host."""

    host: str
    control: str
    check: str
    test_id: str
    outcome: Outcome
    message: str = ""
    waiver_reason: str = ""


@dataclass
class ControlResult:
    """A control on a host: fails if any check fails, waived if every check is waived."""

    host: str
    control: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        outcomes = {c.outcome for c in self.checks}
        if Outcome.FAIL in outcomes:
            return Outcome.FAIL
        if outcomes == {Outcome.WAIVED}:
            return Outcome.WAIVED
        return Outcome.PASS

    @property
    def waiver_reasons(self) -> list[str]:
        return sorted({c.waiver_reason for c in self.checks if c.outcome is Outcome.WAIVED})

    @property
    def partly_waived(self) -> bool:
        return self.outcome is not Outcome.WAIVED and any(c.outcome is Outcome.WAIVED for c in self.checks)


class ResultsError(ValueError):
    """The JUnit file is missing or not from the compliance suite."""


def _properties(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}


def _outcome(case: ET.Element) -> tuple[Outcome, str] | None:
    for tag in ("failure", "error"):
        element = case.find(tag)
        if element is not None:
            return Outcome.FAIL, (element.get("message") or element.text or "").strip()
    skipped = case.find("skipped")
    if skipped is not None:
        message = skipped.get("message") or ""
        if "waived" in message:
            return Outcome.WAIVED, message
        # A parameter set that matched no host: nothing ran, so nothing to report.
        return None
    return Outcome.PASS, ""


def read_junit(path: Path) -> list[CheckResult]:
    if not path.is_file():
        raise ResultsError(f"no JUnit results at {path}")
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - our own pytest output
    except ET.ParseError as error:
        raise ResultsError(f"{path} is not valid XML: {error}") from error
    results = []
    for case in root.iter("testcase"):
        props = _properties(case)
        outcome = _outcome(case)
        if outcome is None:
            continue
        if "control" not in props or "host" not in props:
            # Collection or setup errors carry no properties; they still count as failures.
            results.append(
                CheckResult("?", "?", case.get("name", "?"), case.get("name", "?"), Outcome.FAIL, outcome[1])
            )
            continue
        waiver = json.loads(props["waiver"])["reason"] if "waiver" in props else ""
        results.append(
            CheckResult(
                host=props["host"],
                control=props["control"],
                check=props.get("check", case.get("name", "")),
                test_id=case.get("name", ""),
                outcome=outcome[0],
                message=outcome[1],
                waiver_reason=waiver,
            )
        )
    return results


def by_control(results: list[CheckResult]) -> dict[str, dict[str, ControlResult]]:
    """host -> control -> the control's checks, in checklist order."""
    grouped: dict[str, dict[str, ControlResult]] = {}
    for result in results:
        controls = grouped.setdefault(result.host, {})
        controls.setdefault(result.control, ControlResult(result.host, result.control)).checks.append(result)
    return {
        host: dict(sorted(controls.items(), key=lambda item: control_sort_key(item[0])))
        for host, controls in sorted(grouped.items())
    }


def totals(controls: dict[str, ControlResult]) -> Counter[Outcome]:
    return Counter(c.outcome for c in controls.values())
