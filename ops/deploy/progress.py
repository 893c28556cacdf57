"""Numbered, timed steps on the terminal; a failing step ends the run with its OpsError."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field


def say(message: str) -> None:
    """Print a progress line; a terminal that went away (SIGHUP, a closed pipe) stops nothing."""
    with suppress(OSError):
        print(message, flush=True)


@dataclass
class Steps:
    """`with steps.step("build images"):` prints `[2/7] build images ... 41s`."""

    total: int
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.done += 1
        say(f"[{self.done}/{self.total}] {title}")
        began = time.monotonic()
        yield
        self.timings[title] = time.monotonic() - began
        say(f"      done in {self.timings[title]:.0f}s")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
