"""The inventory the fleet writes is what Ansible reads (checked with ansible-inventory)."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ops.fleet import model
from ops.fleet.inventory import write_inventory
from ops.fleet.state import EnvPaths, FleetState, HostState


@pytest.fixture
def fleet_state() -> FleetState:
    state = FleetState(env="unit", network="slipway-unit", subnet="172.29.9.0/24", gateway="172.29.9.1")
    for port, spec in enumerate(model.HOSTS, start=40000):
        state.hosts[spec.name] = HostState(f"slipway-unit-{spec.name}", f"172.29.9.{spec.octet}", port)
    state.http_port, state.https_port = 40080, 40443
    state.registry_address, state.registry_port = "172.29.9.5", 40500
    return state


def _ansible_inventory(inventory: Path) -> dict[str, object]:
    binary = Path(sys.executable).parent / "ansible-inventory"
    result = subprocess.run(
        [
            str(binary if binary.exists() else shutil.which("ansible-inventory")),
            "-i",
            str(inventory),
            "--list",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_write_inventory_groups_and_host_vars(tmp_path: Path, fleet_state: FleetState) -> None:
    paths = EnvPaths.for_env("unit", tmp_path)
    inventory = write_inventory(paths, fleet_state, {"postgres_app_password": "p4ss"})

    data = _ansible_inventory(inventory)

    groups = {group: data[group]["hosts"] for group in model.GROUPS}  # type: ignore[index]
    assert data["local_fleet"]["children"] == list(model.GROUPS)  # type: ignore[index]
    assert groups == {"lb": ["lb"], "app": ["app1", "app2"], "db": ["db"], "cache": ["cache"], "mon": ["mon"]}
    app1 = data["_meta"]["hostvars"]["app1"]  # type: ignore[index]
    assert app1["slipway_private_ip"] == "172.29.9.11"
    assert app1["ansible_port"] == fleet_state.hosts["app1"].ssh_port
    assert app1["slipway_in_container"] is True
    assert app1["slipway_registry"] == "172.29.9.5:5000"
    assert app1["postgres_app_password"] == "p4ss"
    assert app1["slipway_public_url"] == "https://127.0.0.1:40443"


def test_write_inventory_keeps_secrets_private(tmp_path: Path, fleet_state: FleetState) -> None:
    paths = EnvPaths.for_env("unit", tmp_path)
    write_inventory(paths, fleet_state, {"app_secret_key": "k" * 64})

    secrets_file = paths.inventory_dir / "group_vars" / "local_fleet" / "secrets.yml"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert "k" * 64 not in (paths.inventory_dir / "hosts.yml").read_text()


def test_fleet_state_round_trips(tmp_path: Path, fleet_state: FleetState) -> None:
    paths = EnvPaths.for_env("unit", tmp_path)
    fleet_state.save(paths)

    assert FleetState.load(paths) == fleet_state
    assert FleetState.load(EnvPaths.for_env("other", tmp_path)) is None
