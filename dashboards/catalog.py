"""Every rule file the kit ships, in one list, and writing them out."""

from __future__ import annotations

from pathlib import Path

from dashboards import slo
from dashboards.alerts import app, hosts, monitoring, nginx, postgres, redis
from dashboards.rulebook import Alert, RuleDefinitionError, RuleFile
from dashboards.yamlout import dump

RULES_DIR = Path(__file__).parent / "rules"


def rule_files() -> list[RuleFile]:
    return [
        slo.rule_file(),
        app.rule_file(),
        hosts.rule_file(),
        postgres.rule_file(),
        redis.rule_file(),
        nginx.rule_file(),
        monitoring.rule_file(),
    ]


def all_alerts() -> list[Alert]:
    return [alert for rule_file in rule_files() for alert in rule_file.alerts()]


def alert_names() -> list[str]:
    return sorted({alert.name for alert in all_alerts()})


def render_rule_files(runbook_base_url: str) -> dict[str, str]:
    """File name -> YAML text for every rule file; checks the conventions first."""
    files = rule_files()
    _check_tiers(all_alerts())
    rendered = {}
    for rule_file in files:
        for group in rule_file.groups:
            group.validate()
        rendered[rule_file.filename] = dump({"groups": [g.to_group(runbook_base_url) for g in rule_file.groups]})
    return rendered


def _check_tiers(alerts: list[Alert]) -> None:
    """Rules sharing a name are tiers of one condition: their static summary must be the same."""
    first: dict[str, Alert] = {}
    for alert in alerts:
        seen = first.setdefault(alert.name, alert)
        if seen.summary != alert.summary:
            raise RuleDefinitionError(f"alert {alert.name}: rules sharing a name need the same summary")
