"""Releases on the shared e2e fleet, under continuous load through nginx over TLS.

v1 -> v2 in host batches, v3 as a canary promoted through every step, and a warm rollback to v2
(its slot kept running) drop no request; a release whose slots never become ready and a canary
that fails 5% of one business endpoint (while its health checks answer normally) are both rolled
back by themselves, every host ends on the previous release and the audit log says why; a held
lock refuses a second release naming its holder, and a stale lock expires. The versions are one
built image stamped with different versions (no rebuild); the faulty ones are tiny images derived
from it. The module leaves the fleet on the image it found.
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
from ops.smoke import create_api_key
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
CANARY = {"canary": (5, 25, 50), "step_seconds": 12, "ready_timeout": 60}
# Listings through nginx with a few keys, each under the API's per-key rate limit (600/min).
BUSINESS_KEYS = 3
BUSINESS_RATE_PER_KEY = 8

# Fails 5% of the video listings that come through the balancer (X-Forwarded-For set) with a
# 500, while every health check answers normally: a fault only a comparison of real traffic
# finds. The path is rewritten to the app's own /debug/fail (FAULT_INJECTION), an error the app
# answers and counts like any other.
FAULT_5_PERCENT = """
import random
import sys
import app.server
from app.main import create_app


class SomeListingsFail:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] == "http"
            and scope["path"] == "/api/v1/videos"
            and any(name == b"x-forwarded-for" for name, _ in scope["headers"])
            and random.random() < 0.05
        ):
            scope = dict(scope, path="/debug/fail", raw_path=b"/debug/fail")
        await self.app(scope, receive, send)


def broken_app(settings):
    api = create_app(settings)
    api.add_middleware(SomeListingsFail)
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


class _BusinessLoad:
    """Video listings through nginx, one paced load per API key, reported as one."""

    def __init__(self, url: str, keys: list[str]) -> None:
        ca = str(EnvPaths.for_env(ENV).ca_cert)
        self.loads = [
            BackgroundLoad(url, concurrency=2, rate=BUSINESS_RATE_PER_KEY, verify=ca, max_seconds=900,
                           headers={"X-API-Key": key})
            for key in keys
        ]  # fmt: skip

    def __enter__(self) -> _BusinessLoad:
        for load in self.loads:
            load.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for load in self.loads:
            load.__exit__(*exc)

    def elapsed(self) -> float:
        return self.loads[0].elapsed()

    @property
    def report(self) -> LoadReport:
        merged = LoadReport()
        for load in self.loads:
            merged.samples += load.report.samples
        merged.seconds = max(load.report.seconds for load in self.loads)
        return merged


def _listings_url(fleet: Deployment) -> str:
    return f"https://127.0.0.1:{fleet.state.https_port}/api/v1/videos"


@pytest.fixture(scope="module")
def business_keys(e2e_fleet: Deployment) -> list[str]:
    return [create_api_key(ENV, "app1", name=f"e2e-canary-{number}") for number in range(BUSINESS_KEYS)]


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


def test_releases_canary_and_warm_rollback_under_load_drop_no_request(
    e2e_fleet: Deployment, target: ReleaseTarget, load_url: str, business_keys: list[str]
) -> None:
    releaser = open_releaser(ENV)
    base = e2e_fleet.image.tag
    with _load(load_url) as load, _BusinessLoad(_listings_url(e2e_fleet), business_keys) as business:
        for version in ("v1", "v2"):
            releaser.release(version, ReleaseOptions(from_image=base, **OPTIONS))  # type: ignore[arg-type]
            assert _versions_running(target) == {version}
        releaser.release("v3", ReleaseOptions(from_image=base, **CANARY))  # type: ignore[arg-type]
        assert _versions_running(target) == {"v3"}
        rolled_back = releaser.rollback("v2")
        while load.report.total < MIN_REQUESTS and load.elapsed() < 600:
            time.sleep(1)
    report = load.report

    assert report.total >= MIN_REQUESTS
    assert report.failures == [], _describe(report)
    assert business.report.failures == [], _describe(business.report)
    assert _versions_running(target) == {"v2"}
    records = _audit(target, 4)
    actions = [(r.action, r.to_version, r.result) for r in records]
    assert actions == [
        ("release", "v1", "released"),
        ("release", "v2", "released"),
        ("release", "v3", "released"),
        ("rollback", "v2", "rolled-back"),
    ]
    steps = records[2].details["canary"]
    assert [(step["weight"], step["outcome"]) for step in steps] == [(5, "pass"), (25, "pass"), (50, "pass")]
    # v2's slot was kept warm: the rollback only switched to it (no image started).
    print(f"\nwarm rollback to v2: {rolled_back.seconds:.1f}s ({rolled_back.durations})")


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


def test_canary_failing_some_listings_is_rolled_back(
    e2e_fleet: Deployment, target: ReleaseTarget, load_url: str, business_keys: list[str], tmp_path: Path
) -> None:
    bad = _fault_image(e2e_fleet.image.tag, "lists-fail", FAULT_5_PERCENT, tmp_path / "lists-fail")
    options = ReleaseOptions(from_image=bad, **CANARY)  # type: ignore[arg-type]
    with _load(load_url) as load, _BusinessLoad(_listings_url(e2e_fleet), business_keys) as business:
        began = business.elapsed()
        with pytest.raises(Exception, match="every app host is back on v2"):
            open_releaser(ENV).release("bad-canary", options)
        ended = business.elapsed()

    assert _versions_running(target) == {"v2"}
    assert load.report.failures == [], _describe(load.report)
    record = _last_audit(target)
    assert (record.action, record.result) == ("auto-rollback", "rolled-back")
    assert "canary failed its analysis" in record.reason
    assert record.details["canary"][-1]["outcome"] == "fail"
    # Only listings the canary answered during its steps may fail: a few, all 500s.
    failures = business.report.failures
    assert all(began <= failure.started <= ended for failure in failures), _describe(business.report)
    assert all(failure.status == 500 for failure in failures), _describe(business.report)
    assert len(failures) < business.report.total / 20, _describe(business.report)


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
