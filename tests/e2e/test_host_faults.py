"""Host faults on the shared e2e fleet: what the hosts themselves guarantee around a release.

After a release that switched every app host's slot: a restarted app host (one, then both at
once) boots serving the released version from its active slot, the one nginx points at; a
killed API container is serving again within 15 s (systemd supervises it); an upstream nginx
refuses stops the release before any traffic moves, the live slots keep serving under load and
the never-served new slot is stopped; rollback.yml moves every reachable app host when another
one is down (which it reports) and completes with the mon host down. The module drives
rollout.yml and rollback.yml as the release engine does (per batch, with its tags and extra
vars), with a version stamped on the fleet's own image, and leaves every host on the image it
found (the engine's history is never touched).
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from ops.deploy.local import Deployment
from ops.docker_cli import docker
from ops.fleet import registry
from ops.fleet.state import EnvPaths
from ops.load import BackgroundLoad, LoadReport
from ops.playbook import PlaybookRun, run_playbook
from ops.release.hosts_driver import run_tags
from tests.e2e.conftest import ENV

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.timeout(900)]

APP_HOSTS = ("app1", "app2")
CONFIG_DIR = "/etc/slipway/app"
UPSTREAM_FILE = "/etc/nginx/slipway/upstream-api.conf"
SLOT_PORTS = {"blue": 8000, "green": 8001}
# The version stamped on the fleet's image for this module's release.
VERSION = "host-faults"
KILLED_SERVES_AGAIN_SECONDS = 15
BOOT_SERVES_SECONDS = 120
# Requests through nginx while a release is refused at the switch; each is a failure if it
# fails (no retry of a closed kept-alive connection: nginx must not even reload).
LOAD = {"concurrency": 4, "rate": 40, "retry_stale": False}


def _container(host: str) -> str:
    return f"slipway-{ENV}-{host}"


def _on(host: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return docker("exec", _container(host), *argv, step=f"run {argv[0]} on {host}", check=check, timeout=120)


@dataclass(frozen=True)
class AppHost:
    """One app host as its own files and units say."""

    name: str
    active: str
    image: str  # the active slot's image
    units: dict[str, str]  # slipway-api@<slot> and slipway-worker -> systemd ActiveState
    enabled: dict[str, str]

    @property
    def idle(self) -> str:
        return next(slot for slot in SLOT_PORTS if slot != self.active)


def _app_host(name: str) -> AppHost:
    active = _on(name, "cat", f"{CONFIG_DIR}/active-slot").stdout.strip()
    image = _on(name, "sed", "-n", "s/^APP_IMAGE=//p", f"{CONFIG_DIR}/api-{active}.image").stdout.strip()
    units = [f"slipway-api@{slot}" for slot in SLOT_PORTS] + ["slipway-worker"]
    states = _on(name, "systemctl", "is-active", *units, check=False).stdout.split()
    enabled = _on(name, "systemctl", "is-enabled", *units, check=False).stdout.split()
    return AppHost(name, active, image, dict(zip(units, states, strict=True)), dict(zip(units, enabled, strict=True)))


def _private_ip(host: str) -> str:
    def find(node: object) -> str:
        if isinstance(node, dict):
            if isinstance(node.get("hosts"), dict) and host in node["hosts"]:
                return str(node["hosts"][host]["slipway_private_ip"])
            return next((found for child in node.values() if (found := find(child))), "")
        return ""

    address = find(yaml.safe_load(EnvPaths.for_env(ENV).inventory_file.read_text()))
    assert address, f"{host} has no slipway_private_ip in the inventory"
    return address


def _slot_version(host: str, slot: str) -> str:
    """The version the slot answers with, asked from the lb (the path nginx takes); "" if it does not answer."""
    url = f"http://{_private_ip(host)}:{SLOT_PORTS[slot]}/metrics"
    script = (
        "import re, urllib.request\n"
        f"text = urllib.request.urlopen({url!r}, timeout=2).read().decode()\n"
        'print(re.search(r\'^app_info\\{version="([^"]+)"\\}\', text, re.M)[1])\n'
    )
    answer = _on("lb", "python3", "-c", script, check=False)
    return answer.stdout.strip() if answer.returncode == 0 else ""


def _upstream_ports() -> dict[str, int]:
    """host address -> port, as nginx's upstream file says."""
    text = _on("lb", "cat", UPSTREAM_FILE).stdout
    return {address: int(port) for address, port in re.findall(r"^\s*server (\S+):(\d+) ", text, re.MULTILINE)}


