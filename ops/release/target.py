"""Which environment a release command means, and where its inventory and release state live.

A VM-style environment (platform local or aws) has an Ansible inventory under `.slipway/<env>/`:
the local fleet writes `inventory/hosts.yml` (`./deploy.sh up ENV`); an aws stack's is
made from its outputs (`python -m ops.stack_inventory --stack ENV`). Kubernetes stacks are
released by the kubernetes driver instead (ops/release/kubernetes_driver.py).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ops.errors import OpsError
from ops.fleet import model
from ops.fleet.state import REPO_ROOT, STATE_ROOT, EnvPaths, FleetState
from ops.release.store import ReleaseStore
from ops.release.transport import HostAgent, ssh_argv


@dataclass(frozen=True)
class ReleaseTarget:
    env: str
    platform: str  # local | aws
    paths: EnvPaths

    @property
    def reports_dir(self) -> Path:
        """Scratch files of the playbooks on this controller (the gate's report); not release state."""
        return self.paths.root / "releases" / "reports"

    @property
    def inventory_file(self) -> Path:
        return self.paths.inventory_file

    def store(self) -> ReleaseStore:
        """The release state, kept on the environment's first lb host (every controller sees it)."""
        host = self.group_hosts("lb")[0]
        return ReleaseStore(HostAgent(host, self.ssh(host)), self.env)

    def ssh(self, host: str) -> tuple[str, ...]:
        """The ssh argv Ansible would use to reach `host`."""
        return ssh_argv(self._host_vars(host), host)

    def _host_vars(self, host: str) -> dict[str, Any]:
        return _inventory_host_vars(self.env, self.inventory_file, host)

    def app_hosts(self) -> list[str]:
        """The inventory's `app` group, in inventory order."""
        return self.group_hosts("app")

    def group_hosts(self, group: str) -> list[str]:
        """The hosts of an inventory group, in inventory order."""
        data = yaml.safe_load(self.inventory_file.read_text()) or {}
        found: list[str] = []

        def walk(body: dict[str, object], name: str) -> None:
            hosts = body.get("hosts")
            if name == group and isinstance(hosts, dict):
                found.extend(str(host) for host in hosts)
            children = body.get("children")
            if isinstance(children, dict):
                for child, child_body in children.items():
                    walk(child_body or {}, str(child))

        walk(data.get("all", {}), "all")
        if not found:
            raise OpsError(
                f"the inventory of {self.env} has no {group} hosts",
                step="read the inventory",
                fix=f"check {self.inventory_file}: the `{group}` group lists them (app: the API, lb: nginx)",
            )
        return found

    def fleet_state(self) -> FleetState | None:
        return FleetState.load(self.paths) if self.platform == "local" else None


# Read once per process: a warm rollback reaches the lb right after the state host, and each
# ansible-inventory run costs about a second.
@functools.cache
def _inventory_host_vars(env: str, inventory_file: Path, host: str) -> dict[str, Any]:
    command = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory_file),
               "--host", host]  # fmt: skip
    environment = os.environ | {"ANSIBLE_CONFIG": str(REPO_ROOT / "playbooks" / "ansible.cfg")}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=environment, timeout=60)
    if result.returncode != 0:
        raise OpsError(
            f"the inventory of {env} does not describe host {host}",
            step="read the inventory",
            detail="\n".join(result.stderr.strip().splitlines()[-5:]),
            fix=f"check {inventory_file}",
        )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def resolve(env: str, state_root: Path | None = None) -> ReleaseTarget:
    """The release target named `env`, or an OpsError saying how to create it."""
    model.check_env_name(env)
    paths = EnvPaths.for_env(env, state_root or STATE_ROOT)
    aws_stack = (REPO_ROOT / f"Pulumi.{env}.yaml").is_file()
    platform = "aws" if aws_stack else "local"
    if not paths.inventory_file.is_file():
        how = (
            f"write its inventory from the stack outputs (`python -m ops.stack_inventory --stack {env}`)"
            if aws_stack
            else f"create the local fleet first: `./deploy.sh up {env}`"
        )
        raise OpsError(
            f"environment {env} has no inventory ({paths.inventory_file} is missing)",
            step="find the environment",
            fix=how,
        )
    return ReleaseTarget(env, platform, paths)
