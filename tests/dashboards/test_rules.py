"""The generated rule files: promtool checks, promtool unit tests, conventions, freshness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards import catalog
from tests.dashboards.tools import PROMTOOL_TESTS_DIR, RULES_DIR, debian_tool, run

RULE_FILES = sorted(RULES_DIR.glob("*.rules.yml"))
UNIT_TEST_FILES = sorted(PROMTOOL_TESTS_DIR.glob("*.test.yml"))


@pytest.fixture(scope="module")
def promtool() -> str:
    return debian_tool("promtool", "prometheus")


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.name)
def test_check_rules_accepts_rule_file(promtool: str, rule_file: Path) -> None:
    result = run([promtool, "check", "rules", str(rule_file)])

    assert result.returncode == 0, result.stdout + result.stderr


def _committed_annotations() -> dict[str, dict[str, str]]:
    """alertname -> its static annotations (summary, runbook_url) from the committed rule files."""
    static: dict[str, dict[str, str]] = {}
    for rule_file in RULE_FILES:
        for group in yaml.safe_load(rule_file.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    annotations = rule["annotations"]
                    static[rule["alert"]] = {k: annotations[k] for k in ("summary", "runbook_url")}
    return static


def _complete(test_file: Path, out_dir: Path) -> Path:
    """The unit test file as promtool needs it: rule paths absolute, static annotations filled in.

    The hand-written files state the labels and the templated description of every expected alert;
    the static summary and runbook link would only repeat the rule file, so they are added here.
    """
    document: dict[str, Any] = yaml.safe_load(test_file.read_text())
    document["rule_files"] = [str((test_file.parent / name).resolve()) for name in document["rule_files"]]
    static = _committed_annotations()
    for group in document["tests"]:
        for case in group.get("alert_rule_test", []):
            for expected in case.get("exp_alerts") or []:
                annotations = expected.setdefault("exp_annotations", {})
                assert "description" in annotations, f"{test_file.name}: {case['alertname']} needs a description"
                annotations.update(static[case["alertname"]])
    completed = out_dir / test_file.name
    completed.write_text(yaml.safe_dump(document, sort_keys=False))
    return completed


@pytest.mark.parametrize("test_file", UNIT_TEST_FILES, ids=lambda p: p.name)
def test_promtool_unit_tests_pass(promtool: str, test_file: Path, tmp_path: Path) -> None:
    result = run([promtool, "test", "rules", str(_complete(test_file, tmp_path))])

    assert result.returncode == 0, result.stdout + result.stderr


def _cases() -> list[tuple[str, bool]]:
    """(alertname, expects it to fire) for every alert test case of every unit test file."""
    cases = []
    for test_file in UNIT_TEST_FILES:
        for group in yaml.safe_load(test_file.read_text())["tests"]:
            for case in group.get("alert_rule_test", []):
                cases.append((case["alertname"], bool(case.get("exp_alerts"))))
    return cases


# The dead man's switch fires by design at every moment; there is no quiet case to test.
ALWAYS_FIRING = {"Watchdog"}


@pytest.mark.parametrize("alert_name", catalog.alert_names())
def test_unit_tests_show_alert_firing_and_quiet(alert_name: str) -> None:
    outcomes = {fires for name, fires in _cases() if name == alert_name}

    expected = {True} if alert_name in ALWAYS_FIRING else {True, False}
    assert outcomes == expected, f"{alert_name}: add a unit test where it fires and one where it stays quiet"


def test_unit_tests_name_only_existing_alerts() -> None:
    unknown = {name for name, _ in _cases()} - set(catalog.alert_names())

    assert unknown == set()


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.name)
def test_unit_tests_cover_rule_file(rule_file: Path) -> None:
    tested = {
        Path(name).name for test_file in UNIT_TEST_FILES for name in yaml.safe_load(test_file.read_text())["rule_files"]
    }

    assert rule_file.name in tested
