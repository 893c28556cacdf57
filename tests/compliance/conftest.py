"""Run the checklist against the hosts of an Ansible inventory.

Collected only when an inventory is given (`python -m ops.compliance` passes it):

    pytest tests/compliance --compliance-inventory .slipway/<env>/inventory/hosts.yml

Each module names its inventory group (`GROUP`); every test is tied to one control with
`@control("ID")` and runs once per host of that group, reached with testinfra's ansible backend
(SSH with the inventory's connection settings, one multiplexed connection per host, sudo).
A waiver of the host's platform turns the test into a skip whose reason starts with `waived`;
the report counts those as waived, never as passed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner

from tests.compliance.checklist import platform
from tests.compliance.target import Target

WAIVED_PREFIX = "waived"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("compliance")
    group.addoption("--compliance-inventory", default=None, help="Ansible inventory of the hosts to check")
    group.addoption("--compliance-platform", default=None, help="platform of the waivers (default: slipway_platform)")
    group.addoption("--compliance-hosts", default=None, help="comma-separated host names to limit the run to")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "control(id): the checklist control a compliance test proves")


def _inventory(config: pytest.Config) -> str | None:
    value = config.getoption("compliance_inventory", default=None)
    return str(value) if value else None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # Without an inventory there is nothing to check: the suite stays out of make test-fast.
    if _inventory(config) is None and collection_path.name.startswith("test_"):
        return True
    return None


_RUNNERS: dict[str, AnsibleRunner] = {}


def _runner(config: pytest.Config) -> AnsibleRunner:
    inventory = _inventory(config)
    assert inventory is not None
    if inventory not in _RUNNERS:
        _RUNNERS[inventory] = AnsibleRunner(inventory)
    return _RUNNERS[inventory]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("control")
    if marker is None:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: every compliance test needs @control(ID)")
    control_id = str(marker.args[0])
    metafunc.parametrize("control_id", [control_id], ids=[control_id], indirect=True)
    group = getattr(metafunc.module, "GROUP", None)
    if group is None:
        raise pytest.UsageError(f"{metafunc.module.__name__}: set GROUP to the inventory group it checks")
    hosts = _runner(metafunc.config).get_hosts(group)
    only = metafunc.config.getoption("compliance_hosts", default=None)
    if only:
        hosts = [h for h in hosts if h in only.split(",")]
    metafunc.parametrize("target", hosts, ids=hosts, indirect=True, scope="session")


_TARGETS: dict[str, Target] = {}


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The host under test: testinfra host, inventory variables, platform data, cached probes."""
    name = str(request.param)
    if name not in _TARGETS:
        config = request.config
        inventory = _inventory(config)
        variables: dict[str, Any] = _runner(config).get_variables(name)
        platform_name = config.getoption("compliance_platform", default=None) or variables.get("slipway_platform")
        if not platform_name:
            raise pytest.UsageError(f"{name}: set slipway_platform in the inventory or pass --compliance-platform")
        host = testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory)
        if host.run("id -u").stdout.strip() != "0":
            # The inventory or ansible.cfg does not become root: ask for sudo ourselves.
            host = testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory, sudo=True)
        _TARGETS[name] = Target(name=name, host=host, variables=variables, platform=platform(str(platform_name)))
    return _TARGETS[name]


@pytest.fixture(scope="session")
def fleet_addresses(request: pytest.FixtureRequest) -> dict[str, str]:
    """Every host of the inventory and its private address (slipway_private_ip)."""
    runner = _runner(request.config)
    return {name: str(runner.get_variables(name)["slipway_private_ip"]) for name in runner.get_hosts("all")}


@pytest.fixture
def control_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _apply_waivers(
    request: pytest.FixtureRequest,
    control_id: str,
    target: Target,
    record_property: Any,
) -> None:
    record_property("control", control_id)
    record_property("host", target.name)
    record_property("check", request.function.__name__)
    waiver = target.platform.waiver_for(control_id, target.name, target.groups, request.function.__name__)
    if waiver is not None:
        record_property("waiver", json.dumps({"platform": waiver.platform, "reason": waiver.reason}))
        pytest.skip(f"{WAIVED_PREFIX} on {waiver.platform}: {waiver.reason}")


@pytest.fixture
def host(target: Target) -> Any:
    """The testinfra host of the target (overrides testinfra's own fixture)."""
    return target.host


@pytest.fixture
def expected(target: Target) -> dict[str, Any]:
    """Expected values for the target's platform."""
    return target.platform.expected
