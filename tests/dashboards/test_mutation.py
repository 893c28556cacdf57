"""The promtool unit tests catch wrong alert rules: at least 90 % of single changes fail a test."""

from __future__ import annotations

import pytest

from dashboards import catalog
from tests.dashboards import mutation
from tests.dashboards.tools import debian_tool


@pytest.mark.timeout(600)
def test_unit_tests_kill_most_mutated_alert_rules(capsys: pytest.CaptureFixture[str]) -> None:
    report = mutation.run(debian_tool("promtool", "prometheus"))

    with capsys.disabled():
        print(f"\n{report.summary()}")
    assert report.kill_rate >= mutation.REQUIRED_KILL_RATE, report.summary()


def test_mutants_cover_every_alert_but_the_watchdog() -> None:
    changed = {m.alertname for m in mutation.mutants()}

    # The Watchdog has no threshold, window or `for:` to change.
    assert changed == set(catalog.alert_names()) - {"Watchdog"}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("up == 0", {"up == 1"}),
        ("x > 0.90", {"x > 0.45", "x > 1.8"}),
        ("rate(x[5m]) > 0", {"rate(x[150s]) > 0", "rate(x[600s]) > 0", "rate(x[5m]) > 1"}),
        (
            "slo:sli_error:ratio_rate1h > (14.4 * 0.001)",
            {
                "slo:sli_error:ratio_rate1h > (7.2 * 0.001)",
                "slo:sli_error:ratio_rate1h > (28.8 * 0.001)",
                "slo:sli_error:ratio_rate30m > (14.4 * 0.001)",
                "slo:sli_error:ratio_rate2h > (14.4 * 0.001)",
            },
        ),
    ],
)
def test_expression_changes_halve_double_and_move_windows(expr: str, expected: set[str]) -> None:
    assert {new for _, new in mutation._expr_changes(expr)} == expected
