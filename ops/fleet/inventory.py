"""The Ansible inventory of an environment, written to `.slipway/<env>/inventory/`.

hosts.yml holds the groups and each host's connection and private address; group_vars/all/
holds the fleet's facts (fleet.yml) and its secrets (secrets.yml, mode 0600). docs/fleet.md
describes every variable; the roles read them and nothing else of the fleet.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ops.fleet import model
from ops.fleet.state import EnvPaths, FleetState

HEADER = "# Written by `python -m ops.fleet up`; regenerated on every run, do not edit.\n"


def hosts_document(paths: EnvPaths, state: FleetState) -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {group: {"hosts": {}} for group in model.GROUPS}
    for spec in model.HOSTS:
        host = state.hosts[spec.name]
        cert, key = paths.tls_dir / f"{spec.name}.crt", paths.tls_dir / f"{spec.name}.key"
        groups[spec.group]["hosts"][spec.name] = {
            "ansible_host": "127.0.0.1",
            "ansible_port": host.ssh_port,
            "slipway_private_address": host.address,
            "slipway_container": host.container,
            "slipway_tls_cert_file": str(cert),
            "slipway_tls_key_file": str(key),
        }
    return {"all": {"children": groups}}


def fleet_vars(paths: EnvPaths, state: FleetState) -> dict[str, Any]:
    ssh_args = " ".join(
        [
            f"-o UserKnownHostsFile={paths.known_hosts}",
            "-o StrictHostKeyChecking=yes",
            "-o IdentitiesOnly=yes",
            "-o ControlMaster=auto",
            "-o ControlPersist=120s",
        ]
    )
    return {
        "ansible_user": model.SSH_USER,
        "ansible_ssh_private_key_file": str(paths.ssh_key),
        "ansible_ssh_common_args": ssh_args,
        "ansible_python_interpreter": "/usr/bin/python3",
        "slipway_env": state.env,
        "slipway_platform": "local",
        "slipway_in_container": True,
        "slipway_private_network": state.subnet,
        "slipway_private_gateway": state.gateway,
        "slipway_hosts": {name: host.address for name, host in sorted(state.hosts.items())},
        "slipway_registry": f"{state.registry_address}:{model.REGISTRY_PORT}",
        "slipway_tls_ca_cert_file": str(paths.tls_dir / "ca.crt"),
        "slipway_videos_path": "/srv/videos",
        "slipway_public_url": f"https://127.0.0.1:{state.https_port}",
        "slipway_public_http_port": state.http_port,
        "slipway_public_https_port": state.https_port,
    }


def secret_vars(secrets: dict[str, str]) -> dict[str, Any]:
    return {f"slipway_{name}": value for name, value in sorted(secrets.items())}


def _write(path: Path, document: dict[str, Any], mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = HEADER + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, explicit_start=True)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.with_suffix(".tmp").replace(path)


def write_inventory(paths: EnvPaths, state: FleetState, secrets: dict[str, str]) -> Path:
    """Write hosts.yml and group_vars/all/{fleet,secrets}.yml; return the inventory file."""
    group_vars = paths.inventory_dir / "group_vars" / "all"
    _write(paths.inventory_file, hosts_document(paths, state), 0o644)
    _write(group_vars / "fleet.yml", fleet_vars(paths, state), 0o644)
    _write(group_vars / "secrets.yml", secret_vars(secrets), 0o600)
    return paths.inventory_file
