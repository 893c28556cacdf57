"""Mutation testing of the alerting rules: do the promtool unit tests catch a wrong rule?

In a scratch copy of dashboards/rules, each alert is changed one way at a time: every threshold
halved and doubled (a threshold of 0 becomes 1), every range window halved and doubled (an SLO
alert's recorded window moved to the next shorter and longer one), its `for:` removed and doubled.
A change is killed when a promtool unit test of that alert fails. All the changed copies go to a
few promtool runs (two at a time, one per core), not one process per change.

Run it alone with `python -m tests.dashboards.mutation`; tests/dashboards/test_mutation.py runs it
in the suite and requires the kill rate.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dashboards.slo import PERIOD, sli_windows
from tests.dashboards.tools import PROMTOOL_TESTS_DIR, RULES_DIR, complete_unit_test, static_annotations

REQUIRED_KILL_RATE = 0.90
PARALLEL_RUNS = 2

_THRESHOLD = re.compile(r"(?P<op>>=|<=|==|!=|>|<)(?P<space>\s*\(?\s*)(?P<number>\d+(?:\.\d+)?)(?![\d.smhdw])")
_RANGE = re.compile(r"\[(?P<duration>\d+[smhdw])\]")
_RECORDED_WINDOW = re.compile(r"slo:sli_error:ratio_rate(?P<window>\d+[smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Mutant:
    rule_file: str
    group: int
    rule: int
    alertname: str
    change: str
    expr: str
    for_: str | None


def _seconds(duration: str) -> int:
    return int(duration[:-1]) * _UNIT_SECONDS[duration[-1]]


def _number(value: float) -> str:
    return f"{value:g}"


def _expr_changes(expr: str) -> Iterator[tuple[str, str]]:
    """(description, changed expression) for every threshold and window of an expression."""
    for match in _THRESHOLD.finditer(expr):
        value = float(match["number"])
        for new in [value + 1] if value == 0 else [value / 2, value * 2]:
            replaced = f"{match['op']}{match['space']}{_number(new)}"
            yield (
                f"threshold {match['op']} {match['number']} -> {_number(new)}",
                expr[: match.start()] + replaced + expr[match.end() :],
            )
    for match in _RANGE.finditer(expr):
        seconds = _seconds(match["duration"])
        for new in (seconds // 2, seconds * 2):
            yield (
                f"window [{match['duration']}] -> [{new}s]",
                expr[: match.start()] + f"[{new}s]" + expr[match.end() :],
            )
    windows = [*sli_windows(), PERIOD]
    for match in _RECORDED_WINDOW.finditer(expr):
        index = windows.index(match["window"])
        for neighbour in (index - 1, index + 1):
            if 0 <= neighbour < len(windows):
                new = windows[neighbour]
                yield (
                    f"SLO window {match['window']} -> {new}",
                    expr[: match.start()] + f"slo:sli_error:ratio_rate{new}" + expr[match.end() :],
                )


def _for_changes(for_: str | None) -> Iterator[tuple[str, str | None]]:
    if for_ is None:
        return
    yield f"for {for_} -> 0", None
    yield f"for {for_} -> {_seconds(for_) * 2}s", f"{_seconds(for_) * 2}s"


def mutants(rules_dir: Path = RULES_DIR, pattern: str = "*.rules.yml") -> list[Mutant]:
    found = []
    for path in sorted(rules_dir.glob(pattern)):
        for g, group in enumerate(yaml.safe_load(path.read_text())["groups"]):
            for r, rule in enumerate(group["rules"]):
                if "alert" not in rule:
                    continue
                name, expr, for_ = rule["alert"], rule["expr"], rule.get("for")
                for change, new_expr in _expr_changes(expr):
                    found.append(Mutant(path.name, g, r, name, change, new_expr, for_))
                for change, new_for in _for_changes(for_):
                    found.append(Mutant(path.name, g, r, name, change, expr, new_for))
    return found


def _tests_of(alertname: str) -> dict[str, dict[str, Any]]:
    """rule file name -> a unit test document holding only the test groups that check alertname."""
    documents: dict[str, dict[str, Any]] = {}
    for test_file in sorted(PROMTOOL_TESTS_DIR.glob("*.test.yml")):
        document = yaml.safe_load(test_file.read_text())
        groups = [
            group
            for group in document["tests"]
            if any(case["alertname"] == alertname for case in group.get("alert_rule_test", []))
        ]
        if groups:
            # Only the alert's own cases: a changed alert rule cannot change a recording rule.
            groups = [{k: v for k, v in group.items() if k != "promql_expr_test"} for group in groups]
            for rule_file in document["rule_files"]:
                reduced = documents.setdefault(Path(rule_file).name, {**document, "tests": []})
                reduced["tests"] = reduced["tests"] + groups
    return documents


def _write_mutant(
    index: int,
    mutant: Mutant,
    scratch: Path,
    tests: dict[str, dict[str, Any]],
    rules: dict[str, dict[str, Any]],
    static: dict[str, dict[str, str]],
) -> Path | None:
    """Writes the changed rule file and the tests of the alert under scratch/<index>/; None if untested."""
    rules_dir = scratch / str(index)
    rules_dir.mkdir()
    document = copy.deepcopy(rules[mutant.rule_file])
    rule = document["groups"][mutant.group]["rules"][mutant.rule]
    # The other groups of the file cannot change this alert (an alert reads only its own group's
    # recordings); leaving them out halves what promtool evaluates for the SLO files.
    document["groups"] = [document["groups"][mutant.group]]
    rule["expr"] = mutant.expr
    rule.pop("for", None)
    if mutant.for_ is not None:
        rule["for"] = mutant.for_
    (rules_dir / mutant.rule_file).write_text(yaml.safe_dump(document, sort_keys=False))
    test_document = tests.get(mutant.rule_file)
    if test_document is None:
        return None
    test_file = Path(f"mutant-{index}.test.yml")
    return complete_unit_test(test_file, rules_dir, rules_dir, copy.deepcopy(test_document), static)


def _failed_files(promtool: str, files: list[Path]) -> set[str]:
    """The test files among `files` with at least one failing test (one promtool run).

    promtool prints "Unit Testing: <file>" and then "SUCCESS" on stdout for each file that passes;
    the failures go to stderr, so a file without its SUCCESS line failed.
    """
    if not files:
        return set()
    result = subprocess.run(
        [promtool, "test", "rules", *map(str, files)], capture_output=True, text=True, check=False, timeout=600
    )
    passed, current = set(), ""
    for line in result.stdout.splitlines():
        if line.startswith("Unit Testing:"):
            current = line.split(":", 1)[1].strip()
        elif line.strip() == "SUCCESS":
            passed.add(current)
    return {str(path) for path in files} - passed


@dataclass(frozen=True)
class Report:
    killed: list[Mutant]
    survived: list[Mutant]

    @property
    def kill_rate(self) -> float:
        total = len(self.killed) + len(self.survived)
        return len(self.killed) / total if total else 0.0

    def summary(self) -> str:
        lines = [f"  survived: {m.alertname} ({m.rule_file}): {m.change}" for m in self.survived]
        lines.append(
            f"mutation kill rate: {len(self.killed)}/{len(self.killed) + len(self.survived)} "
            f"= {self.kill_rate:.1%} (required {REQUIRED_KILL_RATE:.0%})"
        )
        return "\n".join(lines)


def run(promtool: str, rules_dir: Path = RULES_DIR, pattern: str = "*.rules.yml") -> Report:
    with tempfile.TemporaryDirectory(prefix="slipway-mutation-") as name:
        scratch = Path(name)
        shutil.copytree(rules_dir, scratch / "rules")
        # The unchanged rules must pass their tests, or every change would count as killed.
        changed = {path.name for path in rules_dir.glob(pattern)}
        baseline = [
            complete_unit_test(path, scratch, scratch / "rules")
            for path in sorted(PROMTOOL_TESTS_DIR.glob("*.test.yml"))
            if {Path(name).name for name in yaml.safe_load(path.read_text())["rule_files"]} & changed
        ]
        if failed := _failed_files(promtool, baseline):
            raise RuntimeError(f"the unchanged rules fail their tests: {sorted(failed)}")
        all_mutants = mutants(rules_dir, pattern)
        tests = {name: _tests_of(name) for name in {m.alertname for m in all_mutants}}
        rules = {path.name: yaml.safe_load(path.read_text()) for path in rules_dir.glob("*.rules.yml")}
        static = static_annotations(rules_dir)
        files: dict[int, Path | None] = {
            i: _write_mutant(i, m, scratch, tests[m.alertname], rules, static) for i, m in enumerate(all_mutants)
        }
        written = [path for path in files.values() if path is not None]
        chunks = [written[i::PARALLEL_RUNS] for i in range(PARALLEL_RUNS)]
        with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
            failed = set().union(*pool.map(lambda chunk: _failed_files(promtool, chunk), chunks))
        outcome = [files[i] is not None and str(files[i]) in failed for i in range(len(all_mutants))]
        return Report(
            killed=[m for m, dead in zip(all_mutants, outcome, strict=True) if dead],
            survived=[m for m, dead in zip(all_mutants, outcome, strict=True) if not dead],
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.dashboards.mutation", description=__doc__)
    parser.add_argument("--promtool", default=shutil.which("promtool") or "/usr/bin/promtool")
    parser.add_argument("--rules", default="*.rules.yml", help="which rule files to change (a glob)")
    args = parser.parse_args(argv)
    report = run(args.promtool, pattern=args.rules)
    print(report.summary())
    return 0 if report.kill_rate >= REQUIRED_KILL_RATE else 1


if __name__ == "__main__":
    sys.exit(main())
