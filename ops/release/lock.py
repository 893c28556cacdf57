"""The deploy lock: one release at a time per environment, with a holder and an expiry.

The lock is a JSON file created atomically (a hard link that fails when it exists), so two
runs racing for it cannot both win. It names its holder (user@machine, pid, what it is doing)
and expires: a run that was killed (a cancelled CI job, a lost laptop) leaves a lock that the
next run may take over once it is stale, and that take-over is reported so it lands in the
audit log. Breaking a live lock is only done by `./deploy.sh unlock ENV`, explicitly.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ops.errors import OpsError

DEFAULT_TTL_SECONDS = 30 * 60


def current_actor() -> str:
    """Who is deploying: SLIPWAY_ACTOR (set by CI), else user@machine."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return os.environ.get("SLIPWAY_ACTOR") or f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class LockInfo:
    holder: str
    pid: int
    purpose: str
    acquired_at: float
    expires_at: float

    def stale(self, now: float) -> bool:
        return now >= self.expires_at

    def describe(self, now: float) -> str:
        age = int(now - self.acquired_at)
        left = int(self.expires_at - now)
        when = f"expires in {left}s" if left > 0 else f"expired {-left}s ago"
        return f"{self.holder} (pid {self.pid}, {self.purpose}, taken {age}s ago, {when})"


class LockHeldError(OpsError):
    """Another run holds the lock; the message names it."""


class DeployLock:
    """`.slipway/<env>/releases/lock.json`; use `acquire()` / `release()` or `with lock.held(...)`."""

    def __init__(self, path: Path, env: str) -> None:
        self.path = path
        self.env = env

    def read(self) -> LockInfo | None:
        try:
            data = json.loads(self.path.read_text())
            return LockInfo(**data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as error:
            raise OpsError(
                f"the deploy lock {self.path} is unreadable",
                step="read the deploy lock",
                detail=str(error),
                fix=f"look at the file; if no release is running, `./deploy.sh unlock {self.env}` removes it",
            ) from error

    def _create(self, info: LockInfo) -> bool:
        """Create the lock file with its content in one step: write a private file, then hard-link
        it into place (link fails when the lock exists), so no reader ever sees a half-written lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        draft = self.path.with_name(f".{self.path.name}.{os.getpid()}.{time.monotonic_ns()}")
        draft.write_text(json.dumps(asdict(info)) + "\n")
        try:
            os.link(draft, self.path)
        except FileExistsError:
            return False
        finally:
            draft.unlink()
        return True

    def acquire(
        self, purpose: str, *, ttl: float = DEFAULT_TTL_SECONDS, holder: str = "", now: float | None = None
    ) -> LockInfo | None:
        """Take the lock. Returns the stale lock it replaced (None if it was free); raises LockHeldError."""
        now = time.time() if now is None else now
        mine = LockInfo(holder or current_actor(), os.getpid(), purpose, now, now + ttl)
        if self._create(mine):
            return None
        held = self.read()
        if held is None:  # released between our attempt and the read: try once more
            if self._create(mine):
                return None
            held = self.read()
        if held is not None and held.stale(now):
            # Replace the stale lock: rename it away, then create ours with the atomic link.
            # If another run does the same at the same moment, only one link wins.
            aside = self.path.with_name(f".{self.path.name}.stale-{os.getpid()}")
            with contextlib.suppress(FileNotFoundError):
                self.path.rename(aside)
                if LockInfo(**json.loads(aside.read_text())) != held:
                    # Another run replaced the stale lock first: put its fresh lock back.
                    aside.rename(self.path)
                else:
                    aside.unlink()
            if self._create(mine):
                return held
            held = self.read()
        raise LockHeldError(
            f"environment {self.env} is locked by {held.describe(now) if held else 'another run'}",
            step="take the deploy lock",
            fix=(
                "wait for that release to finish (`./deploy.sh status "
                f"{self.env}`); if it is dead, the lock expires by itself, or break it with "
                f"`./deploy.sh unlock {self.env}` (recorded in the audit log)"
            ),
        )

    def release(self, *, pid: int | None = None) -> bool:
        """Remove the lock if this process (or `pid`) holds it; True when removed."""
        held = self.read()
        if held is None or held.pid != (os.getpid() if pid is None else pid):
            return False
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        return True

    def break_lock(self) -> LockInfo | None:
        """Remove whatever lock there is (the explicit `unlock`); return what was removed."""
        held = self.read()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        return held
