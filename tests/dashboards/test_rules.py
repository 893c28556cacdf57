"""The generated rule files: promtool checks, promtool unit tests, conventions, freshness."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dashboards import catalog
from tests.dashboards.tools import PROMTOOL_TESTS_DIR, RULES_DIR, complete_unit_test, debian_tool, run

RULE_FILES = sorted(RULES_DIR.glob("*.rules.yml"))
UNIT_TEST_FILES = sorted(PROMTOOL_TESTS_DIR.glob("*.test.yml"))


@pytest.fixture(scope="module")
def promtool() -> str:
    return debian_tool("promtool", "prometheus")


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.name)
def test_check_rules_accepts_rule_file(promtool: str, rule_file: Path) -> None:
    result = run([promtool, "check", "rules", str(rule_file)])

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", UNIT_TEST_FILES, ids=lambda p: p.name)
def test_promtool_unit_tests_pass(promtool: str, test_file: Path, tmp_path: Path) -> None:
    result = run([promtool, "test", "rules", str(complete_unit_test(test_file, tmp_path))])

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
