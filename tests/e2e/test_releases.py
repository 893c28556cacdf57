"""Releases on the shared e2e fleet, under continuous load through nginx over TLS.

v1 in host batches (a 200 MB upload sent slowly across it completes), v2 as a canary promoted
through every step, a config-only release that adds an environment value, and a warm rollback
(v2's slot still runs, with v2's environment) drop no request; a release whose slots never
become ready and a canary that fails 5% of one business endpoint (while its health checks answer
normally) are both rolled back by themselves, every host ends on the previous release and the
audit log says why; a held lock refuses a second release naming its holder, and a stale lock
expires. The versions are one
built image stamped with different versions (no rebuild); the faulty ones are tiny images derived
from it. The module leaves the fleet on the image it found.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NoReturn

import httpx
import pytest
import yaml

from ops.deploy.cli import main as deploy_main
from ops.deploy.local import Deployment
from ops.docker_cli import docker
from ops.fleet import model
from ops.fleet.state import EnvPaths
from ops.load import BackgroundLoad, LoadReport
from ops.release import fleet_view
from ops.release.audit import AuditRecord
from ops.release.engine import ReleaseOptions
from ops.release.environments import open_releaser
from ops.release.target import ReleaseTarget, resolve
from ops.smoke import create_api_key, make_clip, smoke_client
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
# A value only the config-only release puts in the app's environment.
CONFIG_MARK = {"SLIPWAY_E2E_MARK": "config-2"}
CANARY = {"canary": (5, 25, 50), "step_seconds": 12, "ready_timeout": 60}
# Listings through nginx with a few keys, each under the API's per-key rate limit (600/min).
BUSINESS_KEYS = 3
BUSINESS_RATE_PER_KEY = 8
# A large upload sent slowly enough to span a release of both app hosts.
UPLOAD_BYTES = 200 * 1024 * 1024
UPLOAD_BYTES_PER_SECOND = 2 * 1024 * 1024

# Fails 5% of the video listings that come through the balancer (X-Forwarded-For set) with a
# 500, while every health check answers normally: a fault only a comparison of real traffic
# finds. The path is rewritten to the app's own /debug/fail (FAULT_INJECTION), an error the app
# answers and counts like any other.
FAULT_5_PERCENT = """
import random
import sys
import app.server
from app.main import create_app


# Outermost, so it also sees the listings the app's hot paths answer.
class SomeListingsFail:
    def __init__(self, app):
        self.app = app

    def __getattr__(self, name):
        return getattr(self.app, name)

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
    return SomeListingsFail(create_app(settings))


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


class _SlowUpload:
    """A video of UPLOAD_BYTES sent through nginx at UPLOAD_BYTES_PER_SECOND on a thread of its own,
    so it spans what runs meanwhile (a release); `status` and `answer` are the API's answer."""

    def __init__(self, fleet: Deployment, key: str, folder: Path) -> None:
        self.url = f"https://127.0.0.1:{fleet.state.https_port}"
        self.key = key
        self.video = make_clip(folder / "slow.mp4")
        with self.video.open("ab") as padding:  # a valid video, padded: the API probes its first frame
            padding.truncate(UPLOAD_BYTES)
        self.status, self.answer = 0, ""
        self.thread = threading.Thread(target=self._send, name="slow-upload", daemon=True)

    def _send(self) -> None:
        with smoke_client(self.url, EnvPaths.for_env(ENV).ca_cert, self.key) as client:
            project = client.post("/api/v1/projects", json={"name": "e2e-slow-upload"}).json()["id"]
            with self.video.open("rb") as video:
                paced = _Paced(video, UPLOAD_BYTES_PER_SECOND)
                try:
                    answer = client.post(
                        f"/api/v1/projects/{project}/videos", files={"file": ("slow.mp4", paced, "video/mp4")},
                        timeout=httpx.Timeout(30.0, read=600.0),
                    )  # fmt: skip
                except httpx.HTTPError as error:
                    self.answer = f"{type(error).__name__}: {error}"
                    return
            self.status, self.answer = answer.status_code, answer.text[:300]

    def __enter__(self) -> _SlowUpload:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(timeout=UPLOAD_BYTES / UPLOAD_BYTES_PER_SECOND + 300)


