"""Which platform an environment is on, and the release engine with that platform's driver.

A `Pulumi.<env>.yaml` whose `slipway:platform` is kubernetes is a kubernetes stack (released with
Pulumi and kubectl, state in the cluster); every other environment is VM-style (local fleet, aws,
an inventory of your own hosts: released with Ansible, state on its lb host).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from ops.fleet.state import REPO_ROOT
from ops.release.engine import Releaser
from ops.release.hosts_driver import HostsDriver
from ops.release.kubernetes_driver import KubernetesDriver
from ops.release.target import resolve

Say = Callable[[str], None]


def is_kubernetes_stack(env: str, root: Path = REPO_ROOT) -> bool:
    path = root / f"Pulumi.{env}.yaml"
    if not path.is_file():
        return False
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = data.get("config") if isinstance(data, dict) else None
    return isinstance(config, dict) and config.get("slipway:platform") == "kubernetes"


def open_releaser(env: str, *, say: Say = print) -> Releaser:
    """The release engine for `env`, with its platform's driver and the state kept with it."""
    if is_kubernetes_stack(env):
        driver = KubernetesDriver(env, say=say)
        return Releaser(env, driver.store(), driver, say=say)
    target = resolve(env)
    return Releaser(env, target.store(), HostsDriver(target, say), say=say)
