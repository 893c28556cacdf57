"""The release engine under the faults an operator meets, on the shared e2e fleet, under load.

`./deploy.sh` runs as its own process, as an operator or a CI job starts it: SIGTERM in batch 2
rolls every host back and the audit log says so; after SIGKILL of the whole controller, `status`
names the discrepancy and `resume` (or `abort`) leaves every host on one version; a rollback
with app2 and the monitoring host down completes app1, reports app2 and `resume` finishes it;
two controllers (two clones) racing for one environment: one runs, the other names the holder;
a holder whose lease lapsed cannot write once another took the lock. The load runs with client
retries off, so every request nginx dropped is counted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ops.deploy.cli import main as deploy_main
from ops.deploy.local import Deployment
from ops.docker_cli import docker
from ops.fleet import model
from ops.fleet.state import REPO_ROOT, EnvPaths
from ops.load import BackgroundLoad, LoadReport
from ops.release import fleet_view
from ops.release.audit import AuditRecord
from ops.release.journal import Journal
from ops.release.lock import LeaseLostError
from ops.release.store import ReleaseStore, Snapshot
from ops.release.target import ReleaseTarget, resolve
from tests.e2e.conftest import ENV

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.timeout(1800)]

PYTHON = str(REPO_ROOT / ".venv" / "bin" / "python")


@pytest.fixture(scope="module")
def target(e2e_fleet: Deployment) -> ReleaseTarget:
    return resolve(ENV)


@pytest.fixture(scope="module")
def store(target: ReleaseTarget) -> ReleaseStore:
    return target.store()


@pytest.fixture
def load(e2e_fleet: Deployment) -> Iterator[BackgroundLoad]:
    url = f"https://127.0.0.1:{e2e_fleet.state.https_port}/health/live"
    ca = str(EnvPaths.for_env(ENV).ca_cert)
    with BackgroundLoad(url, concurrency=4, rate=40, verify=ca, max_seconds=900, retry_stale=False) as running:
        yield running


def _release_command(version: str, base: str, *extra: str) -> list[str]:
    return [PYTHON, "-m", "ops.deploy", ENV, "--version", version, "--from-image", base, "--bake", "6", *extra]


def _start(command: list[str], log: Path, *, cwd: Path = REPO_ROOT, actor: str = "") -> subprocess.Popen[bytes]:
    """A controller of its own: a new session, so SIGKILL can take everything it started."""
    environment = os.environ | ({"SLIPWAY_ACTOR": actor} if actor else {})
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=environment,
                                start_new_session=True)  # fmt: skip


def _wait_for(store: ReleaseStore, condition: Callable[[Snapshot], bool], what: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition(store.snapshot()):
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _moving(version: str, host: str) -> Callable[[Snapshot], bool]:
    def check(snapshot: Snapshot) -> bool:
        journal: Journal | None = snapshot.journal
        return journal is not None and journal.to_version == version and journal.hosts.get(host) == "moving"

    return check


def _images_running(target: ReleaseTarget) -> set[str]:
    return {view.active_image for view in fleet_view.read(target).values()}


def _version_running(target: ReleaseTarget, store: ReleaseStore) -> str:
    images = _images_running(target)
    assert len(images) == 1, f"the app hosts run different images: {images}"
    image = images.pop()
    release = store.snapshot().history.find_image(image)
    return release.version if release else fleet_view.version_of(image)  # deployed by site.yml


def _dropped(report: LoadReport) -> str:
    failures = report.failures
    return f"{len(failures)} of {report.total} failed with retries off; first: {failures[:5]}"


def test_sigterm_during_batch_two_rolls_every_host_back(
    e2e_fleet: Deployment, target: ReleaseTarget, store: ReleaseStore, load: BackgroundLoad, tmp_path: Path
) -> None:
    before = _version_running(target, store)
    release = _start(_release_command("sigterm", e2e_fleet.image.tag), tmp_path / "release.log")

    _wait_for(store, _moving("sigterm", "app2"), "batch 2 to start")
    time.sleep(3)  # inside batch 2's playbook run
    release.send_signal(signal.SIGTERM)
    code = release.wait(timeout=300)

    output = (tmp_path / "release.log").read_text()
    snapshot = store.snapshot(last_audit=1)
    record = snapshot.audit[-1]
    assert code == 1, output
    assert _version_running(target, store) == before
    assert snapshot.lock is None
    assert (record.action, record.result) == ("auto-rollback", "rolled-back"), output
    assert "interrupted by SIGTERM" in record.reason
    assert all(sample.status != 500 for sample in load.report.failures), _dropped(load.report)
    print(f"\nSIGTERM in batch 2: {_dropped(load.report)}")


def _record_of(snapshot: Snapshot, version: str) -> AuditRecord:
    """The audit record of the release of `version` (updated in place when it ended)."""
    return next(r for r in reversed(snapshot.audit) if r.action == "release" and r.to_version == version)


def _kill_mid_release(version: str, base: str, store: ReleaseStore, log: Path) -> None:
    release = _start(_release_command(version, base), log)
    _wait_for(store, _moving(version, "app2"), "batch 2 to start")
    # The controller and everything it started, at once (its session: Ansible runs in a process
    # group of its own, so a killpg of the controller's group would miss it).
    subprocess.run(["pkill", "-KILL", "-s", str(release.pid)], check=False)
    release.wait(timeout=30)


def test_sigkill_mid_release_then_status_names_it_and_resume_finishes_it(
    e2e_fleet: Deployment, target: ReleaseTarget, store: ReleaseStore, load: BackgroundLoad, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _kill_mid_release("killed-resumed", e2e_fleet.image.tag, store, tmp_path / "release.log")

    assert deploy_main(["status", ENV]) == 3
    status = capsys.readouterr().out
    assert "UNFINISHED" in status
    assert "differs: app2" in status
    assert deploy_main(["resume", ENV]) == 0

    snapshot = store.snapshot(last_audit=5)
    record = _record_of(snapshot, "killed-resumed")
    assert _version_running(target, store) == "killed-resumed"
    assert snapshot.journal is not None
    assert snapshot.journal.finished
    assert snapshot.lock is None
    assert record.result == "released"
    assert "resume" in record.details
    assert deploy_main(["status", ENV]) == 0
    print(f"\nSIGKILL then resume: {_dropped(load.report)}")


def test_sigkill_mid_release_then_abort_puts_every_host_back(
    e2e_fleet: Deployment, target: ReleaseTarget, store: ReleaseStore, load: BackgroundLoad, tmp_path: Path
) -> None:
    before = _version_running(target, store)
    _kill_mid_release("killed-aborted", e2e_fleet.image.tag, store, tmp_path / "release.log")

    assert deploy_main(["abort", ENV]) == 0

    snapshot = store.snapshot(last_audit=5)
    assert _version_running(target, store) == before
    assert snapshot.history.current == before
    assert _record_of(snapshot, "killed-aborted").result == "rolled-back"
    assert snapshot.history.find("killed-aborted").bad_reason  # type: ignore[union-attr]
    print(f"\nSIGKILL then abort: {_dropped(load.report)}")


def _wait_for_ssh(host: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    command = [PYTHON, "-m", "ops.fleet", "ssh", "--env", ENV, host, "true"]
    while subprocess.run(command, capture_output=True, check=False).returncode != 0:
        assert time.monotonic() < deadline, f"{host} did not come back"
        time.sleep(2)


def test_rollback_with_app2_and_mon_down_completes_app1_and_resume_finishes_app2(
    target: ReleaseTarget, store: ReleaseStore
) -> None:
    current = _version_running(target, store)
    goal = store.snapshot().history.rollback_target(None).version
    app2, mon = model.container_name(ENV, "app2"), model.container_name(ENV, "mon")
    docker("stop", "--time", "5", app2, mon, step="stop app2 and mon")
    try:
        assert deploy_main(["rollback", ENV]) == 1  # incomplete: app2 was not reached
        views, unreachable = fleet_view.read_reachable(target)
        record = store.snapshot(last_audit=1).audit[-1]
        assert unreachable == ["app2"]
        assert store.snapshot().history.find_image(views["app1"].active_image).version == goal  # type: ignore[union-attr]
        assert (record.action, record.result) == ("rollback", "incomplete")
        assert "app2" in record.reason
    finally:
        docker("start", app2, mon, step="start app2 and mon")
    _wait_for_ssh("app2")

    assert deploy_main(["resume", ENV]) == 0

    assert _version_running(target, store) == goal != current
    assert store.snapshot(last_audit=1).audit[-1].result == "rolled-back"


def _second_controller(tmp_path: Path) -> Path:
    """Another checkout of the repository with its own `.slipway/`: no file is shared with this one
    but the environment's inventory and keys, as on a colleague's machine."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True)
    ignored = shutil.ignore_patterns("releases", "logs")
    shutil.copytree(EnvPaths.for_env(ENV).root, clone / ".slipway" / ENV, ignore=ignored)
    return clone