def _wait_serving(host: str, version: str, seconds: float) -> float:
    """Wait until the host's active slot answers `version`; return how long it took."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        try:
            state = _app_host(host)
        except Exception:
            state = None
        if state is not None and _slot_version(host, state.active) == version:
            return time.monotonic() - began
        time.sleep(0.5)
    raise AssertionError(f"{host} did not serve {version} within {seconds:.0f}s")


def _assert_serves_release(host: str, version: str, image: str) -> None:
    state = _app_host(host)
    assert state.image == image, state
    assert state.units[f"slipway-api@{state.active}"] == "active", state
    # The idle slot may still run (the previous release, kept warm for a rollback), out of
    # traffic and never started at boot.
    assert state.units["slipway-worker"] == "active", state
    assert (state.enabled[f"slipway-api@{state.active}"], state.enabled[f"slipway-api@{state.idle}"]) == (
        "enabled",
        "disabled",
    ), state
    assert _upstream_ports()[_private_ip(host)] == SLOT_PORTS[state.active]
    assert _slot_version(host, state.active) == version


def _wait_ssh(host: str, seconds: float = 120) -> None:
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if _on(host, "systemctl", "is-active", "ssh", check=False).stdout.strip() == "active":
            return
        time.sleep(1)
    raise AssertionError(f"{host}: sshd did not start within {seconds:.0f}s")


def _https(e2e_fleet: Deployment, path: str = "/health/live") -> str:
    return f"https://127.0.0.1:{e2e_fleet.state.https_port}{path}"


def _through_nginx(e2e_fleet: Deployment, seconds: float = 30) -> int:
    """The status of GET /health/live through nginx, once it answers 200 or `seconds` have passed
    (nginx may still hold a restarted host as failed for its fail_timeout)."""
    tls = ssl.create_default_context(cafile=str(EnvPaths.for_env(ENV).ca_cert))
    began, status = time.monotonic(), 0
    while time.monotonic() - began < seconds:
        try:
            status = httpx.get(_https(e2e_fleet), verify=tls, timeout=5).status_code
        except httpx.HTTPError:
            status = 0
        if status == 200:
            break
        time.sleep(0.5)
    return status


def _load(e2e_fleet: Deployment) -> BackgroundLoad:
    return BackgroundLoad(_https(e2e_fleet), verify=str(EnvPaths.for_env(ENV).ca_cert), max_seconds=600, **LOAD)


def _describe(report: LoadReport) -> str:
    return f"{len(report.failures)} of {report.total} failed; first: {report.failures[:5]}"


def _play(playbook: str, tags: str, reports: Path, **extra: object) -> PlaybookRun:
    """The playbook with the engine's tags and extra vars; a failed run is returned, not raised."""
    reports.mkdir(parents=True, exist_ok=True)
    variables = {"release_report_dir": str(reports), **extra}
    with run_tags(tags):
        return run_playbook(ENV, playbook, extra_vars=variables, progress=lambda _: None, check=False)


def _roll_out(image: str, reports: Path) -> None:
    """rollout.yml batch by batch (one host each), the first with preflight and migrations."""
    for number, host in enumerate(APP_HOSTS):
        tags = "switch,gate" if number else "preflight,migrate,switch,gate"
        # The p99 floor is raised as in test_releases: a latency spike on a shared CI machine is
        # not what these tests are about.
        run = _play("rollout.yml", tags, reports, release_image=image, release_batch=host,
                    release_bake_seconds=4, release_p99_floor=2.0)  # fmt: skip
        assert run.returncode == 0, run.failures


def _rollback(image: str, reports: Path) -> PlaybookRun:
    return _play("rollback.yml", "switch,gate", reports,
                 release_image=image, release_bake_seconds=4, release_gate_levels=False)  # fmt: skip


def _completed(reports: Path) -> list[str]:
    data = json.loads((reports / "switch-done.json").read_text())
    hosts: list[str] = data["hosts"]
    return sorted(hosts)


@dataclass(frozen=True)
class Released:
    version: str
    image: str  # the released image, as the hosts pull it
    previous_image: str
    previous_version: str


def _stamped_image(e2e_fleet: Deployment, version: str, folder: Path) -> str:
    """The fleet's image with another APP_VERSION, pushed to the environment's registry."""
    # Tagged after the base image too: hosts pull a tag only once, so a tag must not be reused.
    tag = f"slipway/app:{version}-{e2e_fleet.image.tag.rsplit(':', 1)[-1]}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(f"FROM {e2e_fleet.image.tag}\nENV APP_VERSION={version}\n")
    docker("build", "-q", "-t", tag, str(folder), step=f"stamp {version} on the app image")
    return registry.push_image(e2e_fleet.state, tag)


@pytest.fixture(scope="module")
def released(e2e_fleet: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Released]:
    """A release that switched every app host's slot; afterwards every host is back on the image it ran."""
    folder = tmp_path_factory.mktemp("host-faults")
    before = {host: _app_host(host) for host in APP_HOSTS}
    found = before["app1"].image
    assert {state.image for state in before.values()} == {found}, before
    found_version = _slot_version("app1", before["app1"].active)
    image = _stamped_image(e2e_fleet, VERSION, folder / "image")
    _roll_out(image, folder / "release")
    after = {host: _app_host(host) for host in APP_HOSTS}
    assert all(after[host].active != before[host].active for host in APP_HOSTS), (before, after)
    yield Released(VERSION, image, found, found_version)
    for host in APP_HOSTS:
        _wait_ssh(host)
    back = _rollback(found, folder / "back")
    assert back.returncode == 0, back.failures
    assert {_app_host(host).image for host in APP_HOSTS} == {found}


