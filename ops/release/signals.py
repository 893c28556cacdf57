"""Signals during a release: a cancelled CI job (SIGTERM), a dropped SSH session (SIGHUP) or
Ctrl-C (SIGINT) interrupts the release like an error does, so it rolls back; once the rollback
runs, further signals are noted and ignored, so the fleet is never left between two versions."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ReleaseInterruptedError(Exception):
    """The release was interrupted by a signal."""

    def __init__(self, signum: int) -> None:
        self.name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.name}")


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise ReleaseInterruptedError(signum)


def _note(signum: int, _frame: FrameType | None) -> None:
    with suppress(OSError):  # the terminal may be gone (SIGHUP); the rollback goes on
        print(f"\n{signal.Signals(signum).name} ignored: the rollback in progress finishes first", file=sys.stderr)


@contextmanager
def _handlers(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    before = {signum: signal.getsignal(signum) for signum in HANDLED}
    for signum in HANDLED:
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, previous in before.items():
            signal.signal(signum, previous)


def interruptible() -> AbstractContextManager[None]:
    """Within: SIGINT, SIGTERM and SIGHUP raise ReleaseInterruptedError."""
    return _handlers(_raise)


def shielded() -> AbstractContextManager[None]:
    """Within: SIGINT, SIGTERM and SIGHUP are reported and ignored (a rollback runs)."""
    return _handlers(_note)
