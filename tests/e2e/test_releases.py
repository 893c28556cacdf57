"""Releases on the shared e2e fleet, under continuous load through nginx over TLS.

v1 -> v2 -> v3 and a rollback to v2 drop no request; a release whose slots never become ready
and one that answers 500 once it takes traffic are both rolled back by themselves, every host
ends on the previous release and the audit log says why; a held lock refuses a second release
naming its holder, and a stale lock expires. The versions are one built image stamped with
different versions (no rebuild); the faulty ones are tiny images derived from it. The module
leaves the fleet on the image it found.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from ops.deploy.cli import main as deploy_main
from ops.deploy.local import Deployment
from ops.docker_cli import docker
from ops.fleet.state import EnvPaths
from ops.load import BackgroundLoad, LoadReport
from ops.release import fleet_view
from ops.release.audit import AuditRecord
from ops.release.engine import ReleaseOptions
from ops.release.environments import open_releaser
from ops.release.target import ReleaseTarget, resolve
from tests.e2e.conftest import ENV

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.timeout(1800)]

# Under nginx's 200 r/s limit with room to spare; ~4.5 min of releases give >= 10,000 requests.
LOAD_RATE = 60
LOAD_CONCURRENCY = 6
MIN_REQUESTS = 10_000
# The p99 floor is raised from the SLO's 0.25 s: CI machines are shared (load 30 on 2 cores was
# seen), and a latency spike there is not what these tests are about; the 500 fault is caught
# by the probes and the error ratio.
OPTIONS = {"serial": "1", "bake_seconds": 8, "ready_timeout": 60, "p99_floor": 2.0}

# Answers 500 to every request that comes through the balancer (X-Forwarded-For set), while its
# direct readiness probe stays 200: a fault only real traffic finds. The path is rewritten to
# the app's own /debug/fail (FAULT_INJECTION) so the app's metrics count the 500s.
FAULT_500 = """
import sys
import app.server
from app.main import create_app


class ProxiedRequestsFail:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and any(name == b"x-forwarded-for" for name, _ in scope["headers"]):
            scope = dict(scope, path="/debug/fail", raw_path=b"/debug/fail")
        await self.app(scope, receive, send)


def broken_app(settings):
    api = create_app(settings)
    api.add_middleware(ProxiedRequestsFail)
    return api


app.server.create_app = broken_app
from app.__main__ import main
sys.exit(main())
"""

# Points the API (not its migrations: argv is `serve`) at a database port where nothing
# listens: it starts, but never answers ready.
FAULT_NEVER_READY = """
import os
import sys
if sys.argv[1:] == ["serve"]:
    os.environ["DATABASE_URL"] = "postgresql+asyncpg://nobody:nothing@127.0.0.1:9/none"