def test_two_controllers_at_once_one_runs_the_other_names_the_holder(
    e2e_fleet: Deployment, target: ReleaseTarget, store: ReleaseStore, tmp_path: Path
) -> None:
    clone = _second_controller(tmp_path)
    command = _release_command("race", e2e_fleet.image.tag)
    runs = {
        "ana@laptop": _start(command, tmp_path / "ana.log", actor="ana@laptop"),
        "bo@ci": _start(command, tmp_path / "bo.log", cwd=clone, actor="bo@ci"),
    }
    codes = {actor: run.wait(timeout=600) for actor, run in runs.items()}

    winner = next(actor for actor, code in codes.items() if code == 0)
    loser = next(actor for actor in runs if actor != winner)
    refused = (tmp_path / f"{loser.split('@')[0]}.log").read_text()
    assert codes[loser] == 1, refused
    assert f"locked by {winner}" in refused
    assert _version_running(target, store) == "race"
    assert [record.actor for record in store.snapshot(last_audit=1).audit] == [winner]


def test_holder_whose_lease_lapsed_cannot_write_after_a_takeover(store: ReleaseStore) -> None:
    stale, _ = store.acquire("a release whose controller froze", ttl=1)
    time.sleep(1.5)
    fresh, replaced = store.acquire("the next release", ttl=60)
    try:
        assert replaced is not None
        assert replaced.token == stale.token
        with pytest.raises(LeaseLostError):
            stale.commit(history={"current": "stale", "releases": []})
        with pytest.raises(LeaseLostError):
            stale.renew()
        assert store.snapshot().history.current != "stale"
    finally:
        fresh.release()
    assert store.snapshot().lock is None