class _Paced:
    """A file read at most `rate` bytes per second (httpx reads multipart parts in chunks)."""

    def __init__(self, file: BinaryIO, rate: int) -> None:
        self.file, self.rate = file, rate

    def read(self, size: int = -1) -> bytes:
        chunk = self.file.read(min(size if size > 0 else 65536, 65536))
        time.sleep(len(chunk) / self.rate)
        return chunk


@contextmanager
def _app_environment(extra: dict[str, str]) -> Iterator[None]:
    """The app hosts' inventory with `extra` in the app's environment, put back afterwards."""
    overrides = EnvPaths.for_env(ENV).inventory_dir / "group_vars" / "app" / "fault_injection.yml"
    before = overrides.read_text()
    values = {**yaml.safe_load(before)["app_environment_extra"], **extra}
    overrides.write_text(yaml.safe_dump({"app_environment_extra": values}))
    try:
        yield
    finally:
        overrides.write_text(before)


def _environment_value_served(host: str, name: str) -> str:
    """`name` in the environment of the API container nginx sends `host`'s requests to."""
    slot = fleet_view.read(resolve(ENV))[host].active
    command = ["exec", model.container_name(ENV, host), "docker", "exec", f"slipway-api-{slot}", "printenv", name]
    return docker(*command, step="read the slot's environment", check=False).stdout.strip()


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
    e2e_fleet: Deployment, target: ReleaseTarget, load_url: str, business_keys: list[str], tmp_path: Path
) -> None:
    releaser = open_releaser(ENV)
    base = e2e_fleet.image.tag
    with _load(load_url) as load, _BusinessLoad(_listings_url(e2e_fleet), business_keys) as business:
        with _SlowUpload(e2e_fleet, business_keys[0], tmp_path) as upload:
            releaser.release("v1", ReleaseOptions(from_image=base, **OPTIONS))  # type: ignore[arg-type]
        assert _versions_running(target) == {"v1"}
        assert upload.status == 202, upload.answer  # sent while the slots it went to were switched
        releaser.release("v2", ReleaseOptions(from_image=base, **CANARY))  # type: ignore[arg-type]
        assert _versions_running(target) == {"v2"}
        with _app_environment(CONFIG_MARK):
            releaser.release("v2-config", ReleaseOptions(config_only=True, **{**OPTIONS, "serial": "100%"}))  # type: ignore[arg-type]
        assert _versions_running(target) == {"v2-config"}
        assert _environment_value_served("app1", "SLIPWAY_E2E_MARK") == "config-2"
        rolled_back = releaser.rollback(None)  # v2's slot still runs, with v2's environment
        while load.report.total < MIN_REQUESTS and load.elapsed() < 600:
            time.sleep(1)
    report = load.report

    assert report.total >= MIN_REQUESTS
    assert report.failures == [], _describe(report)
    assert business.report.failures == [], _describe(business.report)
    assert _versions_running(target) == {"v2"}
    assert _environment_value_served("app1", "SLIPWAY_E2E_MARK") == ""
    records = _audit(target, 4)
    actions = [(r.action, r.to_version, r.result) for r in records]
    assert actions == [
        ("release", "v1", "released"),
        ("release", "v2", "released"),
        ("release", "v2-config", "released"),
        ("rollback", "v2", "rolled-back"),
    ]
    steps = records[1].details["canary"]
    assert [(step["weight"], step["outcome"]) for step in steps] == [(5, "pass"), (25, "pass"), (50, "pass")]
    # v2's slot was kept warm: nginx switched to it before anything else ran.
    assert rolled_back.durations["to_traffic"] < rolled_back.seconds
    print(f"\nwarm rollback: nginx served v2 after {rolled_back.durations['to_traffic']:.1f}s, "
          f"done after {rolled_back.seconds:.1f}s")  # fmt: skip


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
