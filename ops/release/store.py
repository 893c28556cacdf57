"""An environment's release state, read and written through its state agent.

`ReleaseStore.acquire()` takes the deploy lock and returns a `Lease`; `snapshot()` reads the
lock, the journal, the history and the audit log in one call; `break_lock()` is the explicit
`./deploy.sh unlock`.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from ops.release.audit import AuditRecord
from ops.release.history import History
from ops.release.journal import Journal
from ops.release.lock import DEFAULT_TTL_SECONDS, Lease, LockHeldError, LockInfo, current_actor
from ops.release.transport import StateAgent


@dataclass
class Snapshot:
    lock: LockInfo | None
    journal: Journal | None
    history: History
    audit: list[AuditRecord]
    now: float
    pause_requested_by: str = ""  # someone asked the lock's holder to pause (`./deploy.sh pause`)


class ReleaseStore:
    def __init__(self, agent: StateAgent, env: str) -> None:
        self.agent = agent
        self.env = env

    def snapshot(self, *, last_audit: int = 0) -> Snapshot:
        answer = self.agent.call("read", {"last_audit": last_audit})
        return _snapshot(answer)

    def acquire(self, purpose: str, *, ttl: float = DEFAULT_TTL_SECONDS) -> tuple[Lease, LockInfo | None]:
        """Take the lock; return the lease and the lapsed (or dead) lock it replaced, if any.

        A lock whose holder ran on this machine and is gone (SIGKILL, a crash) is taken over at
        once; any other live lease refuses with LockHeldError naming the holder."""
        request: dict[str, Any] = {
            "holder": current_actor(), "machine": socket.gethostname(), "pid": os.getpid(),
            "purpose": purpose, "ttl": ttl,
        }  # fmt: skip
        answer = self.agent.call("acquire", request)
        held = LockInfo.from_dict(answer.get("held"))
        if not answer["ok"] and held is not None and held.holder_is_dead():
            answer = self.agent.call("acquire", request | {"take_over": held.token})
            held = LockInfo.from_dict(answer.get("held"))
        if not answer["ok"]:
            now = float(answer["now"])
            raise LockHeldError(
                f"environment {self.env} is locked by {held.describe(now) if held else 'another run'}",
                step="take the deploy lock",
                fix=(
                    f"wait for that run to finish (`./deploy.sh status {self.env}`); if its controller died, "
                    f"the lease lapses by itself within {int(held.expires_at - now) if held else 0}s, "
                    f"or break it with `./deploy.sh unlock {self.env}` (recorded in the audit log)"
                ),
            )
        info = LockInfo.from_dict(answer["lock"])
        assert info is not None
        return Lease(self.agent, self.env, info, ttl), LockInfo.from_dict(answer.get("replaced"))

    def request_pause(self) -> LockInfo | None:
        """Ask the command holding the lock to pause; the lock it was asked of (None: nothing runs)."""
        answer = self.agent.call("pause", {"by": current_actor()})
        return LockInfo.from_dict(answer.get("held")) if answer["ok"] else None

    def break_lock(self, record: AuditRecord) -> LockInfo | None:
        answer = self.agent.call("break", {"audit": record.to_dict()})
        return LockInfo.from_dict(answer.get("held"))


def _snapshot(answer: dict[str, Any]) -> Snapshot:
    return Snapshot(
        lock=LockInfo.from_dict(answer.get("lock")),
        journal=Journal.from_dict(answer["journal"]) if answer.get("journal") else None,
        history=History.from_dict(answer.get("history") or {}),
        audit=[record for item in answer.get("audit") or [] if (record := AuditRecord.from_dict(item))],
        now=float(answer["now"]),
        pause_requested_by=str((answer.get("pause") or {}).get("by", "")),
    )
