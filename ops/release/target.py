"""Which environment a release command means, and where its inventory and release state live.

A VM-style environment (platform local or aws) has an Ansible inventory under `.slipway/<env>/`:
the local fleet writes `inventory/hosts.yml` (`./deploy.sh local --env ENV`); an aws stack's is
made from its outputs (`python -m ops.stack_inventory --stack ENV`). Kubernetes stacks are
released by ops.k8s_release instead, never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ops.errors import OpsError
from ops.fleet import model
from ops.fleet.state import REPO_ROOT, STATE_ROOT, EnvPaths, FleetState


@dataclass(frozen=True)
class ReleaseTarget:
    env: str
    platform: str  # local | aws
    paths: EnvPaths

    @property
    def releases_dir(self) -> Path:
        return self.paths.root / "releases"

    @property
    def lock_file(self) -> Path:
        return self.releases_dir / "lock.json"

    @property
    def audit_file(self) -> Path:
        return self.releases_dir / "audit.jsonl"

    @property
    def history_file(self) -> Path:
        return self.releases_dir / "history.json"

    @property
    def inventory_file(self) -> Path:
        return self.paths.inventory_file

    def app_hosts(self) -> list[str]:
        """The inventory's `app` group, in inventory order."""
        data = yaml.safe_load(self.inventory_file.read_text()) or {}
        found: list[str] = []

        def walk(group: dict[str, object], name: str) -> None:
            hosts = group.get("hosts")
            if name == "app" and isinstance(hosts, dict):
                found.extend(str(host) for host in hosts)
            children = group.get("children")
            if isinstance(children, dict):
                for child, body in children.items():
                    walk(body or {}, str(child))

        walk(data.get("all", {}), "all")
        if not found:
            raise OpsError(
                f"the inventory of {self.env} has no app hosts",
                step="read the inventory",
                fix=f"check {self.inventory_file}: the `app` group lists the hosts that run the API",
            )
        return found

    def fleet_state(self) -> FleetState | None:
        return FleetState.load(self.paths) if self.platform == "local" else None


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
            else f"create the local fleet first: `./deploy.sh local --env {env}`"
        )
        raise OpsError(
            f"environment {env} has no inventory ({paths.inventory_file} is missing)",
            step="find the environment",
            fix=how,
        )
    return ReleaseTarget(env, platform, paths)
