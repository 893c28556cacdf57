"""The audit log: one record per release, rollback, resume, abort and lock event.

A release's record is written when it starts (result `running`) and updated when it ends,
whatever the end: who, when, what (from -> to), the result and why, how long each phase took and
how many requests failed while it ran. The log is kept with the environment; `./deploy.sh
history ENV` prints it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class AuditRecord:
    env: str
    action: str  # release | rollback | auto-rollback | resume | abort | lock-broken | lock-expired
    actor: str
    from_version: str = ""
    to_version: str = ""
    result: str = "running"  # running | released | rolled-back | incomplete | failed | done
    reason: str = ""
    started_at: float = field(default_factory=time.time)
    finished_at: float = 0.0
    durations: dict[str, float] = field(default_factory=dict)
    failed_requests: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def finish(self, result: str, reason: str = "") -> None:
        self.result, self.finished_at = result, time.time()
        if reason:
            self.reason = reason[:2000]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> AuditRecord | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})
        except TypeError:
            return None  # a foreign record never hides the rest of the log


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(timestamp))


def render(records: list[AuditRecord]) -> str:
    """The records as a table for the terminal, newest last."""
    if not records:
        return "no releases recorded yet"
    lines = [
        f"{'when (UTC)':19}  {'action':13}  {'from -> to':28}  {'result':11}  {'took':>6}  {'failed':>6}  who / why"
    ]
    for record in records:
        took = (record.finished_at or record.started_at) - record.started_at
        change = f"{record.from_version or '-'} -> {record.to_version or '-'}"
        failed = "-" if record.failed_requests is None else str(record.failed_requests)
        why = f"  ({record.reason.splitlines()[0]})" if record.reason else ""  # the full reason is in the log
        lines.append(
            f"{_when(record.started_at)}  {record.action:13}  {change:28}  {record.result:11}  {took:5.0f}s  "
            f"{failed:>6}  {record.actor}{why}"
        )
    return "\n".join(lines)
