"""The audit log: one JSON object per line, appended for every release, rollback and lock event.

Each record says who, when, what (from -> to), the result and why, how long each phase took and
how many requests failed while it ran. `./deploy.sh history ENV` prints it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class AuditRecord:
    env: str
    action: str  # release | rollback | auto-rollback | lock-broken | lock-expired
    actor: str
    from_version: str = ""
    to_version: str = ""
    result: str = ""  # released | rolled-back | failed | refused | done
    reason: str = ""
    started_at: float = field(default_factory=time.time)
    finished_at: float = 0.0
    durations: dict[str, float] = field(default_factory=dict)
    failed_requests: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: AuditRecord) -> None:
        if not record.finished_at:
            record.finished_at = time.time()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write of one line with O_APPEND: concurrent writers never interleave a record.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, (record.to_json() + "\n").encode())
        finally:
            os.close(fd)

    def records(self, last: int | None = None) -> list[AuditRecord]:
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_text().splitlines():
            if not line.strip():
                continue
            try:
                records.append(AuditRecord(**json.loads(line)))
            except (ValueError, TypeError):
                continue  # a torn or foreign line never hides the rest of the log
        return records[-last:] if last else records


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