from app.__main__ import main
sys.exit(main())
"""


def _fault_image(base: str, name: str, script: str, folder: Path) -> str:
    tag = f"slipway/app-fault:{ENV}-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fault.py").write_text(script)
    (folder / "Dockerfile").write_text(
        f"FROM {base}\nENV FAULT_INJECTION=true\nCOPY fault.py /opt/fault/fault.py\n"
        # -c keeps the image's working directory (the app package) on sys.path, as `-m app` does.
        'ENTRYPOINT ["python", "-c", "import runpy; runpy.run_path(\'/opt/fault/fault.py\', run_name=\'__main__\')"]\n'
        'CMD ["serve"]\n'
    )
    docker("build", "-q", "-t", tag, str(folder), step=f"build the {name} fault image")
    return tag


@pytest.fixture(scope="module")
def target(e2e_fleet: Deployment) -> Iterator[ReleaseTarget]:
    """The e2e environment as a release target; afterwards every host is back on its first image."""
    release_target = resolve(ENV)
    yield release_target
    releaser = open_releaser(ENV)
    history = releaser.history()
    first = history.find_image(e2e_fleet.pull_name)
    if first is not None and history.current != first.version:
        releaser.rollback(first.version)


@pytest.fixture(scope="module")
def load_url(e2e_fleet: Deployment) -> str:
    # /health/live crosses the whole client path (TLS, nginx, the upstream switch, the slots'
    # drain) without /health/ready's database check, which answers 503 when an overloaded CI
    # machine slows PostgreSQL past its 1 s timeout: that is not what a release is judged on.
    return f"https://127.0.0.1:{e2e_fleet.state.https_port}/health/live"


def _load(url: str) -> BackgroundLoad:
    ca = str(EnvPaths.for_env(ENV).ca_cert)
    return BackgroundLoad(url, concurrency=LOAD_CONCURRENCY, rate=LOAD_RATE, verify=ca, max_seconds=1500)


def _versions_running(target: ReleaseTarget) -> set[str]:
    views = fleet_view.read(target)
    history = target.store().snapshot().history
    return {(history.find_image(view.active_image) or _unknown(view.active_image)).version for view in views.values()}


def _unknown(image: str) -> NoReturn:
    raise AssertionError(f"a host runs {image}, which no release recorded")


def _describe(report: LoadReport) -> str:
    failures = report.failures[:5]
    retried = report.summary()["retried"]
    return f"{len(report.failures)} of {report.total} failed ({retried} retried once); first: {failures}"


def _audit(target: ReleaseTarget, last: int) -> list[AuditRecord]:
    return target.store().snapshot(last_audit=last).audit


def _last_audit(target: ReleaseTarget) -> AuditRecord:
    return _audit(target, 1)[0]


def test_releases_and_rollback_under_load_drop_no_request(
    e2e_fleet: Deployment, target: ReleaseTarget, load_url: str
) -> None:
    releaser = open_releaser(ENV)
    base = e2e_fleet.image.tag
    with _load(load_url) as load:
        for version in ("v1", "v2", "v3"):
            releaser.release(version, ReleaseOptions(from_image=base, **OPTIONS))  # type: ignore[arg-type]
            assert _versions_running(target) == {version}
        releaser.rollback("v2")
        while load.report.total < MIN_REQUESTS and load.elapsed() < 600:
            time.sleep(1)
    report = load.report

    assert report.total >= MIN_REQUESTS
    assert report.failures == [], _describe(report)
    assert _versions_running(target) == {"v2"}
    actions = [(r.action, r.to_version, r.result) for r in _audit(target, 4)]
    assert actions == [
        ("release", "v1", "released"),
        ("release", "v2", "released"),
        ("release", "v3", "released"),
        ("rollback", "v2", "rolled-back"),
    ]


def test_release_that_never_becomes_ready_is_rolled_back(
    e2e_fleet: Deployment, target: ReleaseTarget, load_url: str, tmp_path: Path
) -> None:
    bad = _fault_image(e2e_fleet.image.tag, "never-ready", FAULT_NEVER_READY, tmp_path / "never-ready")
    options = ReleaseOptions(from_image=bad, **{**OPTIONS, "ready_timeout": 20})  # type: ignore[arg-type]
    with _load(load_url) as load, pytest.raises(Exception, match="every app host is back on v2"):
        open_releaser(ENV).release("bad-ready", options)
    report = load.report

    assert _versions_running(target) == {"v2"}
    assert report.failures == [], _describe(report)
    record = _last_audit(target)
    assert (record.from_version, record.to_version) == ("v2", "bad-ready")
    assert "did not answer ready" in record.reason
    assert target.store().snapshot().history.find("bad-ready").bad_reason  # type: ignore[union-attr]


def test_release_answering_500_after_the_switch_is_rolled_back(
    e2e_fleet: Deployment, target: ReleaseTarget, load_url: str, tmp_path: Path
) -> None:
    bad = _fault_image(e2e_fleet.image.tag, "answers-500", FAULT_500, tmp_path / "answers-500")
    options = ReleaseOptions(from_image=bad, **OPTIONS)  # type: ignore[arg-type]
    with _load(load_url) as load:
        began = load.elapsed()
        with pytest.raises(Exception, match="every app host is back on v2"):
            open_releaser(ENV).release("bad-500", options)
        ended = load.elapsed()
    report = load.report

    assert _versions_running(target) == {"v2"}
    record = _last_audit(target)
    assert (record.action, record.result) == ("auto-rollback", "rolled-back")
    assert "gate failed" in record.reason
    # Only requests of the bad release's bake window may fail: none before it, none after the rollback.
    assert all(began <= failure.started <= ended for failure in report.failures), _describe(report)
    assert all(failure.status == 500 for failure in report.failures), _describe(report)
    assert len(report.failures) < report.total / 4, _describe(report)


def test_second_release_is_refused_naming_the_lock_holder(
    target: ReleaseTarget, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLIPWAY_ACTOR", "ci-runner-7@build")
    lease, _ = target.store().acquire("release v9 from CI", ttl=600)
    monkeypatch.delenv("SLIPWAY_ACTOR")
    try:
        assert deploy_main([ENV, "--version", "v4", "--from-image", "slipway/app:none"]) == 1
    finally:
        lease.release()
    err = capsys.readouterr().err

    assert "locked by ci-runner-7@build" in err
    assert "release v9 from CI" in err
    assert _versions_running(target) == {"v2"}


def test_lapsed_lock_is_taken_over_and_its_takeover_is_audited(target: ReleaseTarget) -> None:
    target.store().agent.call(
        "acquire", {"holder": "gone@ci", "machine": "elsewhere", "pid": 1, "purpose": "killed release", "ttl": -1}
    )

    assert deploy_main(["lock", ENV, "--reason", "after a lapsed lock", "--ttl", "60"]) == 0
    assert deploy_main(["unlock", ENV]) == 0

    actions = [(record.action, record.reason) for record in _audit(target, 3)]
    assert [action for action, _ in actions] == ["lock-expired", "lock-held", "lock-broken"]
    assert "gone@ci" in actions[0][1]
