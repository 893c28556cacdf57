"""The suite's data: expected values and per-platform waivers (tests/compliance/data/), and the
`control` marker that ties a test to a control of the checklist (ops/compliance/checklist.yml).

Expected values live in `data/expected.yml`; a platform file (`data/platforms/<platform>.yml`)
may override any of them and lists its waivers. A waiver names the control, the platform (the
file it sits in) and the reason, and may narrow itself to some hosts (names or inventory groups)
and to some checks (test function names) of the control.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from ops.compliance.checklist import CHECKLIST_FILE, checklist

DATA = Path(__file__).parent / "data"

F = TypeVar("F", bound=Callable[..., Any])


def control(control_id: str) -> Callable[[F], F]:
    """Tie a test to one checklist control; the id becomes part of the test id.

    An id missing from the checklist stops the import, so no test can check an undocumented control.
    """
    if control_id not in checklist().controls:
        raise ChecklistDataError(f"{control_id} is not in {CHECKLIST_FILE.name}: add it there first")
    if not checklist().controls[control_id].implemented:
        raise ChecklistDataError(f"{control_id} is marked not_implemented in {CHECKLIST_FILE.name}: drop that mark")
    return pytest.mark.control(control_id)


@dataclass(frozen=True)
class Waiver:
    control: str
    platform: str
    reason: str
    hosts: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()

    def covers(self, control_id: str, host: str, groups: Iterable[str], check: str) -> bool:
        if control_id != self.control:
            return False
        if self.hosts and not ({host, *groups} & set(self.hosts)):
            return False
        return not self.checks or check in self.checks


@dataclass(frozen=True)
class Platform:
    name: str
    expected: dict[str, Any]
    waivers: tuple[Waiver, ...]

    def waiver_for(self, control_id: str, host: str, groups: Iterable[str], check: str) -> Waiver | None:
        groups = tuple(groups)
        return next((w for w in self.waivers if w.covers(control_id, host, groups, check)), None)


class ChecklistDataError(ValueError):
    """The data files are malformed; the message names the file and the entry."""


def _load_yaml(path: Path) -> dict[str, Any]:
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(content, dict):
        raise ChecklistDataError(f"{path}: expected a mapping at the top level")
    return content


def _waiver(entry: object, platform: str, path: Path) -> Waiver:
    if not isinstance(entry, dict) or not entry.get("control") or not entry.get("reason"):
        raise ChecklistDataError(f"{path}: every waiver needs `control` and `reason`: {entry!r}")
    if str(entry["control"]) not in checklist().controls:
        raise ChecklistDataError(f"{path}: waiver of {entry['control']}, which is not in {CHECKLIST_FILE.name}")
    return Waiver(
        control=str(entry["control"]),
        platform=platform,
        reason=" ".join(str(entry["reason"]).split()),
        hosts=tuple(entry.get("hosts") or ()),
        checks=tuple(entry.get("checks") or ()),
    )


@functools.cache
def platform(name: str) -> Platform:
    """Expected values merged with the platform's overrides, and the platform's waivers."""
    path = DATA / "platforms" / f"{name}.yml"
    if not path.is_file():
        known = sorted(p.stem for p in (DATA / "platforms").glob("*.yml"))
        raise ChecklistDataError(f"no checklist data for platform {name!r} (known: {', '.join(known)})")
    data = _load_yaml(path)
    expected = _load_yaml(DATA / "expected.yml") | (data.get("expected") or {})
    waivers = tuple(_waiver(entry, name, path) for entry in data.get("waivers") or ())
    return Platform(name=name, expected=expected, waivers=waivers)
