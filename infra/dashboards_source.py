"""The Prometheus rule files and Grafana dashboards of dashboards/, as the kubernetes platform ships them.

Any number of files, including none: the program works before and after dashboards/ fills up.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPOSITORY = Path(__file__).resolve().parents[1]
RULES_DIR = REPOSITORY / "dashboards" / "rules"
GRAFANA_DIR = REPOSITORY / "dashboards" / "grafana"


class DashboardSourceError(Exception):
    """A file of dashboards/ that cannot be shipped, named with what is wrong."""


@dataclass(frozen=True)
class RuleFile:
    name: str  # a DNS label made from the file name
    groups: list[dict[str, Any]]


@dataclass(frozen=True)
class Dashboard:
    name: str
    filename: str
    json_text: str


def dns_label(stem: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-")[:50].strip("-") or "file"


def rule_files(directory: Path | None = None) -> list[RuleFile]:
    """Every *.yml / *.yaml rule file with a `groups` list; promtool test files (no groups) are skipped."""
    directory = directory or RULES_DIR
    found = []
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise DashboardSourceError(f"{path.name}: not valid YAML ({error})") from None
        if not isinstance(data, dict) or "groups" not in data:
            continue
        groups = data["groups"]
        if not isinstance(groups, list) or not all(
            isinstance(g, dict) and "name" in g and "rules" in g for g in groups
        ):
            raise DashboardSourceError(f"{path.name}: `groups` must be a list of {{name, rules}}")
        found.append(RuleFile(dns_label(path.stem), groups))
    return found


def dashboards(directory: Path | None = None) -> list[Dashboard]:
    """Every *.json dashboard under the directory (at any depth), checked to parse."""
    directory = directory or GRAFANA_DIR
    found = []
    for path in sorted(directory.rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            raise DashboardSourceError(f"{path.name}: not valid JSON ({error})") from None
        found.append(Dashboard(dns_label(path.stem), path.name, text))
    return found
