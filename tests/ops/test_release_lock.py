"""The deploy lock: atomic, names its holder, expires, and is broken only on purpose."""

from __future__ import annotations

import multiprocessing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from ops.errors import OpsError
from ops.release.lock import DeployLock, LockHeldError


def _lock(tmp_path: Path) -> DeployLock:
    return DeployLock(tmp_path / "releases" / "lock.json", "staging")


def test_acquire_free_lock_records_holder_and_expiry(tmp_path: Path) -> None:
    lock = _lock(tmp_path)

    replaced = lock.acquire("release v2", ttl=60, holder="ana@ci", now=1000.0)

    held = lock.read()
    assert replaced is None
    assert held is not None
    assert (held.holder, held.purpose, held.expires_at) == ("ana@ci", "release v2", 1060.0)


def test_second_acquire_is_refused_naming_the_holder(tmp_path: Path) -> None:
    lock = _lock(tmp_path)
    lock.acquire("release v2", ttl=60, holder="ana@ci", now=1000.0)

    with pytest.raises(LockHeldError) as refused:
        _lock(tmp_path).acquire("release v3", ttl=60, holder="bo@laptop", now=1010.0)

    assert "ana@ci" in refused.value.message
    assert "release v2" in refused.value.message
    assert "unlock staging" in refused.value.fix


def test_stale_lock_is_taken_over_and_reported(tmp_path: Path) -> None:
    lock = _lock(tmp_path)
    lock.acquire("release v2", ttl=60, holder="ana@ci", now=1000.0)

    replaced = lock.acquire("release v3", ttl=60, holder="bo@laptop", now=1061.0)

    assert replaced is not None
    assert replaced.holder == "ana@ci"
    held = lock.read()
    assert held is not None
    assert held.holder == "bo@laptop"


def test_release_removes_only_the_holders_lock(tmp_path: Path) -> None:
    lock = _lock(tmp_path)
    lock.acquire("release v2", ttl=60, holder="ana@ci")

    assert lock.release(pid=-1) is False
    assert lock.read() is not None
    assert lock.release() is True
    assert lock.read() is None


def test_break_lock_returns_what_it_removed(tmp_path: Path) -> None:
    lock = _lock(tmp_path)
    lock.acquire("db maintenance", ttl=600, holder="ana@ci")

    broken = lock.break_lock()

    assert broken is not None
    assert broken.purpose == "db maintenance"
    assert lock.read() is None
    assert lock.break_lock() is None


def test_unreadable_lock_says_how_to_clear_it(tmp_path: Path) -> None:
    lock = _lock(tmp_path)
    lock.path.parent.mkdir(parents=True)
    lock.path.write_text("{not json")

    with pytest.raises(OpsError) as caught:
        lock.read()

    assert "unlock staging" in caught.value.fix


def _race(path: str, start: Event, results: Queue[str]) -> None:
    lock = DeployLock(Path(path), "staging")
    start.wait()
    try:
        lock.acquire("race", ttl=60)
        results.put("won")
    except LockHeldError:
        results.put("refused")
    except OpsError as error:  # anything else (a half-written lock read back) fails the test
        results.put(f"error: {error.message}")


def _race_six(path: Path) -> list[str]:
    """Six processes try to take the lock at one signal; their outcomes, sorted."""
    context = multiprocessing.get_context("fork")
    start = context.Event()
    results: Queue[str] = context.Queue()
    racers = [context.Process(target=_race, args=(str(path), start, results)) for _ in range(6)]
    for racer in racers:
        racer.start()
    start.set()
    for racer in racers:
        racer.join(timeout=30)
    return sorted(results.get(timeout=5) for _ in racers)


def test_concurrent_acquires_have_exactly_one_winner(tmp_path: Path) -> None:
    outcomes = _race_six(tmp_path / "lock.json")

    assert outcomes == ["refused"] * 5 + ["won"]


def test_concurrent_takeovers_of_a_stale_lock_have_exactly_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    DeployLock(path, "staging").acquire("dead run", ttl=-1, holder="gone@ci")
    outcomes = _race_six(path)

    assert outcomes == ["refused"] * 5 + ["won"]
