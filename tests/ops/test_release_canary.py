"""Canary releases in the engine, against a fake platform and the real state agent (in a folder),
and the reading of nginx's release log that the canary is judged on.

A healthy canary goes through every step and is promoted; one that answers worse than the old
version is rolled back and marked bad; traffic too thin to judge pauses the release (never a
pass) until `promote` or `abort`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops.errors import OpsError
from ops.release import engine
from ops.release.analysis import Request
from ops.release.engine import ReleaseOptions, Releaser, parse_canary_steps
from ops.release.store import ReleaseStore
from ops.release.traffic import Traffic, route_of, split
from ops.release.traffic_agent import attempts_of, read
from ops.release.transport import DirectoryAgent
from tests.ops.test_release_engine import V1, V2, FakeHosts


def _requests(count: int, *, failures: int = 0, seconds: float = 0.01) -> list[Request]:
    """`count` requests, 10 a second, the first `failures` of them failed."""
    return [Request("GET /videos", 500 if n < failures else 200, seconds, at=n / 10) for n in range(count)]


class FakeTraffic:
    """What nginx logged: `per_read` more requests of each version every time it is read."""

    def __init__(self, baseline: list[Request], canary: list[Request]) -> None:
        self.per_read = (baseline, canary)
        self.reads = 0

    def mark(self) -> dict[str, dict[str, int]]:
        return {"lb1": {"inode": 1, "offset": 0}}

    def since(self, marks: dict[str, dict[str, int]]) -> Traffic:
        assert marks == self.mark()
        self.reads += 1
        baseline, canary = self.per_read
        return Traffic(baseline * self.reads, canary * self.reads, rotated=False)


class CanaryHosts(FakeHosts):
    def __init__(self, traffic: FakeTraffic) -> None:
        super().__init__()
        self.log = traffic
        self.weights: list[int] = []
        self.promoted: list[str] = []

    def traffic(self) -> FakeTraffic:
        return self.log

    def start_canary(self, image: str, settings: object, *, weight: int) -> None:  # noqa: ARG002
        self.weights.append(weight)

    def weigh_canary(self, image: str, weight: int) -> None:  # noqa: ARG002
        self.weights.append(weight)

    def promote(self, image: str, hosts: list[str], settings: object, **_: object) -> None:  # noqa: ARG002
        self.promoted = list(hosts)
        for host in hosts:
            self.images[host] = image


CANARY = ReleaseOptions(canary=(5, 25, 50), step_seconds=0, extensions=1)


@pytest.fixture
def store(tmp_path: Path) -> ReleaseStore:
    return ReleaseStore(DirectoryAgent(tmp_path / "state"), "staging")


def _releaser(fleet: FakeHosts, store: ReleaseStore) -> Releaser:
    return Releaser("staging", store, fleet, say=lambda _: None)  # type: ignore[arg-type]


def test_healthy_canary_goes_through_every_step_and_is_promoted(store: ReleaseStore) -> None:
    fleet = CanaryHosts(FakeTraffic(_requests(2000), _requests(400)))

    done = _releaser(fleet, store).release("v2", CANARY)

    snapshot = store.snapshot()
    assert done.result == "released"
    assert fleet.weights == [5, 25, 50]
    assert fleet.promoted == fleet.hosts()
    assert set(fleet.images.values()) == {V2}
    assert snapshot.journal is not None
    assert snapshot.journal.finished
    steps = snapshot.audit[-1].details["canary"]
    assert [(step["weight"], step["outcome"]) for step in steps] == [(5, "pass"), (25, "pass"), (50, "pass")]


def test_canary_answering_worse_than_the_old_version_is_rolled_back_and_marked_bad(store: ReleaseStore) -> None:
    fleet = CanaryHosts(FakeTraffic(_requests(2000, failures=1), _requests(400, failures=20)))

    with pytest.raises(OpsError, match="every app host is back on v1") as failed:
        _releaser(fleet, store).release("v2", CANARY)

    snapshot = store.snapshot()
    assert "canary failed its analysis at 5%" in failed.value.detail
    assert fleet.weights == [5]
    assert fleet.promoted == []
    assert fleet.switches == [(V1, fleet.hosts())]
    assert snapshot.audit[-1].result == "rolled-back"
    assert snapshot.history.find("v2").bad_reason  # type: ignore[union-attr]


def test_slower_canary_is_rolled_back(store: ReleaseStore) -> None:
    fleet = CanaryHosts(FakeTraffic(_requests(2000, seconds=0.01), _requests(400, seconds=0.03)))

    with pytest.raises(OpsError, match="every app host is back on v1"):
        _releaser(fleet, store).release("v2", CANARY)

    assert store.snapshot().audit[-1].result == "rolled-back"


def test_thin_traffic_pauses_the_canary_until_a_person_promotes_it(store: ReleaseStore) -> None:
    fleet = CanaryHosts(FakeTraffic(_requests(40), _requests(2)))

    with pytest.raises(OpsError, match="paused at 5%") as paused:
        _releaser(fleet, store).release("v2", CANARY)

    snapshot = store.snapshot()
    assert "promote staging" in paused.value.fix
    assert fleet.log.reads == 2  # the first bake and one extension, then the pause
    assert snapshot.lock is None
    assert snapshot.journal is not None
    assert not snapshot.journal.finished
    assert snapshot.audit[-1].result == "paused"
    assert set(fleet.images.values()) == {V1}  # nothing switched: the hosts run both versions

    done = _releaser(fleet, store).resume()

    assert done.result == "released"
    assert set(fleet.images.values()) == {V2}
    assert store.snapshot().history.current == "v2"


def test_paused_canary_can_be_aborted(store: ReleaseStore) -> None:
    fleet = CanaryHosts(FakeTraffic(_requests(40), _requests(2)))
    with pytest.raises(OpsError, match="paused"):
        _releaser(fleet, store).release("v2", CANARY)

    done = _releaser(fleet, store).abort()

    assert done.result == "rolled-back"
    assert fleet.switches[-1] == (V1, fleet.hosts())
    assert store.snapshot().history.find("v2").bad_reason  # type: ignore[union-attr]


def test_paused_canary_refuses_another_release(store: ReleaseStore) -> None:
    fleet = CanaryHosts(FakeTraffic(_requests(40), _requests(2)))
    with pytest.raises(OpsError, match="paused"):
        _releaser(fleet, store).release("v2", CANARY)

    with pytest.raises(OpsError, match="did not finish"):
        _releaser(fleet, store).release("v3", CANARY)


@pytest.mark.parametrize("text", ["", "0,50", "50,25", "5,5", "5,100", "five"])
def test_canary_steps_must_be_rising_percentages(text: str) -> None:
    with pytest.raises(OpsError, match="rising percentages"):
        parse_canary_steps(text)


# --- nginx's release log ---------------------------------------------------------------------------


def _line(**fields: object) -> str:
    return json.dumps({"t": 1.0, "m": "GET", "u": "/videos/812", "s": 200, "rt": 0.02} | fields)


def test_each_upstream_attempt_is_one_request_of_its_slot() -> None:
    retried = _line(up="10.0.0.2:8001, 10.0.0.3:8000", us="502, 200", urt="0.001, 0.015")

    assert attempts_of(retried) == [
        ["10.0.0.2:8001", "GET", "/videos/812", 502, 0.001, 1.0],
        ["10.0.0.3:8000", "GET", "/videos/812", 200, 0.015, 1.0],
    ]


def test_client_gone_is_a_499_of_the_slot_that_was_answering() -> None:
    gone = _line(s=499, rt=30.0, up="10.0.0.2:8001", us="-", urt="-")

    assert attempts_of(gone) == [["10.0.0.2:8001", "GET", "/videos/812", 499, 30.0, 1.0]]


def test_answers_nginx_gave_by_itself_blame_no_slot() -> None:
    assert attempts_of(_line(s=503, up="", us="", urt="")) == []
    assert attempts_of(_line(s=405, up="-", us="-", urt="-")) == []


def test_routes_fold_ids() -> None:
    assert route_of("GET", "/videos/812") == "GET /videos/{id}"
    assert route_of("GET", "/sessions/0f8fad5b-d9cb-469f-a165-70867728950e/detections") == (
        "GET /sessions/{id}/detections"
    )
    assert route_of("GET", "/") == "GET /"


def test_requests_to_the_active_slots_are_the_baseline() -> None:
    attempts = [["10.0.0.2:8000", "GET", "/stats", 200, 0.01, 5.0], ["10.0.0.2:8001", "GET", "/stats", 500, 0.02, 6.0]]

    baseline, canary = split(attempts, {"10.0.0.2:8000"})

    assert baseline == [Request("GET /stats", 200, 0.01, 5.0)]
    assert canary == [Request("GET /stats", 500, 0.02, 6.0)]


def test_log_is_read_from_the_mark_and_from_the_start_after_a_rotation(tmp_path: Path) -> None:
    log = tmp_path / "release.log"
    record = tmp_path / "slots.json"
    record.write_text(json.dumps({"app1": {"address": "10.0.0.2", "port": 8000, "slot": "blue"}}))
    log.write_text(_line(up="10.0.0.2:8000", us="200", urt="0.01") + "\n")
    inode, offset = log.stat().st_ino, log.stat().st_size
    with log.open("a") as more:
        more.write(_line(up="10.0.0.2:8001", us="500", urt="0.02") + "\n" + '{"t": 1.0, "up": "10.0.0.2:80')

    answer = read(log, {"inode": inode, "offset": offset, "record": str(record)})

    assert answer["attempts"] == [["10.0.0.2:8001", "GET", "/videos/812", 500, 0.02, 1.0]]
    assert answer["active"] == {"app1": "10.0.0.2:8000"}
    assert not answer["rotated"]
    rotated = read(log, {"inode": inode + 1, "offset": offset, "record": str(record)})
    assert rotated["rotated"]
    assert len(rotated["attempts"]) == 2


def test_pause_asked_from_elsewhere_holds_the_canary_at_its_step(
    store: ReleaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "PAUSE_CHECK_SECONDS", 0.05)
    monkeypatch.setenv("SLIPWAY_ACTOR", "oncall@laptop")
    fleet = CanaryHosts(FakeTraffic(_requests(2000), _requests(400)))
    fleet.start_canary = lambda *_, **__: fleet.weights.append(5) or store.request_pause()  # type: ignore[method-assign]

    with pytest.raises(OpsError, match="paused at 5%") as paused:
        _releaser(fleet, store).release("v2", ReleaseOptions(canary=(5, 50), step_seconds=1))

    snapshot = store.snapshot()
    assert "paused by oncall@laptop" in paused.value.detail
    assert fleet.log.reads == 0  # held before it judged
    assert snapshot.audit[-1].result == "paused"
    assert snapshot.pause_requested_by == ""  # the request belonged to that run's lock
    assert "nothing runs" in _releaser(fleet, store).request_pause()


def _cold_then_warm() -> list[Request]:
    """A new slot's first requests open its connections (slow); later ones are as fast as the old."""
    cold = [Request("GET /videos", 200, 0.2, at=1000.0 + n * 0.1) for n in range(10)]
    return cold + [Request("GET /videos", 200, 0.01, at=1030.0 + n * 0.01) for n in range(390)]


@pytest.mark.parametrize(("warmup", "result"), [(15.0, "released"), (0.0, "rolled-back")])
def test_latency_of_the_canarys_warm_up_is_not_judged(warmup: float, result: str, store: ReleaseStore) -> None:
    fleet = CanaryHosts(FakeTraffic(_requests(2000), _cold_then_warm()))
    options = ReleaseOptions(canary=(5,), step_seconds=0, warmup_seconds=warmup)

    if result == "released":
        assert _releaser(fleet, store).release("v2", options).result == "released"
    else:
        with pytest.raises(OpsError, match="back on v1"):
            _releaser(fleet, store).release("v2", options)
        assert "slower" in store.snapshot().audit[-1].reason
    assert store.snapshot().audit[-1].result == result
