"""Peak resident memory of a process while something runs, sampled every few milliseconds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import psutil

MB = 1024 * 1024


@dataclass(frozen=True)
class MemoryResult:
    name: str
    before_mb: float
    peak_mb: float

    @property
    def growth_mb(self) -> float:
        return self.peak_mb - self.before_mb


def peak_rss(name: str, pid: int, action: Callable[[], object], interval: float = 0.005) -> MemoryResult:
    process = psutil.Process(pid)
    before = process.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        action()
    finally:
        done.set()
        sampler.join()
    return MemoryResult(name, before / MB, max(peak, process.memory_info().rss) / MB)
