"""The Ansible inventory of an environment, written to `.slipway/<env>/inventory/`.

hosts.yml puts every host in its role group (lb, app, db, cache, mon) and all of them in the
`local_fleet` group; group_vars/local_fleet/ holds the fleet's facts (fleet.yml) and secrets
(secrets.yml, mode 0600). Inventory group_vars of a named group take precedence over the
playbooks' group_vars/all.yml defaults, so what the fleet knows wins over generic defaults.
docs/fleet.md lists every variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ops.fleet import model
from ops.fleet.state import EnvPaths, FleetState

HEADER = "# Written by `python -m ops.fleet up`; regenerated on every run, do not edit.\n"
FLEET_GROUP = "local_fleet"


def hosts_document(state: FleetState) -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {group: {"hosts": {}} for group in model.GROUPS}
    for spec in model.HOSTS:
        host = state.hosts[spec.name]
        groups[spec.group]["hosts"][spec.name] = {
            "ansible_host": "127.0.0.1",
            "ansible_port": host.ssh_port,
            "slipway_private_ip": host.address,
            "slipway_container": host.container,
        }
    return {"all": {"children": {FLEET_GROUP: {"children": groups}}}}


def fleet_vars(paths: EnvPaths, state: FleetState) -> dict[str, Any]:
    ssh_args = f"-o UserKnownHostsFile={paths.known_hosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
    return {
        "ansible_user": model.SSH_USER,
        "ansible_ssh_private_key_file": str(paths.ssh_key),
        "ansible_ssh_common_args": ssh_args,
        "ansible_python_interpreter": "/usr/bin/python3",
        "slipway_env": state.env,
        "slipway_platform": "local",
        "slipway_in_container": True,
        "slipway_state_dir": str(paths.root),
        "slipway_ca_cert": str(paths.ca_cert),
        "slipway_ca_key": str(paths.ca_dir / "ca.key"),
        "slipway_certs_dir": str(paths.certs_dir),
        "slipway_secrets_dir": str(paths.secrets_dir),
        "slipway_private_network": state.subnet,
        "slipway_private_gateway": state.gateway,
        "slipway_registry": f"{state.registry_address}:{model.REGISTRY_PORT}",
        "slipway_videos_path": "/srv/videos",
        "slipway_public_url": f"https://127.0.0.1:{state.https_port}",
        "slipway_public_http_port": state.http_port,
        "slipway_public_https_port": state.https_port,
    }


def _write(path: Path, document: dict[str, Any], mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = HEADER + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, explicit_start=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.replace(path)


def write_inventory(paths: EnvPaths, state: FleetState, secrets: dict[str, str]) -> Path:
    """Write hosts.yml and group_vars/local_fleet/{fleet,secrets}.yml; return the inventory file."""
    group_vars = paths.inventory_dir / "group_vars" / FLEET_GROUP
    _write(paths.inventory_file, hosts_document(state), 0o644)
    _write(group_vars / "fleet.yml", fleet_vars(paths, state), 0o644)
    _write(group_vars / "secrets.yml", dict(sorted(secrets.items())), 0o600)
    return paths.inventory_file
