"""Environment names, Docker object names and per-host settings of the fleet."""

from __future__ import annotations

import pytest

from ops.errors import OpsError
from ops.fleet import model
from ops.fleet.sysctls import host_sysctls


@pytest.mark.parametrize("env", ["local", "e2e", "roles", "a", "dev-2"])
def test_check_env_name_accepts_simple_names(env: str) -> None:
    assert model.check_env_name(env) == env


@pytest.mark.parametrize("env", ["", "Local", "2fast", "a_b", "a b", "x" * 21, "../etc", "-x"])
def test_check_env_name_refuses_bad_names_with_the_rule(env: str) -> None:
    with pytest.raises(OpsError) as caught:
        model.check_env_name(env)
    assert "lowercase letter" in caught.value.render()


def test_names_are_prefixed_by_environment() -> None:
    assert model.container_name("e2e", "app1") == "slipway-e2e-app1"
    assert model.network_name("e2e") == "slipway-e2e"
    assert model.videos_volume("e2e") == "slipway-e2e-videos"
    assert model.docker_volume("e2e", "app2") == "slipway-e2e-app2-docker"


def test_hosts_match_the_fleet_contract() -> None:
    by_group = {group: [h.name for h in model.HOSTS if h.group == group] for group in model.GROUPS}
    assert by_group == {
        "lb": ["lb"],
        "app": ["app1", "app2"],
        "db": ["db"],
        "cache": ["cache"],
        "mon": ["mon"],
    }
    octets = [host.octet for host in model.HOSTS] + [model.REGISTRY_OCTET]
    assert len(set(octets)) == len(octets)


def test_host_sysctls_forward_only_on_docker_hosts() -> None:
    assert host_sysctls(runs_docker=True)["net.ipv4.ip_forward"] == "1"
    assert host_sysctls(runs_docker=False)["net.ipv4.ip_forward"] == "0"
    assert all(key.startswith("net.") for key in host_sysctls(runs_docker=False))


def test_only_docker_hosts_may_ptrace_for_docker_exec() -> None:
    from ops.fleet.hosts import run_args  # noqa: PLC0415
    from ops.fleet.state import HostState  # noqa: PLC0415

    specs = {spec.name: spec for spec in model.HOSTS}
    for name, wanted in (("app1", True), ("db", False)):
        state = HostState(container=f"slipway-t-{name}", address="172.29.9.10", ssh_port=2222)
        args = run_args("t", specs[name], state, (8080, 8443))
        assert ("SYS_PTRACE" in args) is wanted
