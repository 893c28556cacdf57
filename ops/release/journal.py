"""The journal: the intended state of the release in progress, written before each step.

It says what the fleet should end on (`goal_image`), where it came from, and how far each app
host got. A release that lost its controller (SIGKILL, a dead laptop) leaves the journal
unfinished; `./deploy.sh status` compares it with the hosts, and `resume` / `abort` finish or undo
the release from it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

# Phases, in order; `done` is the only finished one.
PREPARING, ROLLING_OUT, ROLLING_BACK, DONE = "preparing", "rolling-out", "rolling-back", "done"
# Per-host progress towards the goal.
WAITING, MOVING, ON_GOAL, UNREACHABLE = "waiting", "moving", "on-goal", "unreachable"


@dataclass
class Journal:
    action: str  # release | rollback
    audit_id: str
    holder: str
    from_version: str
    from_image: str
    to_version: str
    to_image: str = ""
    phase: str = PREPARING
    goal_image: str = ""  # what every app host should run once this finishes
    hosts: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Journal:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def finished(self) -> bool:
        return self.phase == DONE

    def aim(self, phase: str, goal_image: str, hosts: list[str]) -> None:
        """Start a phase: every host now works towards `goal_image`."""
        self.phase, self.goal_image = phase, goal_image
        self.hosts = dict.fromkeys(hosts, WAITING)

    def mark(self, hosts: list[str], progress: str) -> None:
        self.hosts.update(dict.fromkeys(hosts, progress))

    def differences(self, running: dict[str, str], unreachable: list[str]) -> list[str]:
        """Where the hosts differ from the journal's goal, one line per host."""
        lines = [f"{host}: unreachable (goal {self.goal_image})" for host in unreachable]
        lines += [
            f"{host}: runs {image or 'nothing'}, the journal's goal is {self.goal_image}"
            for host, image in sorted(running.items())
            if self.goal_image and image != self.goal_image
        ]
        return lines
