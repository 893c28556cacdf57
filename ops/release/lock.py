"""The deploy lock: one release at a time per environment, held as a renewed lease.

The lock lives with the environment (ops/release/state_agent.py): it names its holder (who,
from which machine, which pid, doing what), carries a fencing token, and expires unless its
holder renews it. `Lease` renews it in the background while a release runs; a controller that
was killed or lost its network stops renewing, and once the lease lapses the next run may take
it over (an audited event). Every write of release state carries the token, so a holder that
lost its lease can no longer change anything.
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from ops.errors import OpsError
from ops.release.transport import StateAgent

DEFAULT_TTL_SECONDS = 60.0


def current_actor() -> str:
    """Who is deploying: SLIPWAY_ACTOR (set by CI), else user@machine."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return os.environ.get("SLIPWAY_ACTOR") or f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class LockInfo:
    token: int
    holder: str
    machine: str
    pid: int
    purpose: str
    acquired_at: float
    renewed_at: float
    expires_at: float

    @classmethod
    def from_dict(cls, data: Any) -> LockInfo | None:
        if not isinstance(data, dict):
            return None
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    def stale(self, now: float) -> bool:
        return now >= self.expires_at

    def holder_is_dead(self) -> bool:
        """True when the holder ran on this machine and its process is gone (it can never renew)."""
        if self.machine != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def describe(self, now: float) -> str:
        age = int(now - self.acquired_at)
        left = int(self.expires_at - now)
        when = f"lease ends in {left}s unless renewed" if left > 0 else f"lease lapsed {-left}s ago"
        return f"{self.holder} (pid {self.pid} on {self.machine}, {self.purpose}, taken {age}s ago, {when})"


class LockHeldError(OpsError):
    """Another run holds the lock; the message names it."""


class LeaseLostError(OpsError):
    """This run's lease lapsed and another run took the lock: it must change nothing more."""


class Lease:
    """A held deploy lock: `commit()` writes state under it; `start_renewing()` keeps it alive."""

    def __init__(self, agent: StateAgent, env: str, info: LockInfo, ttl: float) -> None:
        self.agent = agent
        self.env = env
        self.info = info
        self.ttl = ttl
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def token(self) -> int:
        return self.info.token

    def _refused(self, answer: dict[str, Any], doing: str) -> LeaseLostError:
        self.lost = True
        held = LockInfo.from_dict(answer.get("held"))
        now = float(answer.get("now", 0))
        return LeaseLostError(
            f"this run's lease on {self.env} lapsed and it may no longer {doing}",
            step="hold the deploy lock",
            detail=f"the lock is now held by {held.describe(now)}" if held else "the lock was broken",
            fix=f"see `./deploy.sh status {self.env}`: the new holder decides what happens next",
        )

    def renew(self) -> None:
        answer = self.agent.call("renew", {"token": self.token, "ttl": self.ttl})
        if not answer["ok"]:
            raise self._refused(answer, "renew it")

    def commit(self, **state: Any) -> None:
        """Write `journal`, `history` and/or `audit` (a record, upserted by id) under the lease."""
        answer = self.agent.call("commit", {"token": self.token, **state})
        if not answer["ok"]:
            raise self._refused(answer, "write the release state")

    def release(self) -> None:
        self.stop_renewing()
        if not self.lost:
            self.agent.call("release", {"token": self.token})

    def start_renewing(self) -> None:
        self._thread = threading.Thread(target=self._renew_until_stopped, name="lease-renewal", daemon=True)
        self._thread.start()

    def stop_renewing(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=70)

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            try:
                self.renew()
            except LeaseLostError:
                return
            except OpsError:
                continue  # the state host did not answer this time; the next try may reach it
