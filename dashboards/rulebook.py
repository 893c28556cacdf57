"""The shapes of Prometheus rules and how they are written to YAML.

Alerts follow the monitoring-mixin conventions: CamelCase names, severity critical|warning|info,
a static summary, a templated description and a runbook link per alert name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["critical", "warning", "info"]

RUNBOOK_DIR = "ops/runbooks"

_CAMEL_CASE = re.compile(r"^[A-Z][a-zA-Z0-9]*$")
_DURATION = re.compile(r"^[0-9]+[smhdw]$")
# mixtool's limits: names and group names that fit a notification subject line.
MAX_NAME_LENGTH = 40
MAX_RULES_PER_GROUP = 20


class RuleDefinitionError(ValueError):
    """A rule breaks the conventions; the message names the rule and what to fix."""


@dataclass(frozen=True)
class Alert:
    """One alerting rule. Several rules may share a name (severity tiers of one condition)."""

    name: str
    expr: str
    severity: Severity
    summary: str
    description: str
    for_: str = "0m"
    labels: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not _CAMEL_CASE.match(self.name) or len(self.name) > MAX_NAME_LENGTH:
            raise RuleDefinitionError(f"alert {self.name!r}: use a CamelCase name of at most 40 characters")
        if not (self.summary[:1].isupper() and self.summary.endswith(".")) or "{{" in self.summary:
            raise RuleDefinitionError(
                f"alert {self.name}: the summary must be static, start with a capital and end with a period"
            )
        if "{{" not in self.description:
            raise RuleDefinitionError(f"alert {self.name}: the description must use a template ({{{{ ... }}}})")
        if not _DURATION.match(self.for_):
            raise RuleDefinitionError(f"alert {self.name}: 'for' must be a duration like 5m, not {self.for_!r}")
        if "severity" in self.labels:
            raise RuleDefinitionError(f"alert {self.name}: set the severity field, not a severity label")

    def to_rule(self, runbook_base_url: str) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": self.name, "expr": self.expr.strip()}
        if self.for_ != "0m":
            rule["for"] = self.for_
        rule["labels"] = {**self.labels, "severity": self.severity}
        rule["annotations"] = {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": runbook_url(runbook_base_url, self.name),
        }
        return rule


@dataclass(frozen=True)
class Recording:
    """One recording rule; names follow level:metric:operations."""

    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_rule(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"record": self.record, "expr": self.expr.strip()}
        if self.labels:
            rule["labels"] = dict(self.labels)
        return rule


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: Sequence[Alert | Recording]
    interval: str | None = None

    def validate(self) -> None:
        if len(self.name) > MAX_NAME_LENGTH:
            raise RuleDefinitionError(f"rule group {self.name!r}: use a name of at most 40 characters")
        if len(self.rules) > MAX_RULES_PER_GROUP:
            raise RuleDefinitionError(f"rule group {self.name}: split it, it has more than 20 rules")
        for rule in self.rules:
            if isinstance(rule, Alert):
                rule.validate()

    def to_group(self, runbook_base_url: str) -> dict[str, Any]:
        group: dict[str, Any] = {"name": self.name}
        if self.interval:
            group["interval"] = self.interval
        group["rules"] = [
            rule.to_rule(runbook_base_url) if isinstance(rule, Alert) else rule.to_rule() for rule in self.rules
        ]
        return group


@dataclass(frozen=True)
class RuleFile:
    """One file under dashboards/rules/: <stem>.rules.yml."""

    stem: str
    groups: Sequence[RuleGroup]

    @property
    def filename(self) -> str:
        return f"{self.stem}.rules.yml"

    def alerts(self) -> list[Alert]:
        return [rule for group in self.groups for rule in group.rules if isinstance(rule, Alert)]


def runbook_url(base_url: str, alert_name: str) -> str:
    return f"{base_url.rstrip('/')}/{RUNBOOK_DIR}/{alert_name}.md"
