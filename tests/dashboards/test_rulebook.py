"""The conventions every alert is held to, and the errors that name what to fix."""

from __future__ import annotations

import dataclasses

import pytest

from dashboards import catalog, slo
from dashboards.rulebook import Alert, RuleDefinitionError, RuleGroup

GOOD = Alert(
    name="RedisDown",
    expr="redis_up == 0",
    severity="critical",
    summary="Redis does not answer.",
    description="Redis on {{ $labels.host }} is down.",
    for_="1m",
)


def test_good_alert_passes() -> None:
    GOOD.validate()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "redis_down"}, "CamelCase"),
        ({"name": "R" + "x" * 40}, "at most 40"),
        ({"summary": "redis does not answer."}, "summary must be static"),
        ({"summary": "Redis on {{ $labels.host }} is down."}, "summary must be static"),
        ({"summary": "Redis does not answer"}, "end with a period"),
        ({"description": "Redis is down."}, "must use a template"),
        ({"for_": "five minutes"}, "duration like 5m"),
        ({"labels": {"severity": "critical"}}, "severity field"),
    ],
)
def test_alert_breaking_a_convention_is_refused(change: dict[str, object], message: str) -> None:
    alert = dataclasses.replace(GOOD, **change)  # type: ignore[arg-type]

    with pytest.raises(RuleDefinitionError, match=message):
        alert.validate()


def test_group_with_too_many_rules_is_refused() -> None:
    with pytest.raises(RuleDefinitionError, match="split it"):
        RuleGroup(name="big", rules=[GOOD] * 21).validate()


def test_slo_without_window_placeholder_is_refused() -> None:
    broken = dataclasses.replace(slo.availability_slo(), all_events="sum(rate(http_requests_total[5m]))")

    with pytest.raises(RuleDefinitionError, match="window"):
        broken.validate()


def test_burn_windows_follow_the_workbook() -> None:
    assert [(w.severity, w.long, w.short, w.factor) for w in slo.BURN_WINDOWS] == [
        ("critical", "1h", "5m", 14.4),
        ("critical", "6h", "30m", 6),
        ("warning", "1d", "2h", 3),
        ("warning", "3d", "6h", 1),
    ]


def test_every_alert_meets_the_conventions() -> None:
    for alert in catalog.all_alerts():
        alert.validate()

    assert {alert.severity for alert in catalog.all_alerts()} == {"critical", "warning", "info"}