def test_restarted_app_hosts_boot_serving_the_release(e2e_fleet: Deployment, released: Released) -> None:
    for restarted in (["app1"], list(APP_HOSTS)):
        began = time.monotonic()
        with ThreadPoolExecutor(len(restarted)) as pool:
            list(pool.map(lambda host: docker("restart", _container(host), step=f"restart {host}"), restarted))
        took = {host: _wait_serving(host, released.version, BOOT_SERVES_SECONDS) for host in restarted}
        print(f"restart of {', '.join(restarted)}: serving again after {time.monotonic() - began:.1f}s {took}")

        for host in APP_HOSTS:
            _assert_serves_release(host, released.version, released.image)
        assert _through_nginx(e2e_fleet) == 200
    for host in APP_HOSTS:
        _wait_ssh(host)


def test_killed_api_container_serves_again_within_15s(released: Released) -> None:
    state = _app_host("app1")
    unit = f"slipway-api@{state.active}"
    restarts = int(_on("app1", "systemctl", "show", unit, "--property=NRestarts", "--value").stdout)

    began = time.monotonic()
    _on("app1", "docker", "kill", f"slipway-api-{state.active}")
    took = _wait_serving("app1", released.version, KILLED_SERVES_AGAIN_SECONDS)
    print(
        f"docker kill of slipway-api-{state.active}: serving again after {time.monotonic() - began:.1f}s ({took:.1f}s)"
    )

    assert int(_on("app1", "systemctl", "show", unit, "--property=NRestarts", "--value").stdout) == restarts + 1
    _assert_serves_release("app1", released.version, released.image)


def test_refused_upstream_keeps_the_live_slots_serving(
    e2e_fleet: Deployment, released: Released, tmp_path: Path
) -> None:
    broken = EnvPaths.for_env(ENV).inventory_dir / "group_vars" / "lb" / "broken.yml"
    broken.parent.mkdir(parents=True, exist_ok=True)
    upstream = _on("lb", "cat", UPSTREAM_FILE).stdout
    before = _app_host("app1")
    broken.write_text('# Written by tests/e2e/test_host_faults.py.\nnginx_upstream_keepalive: "bogus"\n')
    try:
        with _load(e2e_fleet) as load:
            run = _play("rollout.yml", "switch,gate", tmp_path, release_image=released.previous_image,
                        release_batch="app1", release_bake_seconds=4)  # fmt: skip
        report = load.report
    finally:
        broken.unlink()

    assert run.returncode != 0
    assert any('invalid value "bogus"' in failure.message for failure in run.failures if failure.host == "lb")
    assert not (tmp_path / "switch-done.json").exists()
    assert report.total > 0
    assert report.failures == [], _describe(report)
    assert _on("lb", "cat", UPSTREAM_FILE).stdout == upstream
    assert _on("lb", "nginx", "-t", "-q").returncode == 0
    after = _app_host("app1")
    assert after == before, "the live slot, its image and every unit's state are as before"
    for host in APP_HOSTS:
        _assert_serves_release(host, released.version, released.image)


def test_rollback_moves_the_reachable_hosts_when_one_is_down_and_needs_no_monitoring(
    released: Released, tmp_path: Path
) -> None:
    version_before = released.previous_version
    docker("stop", _container("mon"), step="stop mon")
    try:
        without_mon = _rollback(released.previous_image, tmp_path / "without-mon")
    finally:
        docker("start", _container("mon"), step="start mon")
    assert without_mon.returncode == 0, without_mon.failures
    assert _completed(tmp_path / "without-mon") == list(APP_HOSTS)
    for host in APP_HOSTS:
        _assert_serves_release(host, version_before, released.previous_image)

    docker("stop", _container("app2"), step="stop app2")
    try:
        without_app2 = _rollback(released.image, tmp_path / "without-app2")
    finally:
        docker("start", _container("app2"), step="start app2")
    assert without_app2.returncode != 0
    assert without_app2.recap["app2"].unreachable > 0
    assert (without_app2.recap["app1"].failed, without_app2.recap["app1"].unreachable) == (0, 0)
    assert (without_app2.recap["lb"].failed, without_app2.recap["lb"].unreachable) == (0, 0)
    assert _completed(tmp_path / "without-app2") == ["app1"]
    _assert_serves_release("app1", released.version, released.image)
    # nginx kept app2's entry (the slot it served before it went down), not a default slot.
    _wait_ssh("app2")
    assert _upstream_ports()[_private_ip("app2")] == SLOT_PORTS[_app_host("app2").active]

    # Back to how the test found the fleet: every host on the release.
    _wait_serving("app2", version_before, BOOT_SERVES_SECONDS)
    again = _rollback(released.image, tmp_path / "again")
    assert again.returncode == 0, again.failures
    for host in APP_HOSTS:
        _assert_serves_release(host, released.version, released.image)
