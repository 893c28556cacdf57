"""The release engine against a fake platform driver and the real state agent (in a folder).

Failures, exceptions and signals in the middle of a release roll back every host that moved;
an unreachable host is reported and finished by `resume`; a killed release is finished by
`resume` or undone by `abort` from its journal; a lost lease changes nothing more."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import pytest

from ops.errors import OpsError
from ops.release.audit import AuditRecord
from ops.release.engine import ReleaseOptions, Releaser
from ops.release.hosts_driver import SwitchResult
from ops.release.image import ReleaseImage
from ops.release.journal import Journal
from ops.release.lock import LeaseLostError
from ops.release.store import ReleaseStore
from ops.release.transport import DirectoryAgent

V1, V2 = "reg/slipway/app:v1-aaaaaaa", "reg/slipway/app:v2-bbbbbbb"


class FakeHosts:
    """Three app hosts in memory; `on_batch` runs when a batch rolls out (to inject faults)."""

    def __init__(self) -> None:
        self.images = {"app1": V1, "app2": V1, "app3": V1}
        self.unreachable: set[str] = set()
        self.on_batch: dict[int, object] = {}
        self.batches = 0
        self.switches: list[tuple[str, list[str]]] = []
        self.content = "sha256:aaaa"  # what the next prepared image was stamped on

    def hosts(self) -> list[str]:
        return sorted(self.images)

    def read(self) -> tuple[dict[str, str], list[str]]:
        reachable = {host: image for host, image in self.images.items() if host not in self.unreachable}
        return reachable, sorted(self.unreachable)

    def check_can_release(self, **_: object) -> None:
        return None

    def local_image(self, image: str) -> str:
        return f"slipway/app:{image.rsplit(':', 1)[-1]}"

    def prepare(self, version: str, from_image: str) -> ReleaseImage:
        self.prepared_from = from_image
        image = V2 if version == "v2" else f"reg/{version}"
        return ReleaseImage(version, "bbbbbbb", f"slipway/app:{version}", image, self.content)

    def forget_reports(self) -> None:
        return None

    def gate_report(self) -> dict[str, object]:
        return {"failed_requests": 0}

    def baseline(self) -> dict[str, float]:
        return {}

    def roll_out(self, image: str, batch: list[str], *_: object, **__: object) -> None:
        self.batches += 1
        for host in batch:
            self.images[host] = image
        fault = self.on_batch.get(self.batches)
        if isinstance(fault, BaseException):
            raise fault
        if callable(fault):
            fault()

    def switch(self, image: str, hosts: list[str], **_: object) -> SwitchResult:
        self.switches.append((image, hosts))
        missed = [host for host in hosts if host in self.unreachable]
        done = [host for host in hosts if host not in missed]
        for host in done:
            self.images[host] = image
        return SwitchResult(done, missed, "")


@pytest.fixture
def fleet() -> FakeHosts:
    return FakeHosts()


@pytest.fixture
def store(tmp_path: Path) -> ReleaseStore:
    return ReleaseStore(DirectoryAgent(tmp_path / "state"), "staging")


def _releaser(fleet: FakeHosts, store: ReleaseStore, tmp_path: Path) -> Releaser:
    return Releaser("staging", store, fleet, say=lambda _: None)


OPTIONS = ReleaseOptions(serial="1", bake_seconds=1)


def test_release_moves_every_host_and_records_it(fleet: FakeHosts, store: ReleaseStore, tmp_path: Path) -> None:
    done = _releaser(fleet, store, tmp_path).release("v2", OPTIONS)

    snapshot = store.snapshot()
    assert done.result == "released"
    assert set(fleet.images.values()) == {V2}
    assert snapshot.lock is None
    assert snapshot.journal is not None
    assert snapshot.journal.finished
    assert snapshot.history.current == "v2"
    assert [(r.action, r.from_version, r.to_version, r.result) for r in snapshot.audit] == [
        ("release", "v1", "v2", "released")
    ]


@pytest.mark.parametrize(
    "fault",
    [
        OpsError("gate failed", fix="-"),
        RuntimeError("a bug"),
        KeyboardInterrupt(),
    ],
    ids=["ops-error", "any-exception", "ctrl-c"],
)
def test_failure_in_batch_two_rolls_every_moved_host_back(
    fault: BaseException, fleet: FakeHosts, store: ReleaseStore, tmp_path: Path
) -> None:
    fleet.on_batch[2] = fault

    with pytest.raises(OpsError) as failed:
        _releaser(fleet, store, tmp_path).release("v2", OPTIONS)

    snapshot = store.snapshot()
    assert set(fleet.images.values()) == {V1}
    assert fleet.switches == [(V1, ["app1", "app2"])]
    assert "back on v1" in failed.value.message
    assert snapshot.lock is None
    assert snapshot.audit[-1].result == "rolled-back"
    assert snapshot.history.find("v2").bad_reason  # type: ignore[union-attr]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_during_batch_two_rolls_back_and_is_audited(
    signum: int, fleet: FakeHosts, store: ReleaseStore, tmp_path: Path
) -> None:
    fleet.on_batch[2] = lambda: os.kill(os.getpid(), signum)

    with pytest.raises(OpsError):
        _releaser(fleet, store, tmp_path).release("v2", OPTIONS)

    record = store.snapshot().audit[-1]
    assert set(fleet.images.values()) == {V1}
    assert (record.action, record.result) == ("auto-rollback", "rolled-back")
    assert f"interrupted by {signal.Signals(signum).name}" in record.reason
    assert store.snapshot().lock is None
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_failure_in_batch_one_puts_back_only_batch_one(fleet: FakeHosts, store: ReleaseStore, tmp_path: Path) -> None:
    fleet.on_batch[1] = OpsError("the new slot never became ready", fix="-")

    with pytest.raises(OpsError):
        _releaser(fleet, store, tmp_path).release("v2", OPTIONS)

    assert fleet.switches == [(V1, ["app1"])]
    assert set(fleet.images.values()) == {V1}


def test_unreachable_host_refuses_the_release_before_anything_changes(
    fleet: FakeHosts, store: ReleaseStore, tmp_path: Path
) -> None:
    fleet.unreachable = {"app3"}

    with pytest.raises(OpsError) as refused:
        _releaser(fleet, store, tmp_path).release("v2", OPTIONS)

    assert "unreachable: app3" in (refused.value.detail or "")
    assert fleet.batches == 0
    assert store.snapshot().lock is None


def test_unreachable_host_during_rollback_is_reported_and_resume_finishes_it(
    fleet: FakeHosts, store: ReleaseStore, tmp_path: Path
) -> None:
    def app2_goes_away() -> None:
        fleet.unreachable = {"app2"}
        raise OpsError("gate failed", fix="-")

    fleet.on_batch[2] = app2_goes_away
    releaser = _releaser(fleet, store, tmp_path)

    with pytest.raises(OpsError) as failed:
        releaser.release("v2", OPTIONS)

    assert "could not be rolled back" in failed.value.message
    assert fleet.images == {"app1": V1, "app2": V2, "app3": V1}
    assert store.snapshot().audit[-1].result == "incomplete"
    assert store.snapshot().lock is None

    fleet.unreachable = set()
    resumed = releaser.resume()

    assert resumed.result == "rolled-back"
    assert set(fleet.images.values()) == {V1}
    snapshot = store.snapshot()
    assert snapshot.journal is not None
    assert snapshot.journal.finished
    assert snapshot.audit[-1].result == "rolled-back"


def _killed_mid_release(fleet: FakeHosts, store: ReleaseStore) -> None:
    """What SIGKILL leaves: app1 on v2, the journal rolling out, a lock of a process that is gone."""
    fleet.images["app1"] = V2
    journal = Journal("release", "abc", "ana@ci", "v1", V1, "v2", V2)
    journal.aim("rolling-out", V2, fleet.hosts())
    journal.mark(["app1"], "on-goal")
    journal.mark(["app2"], "moving")
    store.agent.call("acquire", {"holder": "ana@ci", "machine": socket.gethostname(), "pid": 2**22 + 7,
                                 "purpose": "release v2", "ttl": 600})  # fmt: skip
    token = store.snapshot().lock.token  # type: ignore[union-attr]
    store.agent.call("commit", {"token": token, "journal": journal.to_dict(),
                                "history": {"current": "v1", "releases": []}})  # fmt: skip


def test_after_sigkill_a_release_refuses_and_resume_finishes_it(
    fleet: FakeHosts, store: ReleaseStore, tmp_path: Path
) -> None:
    _killed_mid_release(fleet, store)
    releaser = _releaser(fleet, store, tmp_path)
    snapshot = store.snapshot()
    assert snapshot.journal is not None
    assert snapshot.journal.differences(*fleet.read()) == [
        f"app2: runs {V1}, the journal's goal is {V2}",
        f"app3: runs {V1}, the journal's goal is {V2}",
    ]

    with pytest.raises(OpsError) as refused:
        releaser.release("v3", OPTIONS)
    assert "resume staging" in refused.value.fix

    done = releaser.resume()

    assert done.result == "released"
    assert set(fleet.images.values()) == {V2}
    assert store.snapshot().journal.finished  # type: ignore[union-attr]


def test_after_sigkill_abort_puts_every_host_back(fleet: FakeHosts, store: ReleaseStore, tmp_path: Path) -> None:
    _killed_mid_release(fleet, store)

    done = _releaser(fleet, store, tmp_path).abort()

    assert done.result == "rolled-back"
    assert set(fleet.images.values()) == {V1}
    assert store.snapshot().history.current == "v1"


def test_a_run_that_lost_its_lease_changes_nothing_more(fleet: FakeHosts, store: ReleaseStore, tmp_path: Path) -> None:
    def someone_takes_over() -> None:
        store.break_lock(AuditRecord("staging", "lock-broken", "bo@laptop"))
        store.acquire("release v9", ttl=600)

    fleet.on_batch[1] = someone_takes_over

    with pytest.raises(LeaseLostError):
        _releaser(fleet, store, tmp_path).release("v2", OPTIONS)

    assert fleet.switches == []
    assert store.snapshot().lock.purpose == "release v9"  # type: ignore[union-attr]


def test_signal_during_rollback_is_ignored_until_it_ends(fleet: FakeHosts, store: ReleaseStore, tmp_path: Path) -> None:
    fleet.on_batch[2] = OpsError("gate failed", fix="-")
    switch = fleet.switch

    def interrupted_switch(image: str, hosts: list[str], *, elapsed: float) -> SwitchResult:
        os.kill(os.getpid(), signal.SIGTERM)
        return switch(image, hosts, elapsed=elapsed)

    fleet.switch = interrupted_switch  # type: ignore[method-assign]
    with pytest.raises(OpsError):
        _releaser(fleet, store, tmp_path).release("v2", OPTIONS)

    assert set(fleet.images.values()) == {V1}
    assert store.snapshot().audit[-1].result == "rolled-back"


def test_release_is_refused_while_another_holds_the_lock(
    fleet: FakeHosts, store: ReleaseStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLIPWAY_ACTOR", "bo@laptop")
    store.acquire("release v7", ttl=600)
    monkeypatch.setenv("SLIPWAY_ACTOR", "ana@ci")

    with pytest.raises(OpsError) as refused:
        _releaser(fleet, store, tmp_path).release("v2", OPTIONS)

    assert "bo@laptop" in refused.value.message
    assert fleet.batches == 0


def test_second_rollback_goes_further_back_never_forward(fleet: FakeHosts, store: ReleaseStore, tmp_path: Path) -> None:
    releaser = _releaser(fleet, store, tmp_path)
    for version in ("v2", "v3"):
        releaser.release(version, OPTIONS)

    assert releaser.rollback(None).version == "v2"
    assert releaser.rollback(None).version == "v1"

    history = store.snapshot().history
    assert set(fleet.images.values()) == {V1}
    assert "rolled back from" in history.find("v3").bad_reason  # type: ignore[union-attr]
    assert "rolled back from" in history.find("v2").bad_reason  # type: ignore[union-attr]


def test_version_name_is_never_released_again_with_other_content(
    fleet: FakeHosts, store: ReleaseStore, tmp_path: Path
) -> None:
    releaser = _releaser(fleet, store, tmp_path)
    releaser.release("v2", OPTIONS)
    releaser.rollback(None)
    fleet.content = "sha256:bbbb"

    with pytest.raises(OpsError, match="released before with other content"):
        releaser.release("v2", OPTIONS)

    assert set(fleet.images.values()) == {V1}
    fleet.content = "sha256:aaaa"
    assert releaser.release("v2", OPTIONS).result == "released"  # the same content may go out again


def test_config_only_release_stamps_the_running_image_as_a_new_version(
    fleet: FakeHosts, store: ReleaseStore, tmp_path: Path
) -> None:
    done = _releaser(fleet, store, tmp_path).release("v1-config-1", ReleaseOptions(config_only=True))

    assert done.result == "released"
    assert fleet.prepared_from == "slipway/app:v1-aaaaaaa"  # the running release's image, stamped anew
    assert store.snapshot().history.current == "v1-config-1"


def test_rollback_goes_back_to_the_release_that_ran_before(
    fleet: FakeHosts, store: ReleaseStore, tmp_path: Path
) -> None:
    releaser = _releaser(fleet, store, tmp_path)
    for version in ("v2", "v3"):
        releaser.release(version, OPTIONS)
    releaser.rollback("v1")
    releaser.release("v4", OPTIONS)

    assert releaser.rollback(None).version == "v1"  # not v2, released earlier but replaced by nothing since
