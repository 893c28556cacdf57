"""The hardening checklist (ops/compliance/checklist.yml), loaded and validated: every control
with its title, what it checks, why, its sources, severity and fix, and the deviations (C-n)
the controls, waivers and roles cite."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

CHECKLIST_FILE = Path(__file__).with_name("checklist.yml")

GROUPS = {
    "ALL": "OS baseline, every host",
    "SSH": "OpenSSH server and client, every host",
    "LB": "nginx reverse proxy",
    "APP": "Docker engine on the app hosts",
    "CTR": "running API and worker containers",
    "IMG": "the API image",
    "DB": "PostgreSQL 15",
    "CACHE": "Redis 7",
    "MON": "Prometheus and Alertmanager",
}
GROUP_ORDER = tuple(GROUPS)
CONTROL_ID = re.compile(rf"^(?:{'|'.join(GROUPS)})-\d\d$")
DEVIATION_ID = re.compile(r"^C-\d{1,2}$")

SOURCE_KINDS = {
    "cis_debian12": "CIS Debian Linux 12",
    "cis_docker": "CIS Docker",
    "cis_postgresql": "CIS PostgreSQL",
    "devsec": "dev-sec",
    "stig": "DISA STIG",
    "other": "other",
}
_CONTROL_FIELDS = {"title", "checks", "rationale", "severity", "sources", "fix"}
_DEVIATION_FIELDS = {"title", "controls", "decision", "reason"}


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ChecklistError(ValueError):
    """The checklist file is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    checks: str
    rationale: str
    severity: Severity
    sources: dict[str, tuple[str, ...]]
    fix: str
    not_implemented: str = ""

    @property
    def group(self) -> str:
        return self.id.partition("-")[0]

    @property
    def implemented(self) -> bool:
        return not self.not_implemented


@dataclass(frozen=True)
class Deviation:
    id: str
    title: str
    controls: tuple[str, ...]
    decision: str
    reason: str


@dataclass(frozen=True)
class Checklist:
    controls: dict[str, Control]
    deviations: dict[str, Deviation]

    @property
    def not_implemented(self) -> dict[str, str]:
        return {c.id: c.not_implemented for c in self.controls.values() if not c.implemented}

    def in_group(self, group: str) -> list[Control]:
        return [c for c in self.controls.values() if c.group == group]


def control_sort_key(control_id: str) -> tuple[int, int, str]:
    group, _, number = control_id.partition("-")
    rank = GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER)
    return rank, int(number) if number.isdigit() else 0, control_id


def deviation_sort_key(deviation_id: str) -> int:
    return int(deviation_id.partition("-")[2])


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ChecklistError(f"{where}: `{key}` must be non-empty text")
    return " ".join(value.split())


def _fields(entry: object, required: set[str], optional: set[str], where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ChecklistError(f"{where}: expected a mapping")
    missing = required - set(entry)
    unknown = set(entry) - required - optional
    if missing or unknown:
        raise ChecklistError(f"{where}: missing {sorted(missing)}, unknown {sorted(unknown)}")
    return entry


def _sources(value: object, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not value:
        raise ChecklistError(f"{where}: `sources` needs at least one of {', '.join(SOURCE_KINDS)}")
    sources: dict[str, tuple[str, ...]] = {}
    for kind, items in value.items():
        if kind not in SOURCE_KINDS:
            raise ChecklistError(f"{where}: unknown source {kind!r} (known: {', '.join(SOURCE_KINDS)})")
        # Quoted on purpose: an unquoted 5.10 would arrive as the float 5.1.
        if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
            raise ChecklistError(f"{where}: source {kind} must be a list of quoted strings, got {items!r}")
        sources[kind] = tuple(items)
    return sources


def _control(control_id: object, entry: object) -> Control:
    where = f"{CHECKLIST_FILE.name}: control {control_id}"
    if not isinstance(control_id, str) or not CONTROL_ID.match(control_id):
        raise ChecklistError(f"{where}: the id must look like ALL-01 (groups: {', '.join(GROUPS)})")
    data = _fields(entry, _CONTROL_FIELDS, {"not_implemented"}, where)
    severity = data["severity"]
    if severity not in set(Severity):
        raise ChecklistError(f"{where}: severity must be one of {', '.join(Severity)}")
    return Control(
        id=control_id,
        title=_text(data, "title", where),
        checks=_text(data, "checks", where),
        rationale=_text(data, "rationale", where),
        severity=Severity(severity),
        sources=_sources(data["sources"], where),
        fix=_text(data, "fix", where),
        not_implemented=_text(data, "not_implemented", where) if "not_implemented" in data else "",
    )


def _deviation(deviation_id: object, entry: object, controls: dict[str, Control]) -> Deviation:
    where = f"{CHECKLIST_FILE.name}: deviation {deviation_id}"
    if not isinstance(deviation_id, str) or not DEVIATION_ID.match(deviation_id):
        raise ChecklistError(f"{where}: the id must look like C-1")
    data = _fields(entry, _DEVIATION_FIELDS, set(), where)
    named = data["controls"]
    if not isinstance(named, list) or not named:
        raise ChecklistError(f"{where}: `controls` must list the controls it concerns")
    unknown = [c for c in named if c not in controls]
    if unknown:
        raise ChecklistError(f"{where}: names controls not in the checklist: {', '.join(map(str, unknown))}")
    return Deviation(
        id=deviation_id,
        title=_text(data, "title", where),
        controls=tuple(named),
        decision=_text(data, "decision", where),
        reason=_text(data, "reason", where),
    )


def load(path: Path = CHECKLIST_FILE) -> Checklist:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ChecklistError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict) or set(data) != {"controls", "deviations"}:
        raise ChecklistError(f"{path}: expected exactly the mappings `controls` and `deviations`")
    controls = {str(k): _control(k, v) for k, v in (data["controls"] or {}).items()}
    deviations = {str(k): _deviation(k, v, controls) for k, v in (data["deviations"] or {}).items()}
    return Checklist(
        controls=dict(sorted(controls.items(), key=lambda item: control_sort_key(item[0]))),
        deviations=dict(sorted(deviations.items(), key=lambda item: deviation_sort_key(item[0]))),
    )


@functools.cache
def checklist() -> Checklist:
    """The repository's checklist, read once per process."""
    return load()
