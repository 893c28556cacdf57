"""The fleet for real: up, idempotent up, what is published, shared storage, restart, down."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.fleet import lifecycle, model
from ops.fleet.ssh import run_on
from ops.fleet.state import EnvPaths, FleetState

pytestmark = pytest.mark.docker

ENV = "fleettest"


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def _container_ids() -> dict[str, str]:
    out = _docker("ps", "-a", "--filter", f"label={model.LABEL}={ENV}", "--format", "{{.Names}} {{.ID}}")
    return dict(line.split() for line in out.splitlines())


@pytest.fixture(scope="module")
def fleet() -> Iterator[FleetState]:
    lifecycle.down(ENV, purge_state=True)
    state = lifecycle.up(ENV)
    yield state
    lifecycle.down(ENV, purge_state=True)


def test_up_runs_every_host_with_systemd(fleet: FleetState) -> None:
    _, rows = lifecycle.status(ENV)

    assert sorted(row.name for row in rows) == sorted(spec.name for spec in model.HOSTS)
    assert all(row.state in ("running (systemd running)", "running (systemd degraded)") for row in rows), rows


def test_up_again_keeps_containers_and_ports(fleet: FleetState) -> None:
    before = _container_ids()

    again = lifecycle.up(ENV)

    assert _container_ids() == before
    assert again.hosts == fleet.hosts
    assert (again.https_port, again.registry_port) == (fleet.https_port, fleet.registry_port)


def test_ansible_reaches_every_host_through_the_inventory(fleet: FleetState) -> None:
    inventory = EnvPaths.for_env(ENV).inventory_file
    ansible = str(Path(sys.executable).parent / "ansible")
    result = subprocess.run(
        [ansible, "-i", str(inventory), "all", "-m", "ansible.builtin.ping", "-o"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(model.HOSTS)


def test_only_ssh_and_the_lb_web_ports_are_published_on_loopback(fleet: FleetState) -> None:
    for spec in model.HOSTS:
        ports = json.loads(
            _docker("inspect", "-f", "{{json .NetworkSettings.Ports}}", model.container_name(ENV, spec.name))
        )
        published = {port for port, bindings in ports.items() if bindings}
        addresses = {binding["HostIp"] for bindings in ports.values() if bindings for binding in bindings}
        expected = {"22/tcp", "80/tcp", "443/tcp"} if spec.name == "lb" else {"22/tcp"}
        assert published == expected, spec.name
        assert addresses == {"127.0.0.1"}, spec.name


def test_videos_written_on_app1_are_read_on_app2(fleet: FleetState) -> None:
    run_on(ENV, "app1", ["sh", "-c", "echo shared > /srv/videos/probe.txt"], step="write")

    assert run_on(ENV, "app2", ["cat", "/srv/videos/probe.txt"], step="read").strip() == "shared"


def test_restarted_host_comes_back_with_sshd(fleet: FleetState) -> None:
    _docker("restart", model.container_name(ENV, "cache"))

    state = lifecycle.up(ENV)  # waits for sshd and logs in, as any later step would

    assert run_on(ENV, "cache", ["systemctl", "is-active", "ssh"], step="check sshd").strip() == "active"
    assert state.hosts["cache"] == fleet.hosts["cache"]


def test_registry_answers_with_the_env_certificate(fleet: FleetState) -> None:
    from ops.fleet.registry import wait_for_registry  # noqa: PLC0415

    wait_for_registry(fleet, str(EnvPaths.for_env(ENV).ca_cert), timeout=10)


def test_up_after_down_keeps_secrets_and_ports(fleet: FleetState) -> None:
    secret = (EnvPaths.for_env(ENV).secrets_dir / "postgres_app_password").read_text()
    lifecycle.down(ENV)

    again = lifecycle.up(ENV)

    assert (EnvPaths.for_env(ENV).secrets_dir / "postgres_app_password").read_text() == secret
    assert again.hosts == fleet.hosts
    assert run_on(ENV, "db", ["hostname"], step="log in to the recreated host").strip() == "db"


def test_down_removes_every_object_and_the_state(fleet: FleetState) -> None:
    lifecycle.down(ENV, purge_state=True)

    label = f"label={model.LABEL}={ENV}"
    assert _docker("ps", "-a", "-q", "--filter", label) == ""
    assert _docker("volume", "ls", "-q", "--filter", label) == ""
    assert _docker("network", "ls", "-q", "--filter", label) == ""
    assert not EnvPaths.for_env(ENV).root.exists()
