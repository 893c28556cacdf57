"""What the local fleet exposes: published ports on the operator's machine, and who may reach the
data stores on the private network (the firewall and the servers' own allow-lists together)."""

from __future__ import annotations

import json
import subprocess

import pytest

from ops.deploy.local import Deployment
from ops.errors import OpsError
from ops.fleet import model
from ops.fleet.ssh import run_on
from tests.e2e.conftest import ENV

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.timeout(600)]

# Runs on a fleet host (Debian's python3): exit 0 when a TCP connection opens within 3 s.
_CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()"

DATA_STORES = {"db": 5432, "cache": 6379}
ALLOWED_CLIENTS = {"app1", "app2", "mon"}


def _published(container: str) -> set[tuple[str, str, str]]:
    """(container port, host address, host port) for every port the container publishes."""
    inspected = subprocess.run(
        ["docker", "inspect", "--format", "{{json .NetworkSettings.Ports}}", container],
        capture_output=True,
        text=True,
        check=True,
    )
    ports: dict[str, list[dict[str, str]] | None] = json.loads(inspected.stdout)
    return {
        (port, binding["HostIp"], binding["HostPort"]) for port, bindings in ports.items() for binding in bindings or []
    }


@pytest.mark.parametrize("spec", model.HOSTS, ids=lambda spec: spec.name)
def test_hosts_publish_only_ssh_and_the_lbs_web_ports_on_loopback(e2e_fleet: Deployment, spec: model.HostSpec) -> None:
    published = _published(model.container_name(ENV, spec.name))

    expected = {"22/tcp", "80/tcp", "443/tcp"} if spec.publishes_web else {"22/tcp"}
    assert {port for port, _, _ in published} == expected
    assert {address for _, address, _ in published} == {"127.0.0.1"}


def test_the_registry_publishes_only_its_push_port_on_loopback(e2e_fleet: Deployment) -> None:
    # Not a fleet host: the operator's side of `docker push`, TLS with the environment's CA.
    published = _published(model.registry_name(ENV))

    assert {(port, address) for port, address, _ in published} == {(f"{model.REGISTRY_PORT}/tcp", "127.0.0.1")}


def _connects(source: str, address: str, port: int) -> bool:
    try:
        run_on(ENV, source, ["python3", "-c", _CONNECT, address, str(port)], step="probe", timeout=60)
    except OpsError:
        return False
    return True


PROBES = [(source.name, store) for store in sorted(DATA_STORES) for source in model.HOSTS if source.name != store]


@pytest.mark.parametrize(("source", "store"), PROBES, ids=[f"{source}-to-{store}" for source, store in PROBES])
def test_data_stores_accept_connections_only_from_app_and_mon(e2e_fleet: Deployment, store: str, source: str) -> None:
    address = e2e_fleet.state.hosts[store].address

    assert _connects(source, address, DATA_STORES[store]) == (source in ALLOWED_CLIENTS)
