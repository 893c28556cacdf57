"""The release state kept with the environment: a leased lock with fencing, journal, history, audit.

The state agent runs here against a folder (DirectoryAgent), exactly the code that runs on the
lb host over SSH."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from ops.errors import OpsError
from ops.release.audit import AuditRecord
from ops.release.lock import LeaseLostError, LockHeldError
from ops.release.store import ReleaseStore
from ops.release.transport import DirectoryAgent


def _store(path: Path) -> ReleaseStore:
    return ReleaseStore(DirectoryAgent(path), "staging")


def test_acquire_records_holder_purpose_and_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLIPWAY_ACTOR", "ana@ci")

    lease, replaced = _store(tmp_path).acquire("release v2", ttl=60)

    held = _store(tmp_path).snapshot().lock
    assert replaced is None
    assert held is not None
    assert (held.holder, held.purpose, held.token, held.pid) == ("ana@ci", "release v2", lease.token, os.getpid())
    assert 59 <= held.expires_at - held.acquired_at <= 61


def test_second_acquire_is_refused_naming_the_holder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLIPWAY_ACTOR", "ana@ci")
    _store(tmp_path).acquire("release v2", ttl=60)
    monkeypatch.setenv("SLIPWAY_ACTOR", "bo@laptop")

    with pytest.raises(LockHeldError) as refused:
        _store(tmp_path).acquire("release v3", ttl=60)

    assert "ana@ci" in refused.value.message
    assert "release v2" in refused.value.message
    assert "unlock staging" in refused.value.fix


def test_lapsed_lease_is_taken_over_with_a_new_token(tmp_path: Path) -> None:
    old, _ = _store(tmp_path).acquire("release v2", ttl=-1)

    new, replaced = _store(tmp_path).acquire("release v3", ttl=60)

    assert replaced is not None
    assert replaced.purpose == "release v2"
    assert new.token > old.token


def test_holder_whose_lease_was_taken_over_can_no_longer_write(tmp_path: Path) -> None:
    old, _ = _store(tmp_path).acquire("release v2", ttl=-1)
    new, _ = _store(tmp_path).acquire("release v3", ttl=60)
    new.commit(history={"current": "v3", "releases": []})

    with pytest.raises(LeaseLostError) as refused:
        old.commit(history={"current": "v2", "releases": []})
    with pytest.raises(LeaseLostError):
        old.renew()

    assert "release v3" in (refused.value.detail or "")
    assert _store(tmp_path).snapshot().history.current == "v3"


def test_renewal_extends_the_lease(tmp_path: Path) -> None:
    lease, _ = _store(tmp_path).acquire("release v2", ttl=1)
    before = _store(tmp_path).snapshot().lock

    lease.ttl = 120
    lease.renew()

    after = _store(tmp_path).snapshot().lock
    assert before is not None
    assert after is not None
    assert after.expires_at - before.expires_at > 100


def test_background_renewal_keeps_a_short_lease_alive(tmp_path: Path) -> None:
    lease, _ = _store(tmp_path).acquire("release v2", ttl=2)
    lease.start_renewing()
    try:
        subprocess.run(["sleep", "3"], check=True)
        with pytest.raises(LockHeldError):
            _store(tmp_path).acquire("release v3", ttl=60)
    finally:
        lease.release()

    assert _store(tmp_path).snapshot().lock is None


def test_lock_of_a_dead_process_on_this_machine_is_taken_over_at_once(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    store = _store(tmp_path)
    store.agent.call("acquire", {"holder": "ci", "machine": socket.gethostname(), "pid": dead.pid,
                                 "purpose": "killed release", "ttl": 600})  # fmt: skip

    _, replaced = store.acquire("resume", ttl=60)

    assert replaced is not None
    assert replaced.purpose == "killed release"


def test_release_removes_only_the_holders_lock(tmp_path: Path) -> None:
    old, _ = _store(tmp_path).acquire("release v2", ttl=-1)
    new, _ = _store(tmp_path).acquire("release v3", ttl=60)

    old.release()
    assert _store(tmp_path).snapshot().lock is not None
    new.release()
    assert _store(tmp_path).snapshot().lock is None


def test_break_lock_returns_what_it_removed_and_audits_it(tmp_path: Path) -> None:
    _store(tmp_path).acquire("db maintenance", ttl=600)

    broken = _store(tmp_path).break_lock(AuditRecord("staging", "lock-broken", "bo", result="done"))

    snapshot = _store(tmp_path).snapshot()
    assert broken is not None
    assert broken.purpose == "db maintenance"
    assert snapshot.lock is None
    assert [record.action for record in snapshot.audit] == ["lock-broken"]


def test_audit_record_is_updated_in_place_by_id(tmp_path: Path) -> None:
    lease, _ = _store(tmp_path).acquire("release v2", ttl=60)
    record = AuditRecord("staging", "release", "ana", "v1", "v2")
    lease.commit(audit=record.to_dict())
    record.finish("released")
    lease.commit(audit=record.to_dict())

    records = _store(tmp_path).snapshot().audit

    assert [(r.id, r.result) for r in records] == [(record.id, "released")]


def test_torn_audit_line_hides_nothing_else(tmp_path: Path) -> None:
    lease, _ = _store(tmp_path).acquire("release v2", ttl=60)
    lease.commit(audit=AuditRecord("staging", "release", "ana").to_dict())
    with (tmp_path / "audit.jsonl").open("a") as handle:
        handle.write('{"env": "staging", "act\n')
    lease.commit(audit=AuditRecord("staging", "rollback", "ana").to_dict())

    assert [record.action for record in _store(tmp_path).snapshot(last_audit=5).audit] == ["release", "rollback"]


def test_unreachable_state_host_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")

    with pytest.raises(OpsError) as caught:
        _store(tmp_path / "file").snapshot()

    assert "check that host is up" in caught.value.fix


def _race(path: str, start: Event, finish: Event, results: Queue[str]) -> None:
    """Try once; stay alive until every racer tried (a winner that exits is a dead holder)."""
    start.wait()
    try:
        _store(Path(path)).acquire("race", ttl=60)
        results.put("won")
    except LockHeldError:
        results.put("refused")
    except OpsError as error:
        results.put(f"error: {error.message}")
    finish.wait(timeout=60)


def _race_six(path: Path) -> list[str]:
    """Six processes try to take the lock at one signal; their outcomes, sorted."""
    context = multiprocessing.get_context("fork")
    start, finish = context.Event(), context.Event()
    results: Queue[str] = context.Queue()
    racers = [context.Process(target=_race, args=(str(path), start, finish, results)) for _ in range(6)]
    for racer in racers:
        racer.start()
    start.set()
    outcomes = sorted(results.get(timeout=60) for _ in racers)
    finish.set()
    for racer in racers:
        racer.join(timeout=60)
    return outcomes


def test_concurrent_acquires_have_exactly_one_winner(tmp_path: Path) -> None:
    assert _race_six(tmp_path) == ["refused"] * 5 + ["won"]


def test_concurrent_takeovers_of_a_lapsed_lease_have_exactly_one_winner(tmp_path: Path) -> None:
    _store(tmp_path).acquire("dead run", ttl=-1)

    assert _race_six(tmp_path) == ["refused"] * 5 + ["won"]
