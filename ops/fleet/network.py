"""The environment's private Docker network, on a /24 nothing else on the machine uses."""

from __future__ import annotations

import ipaddress
import json
import subprocess

from ops.docker_cli import docker, exists, inspect
from ops.errors import OpsError
from ops.fleet.model import LABEL

# Candidate subnets: 172.29.0.0/24 .. 172.29.255.0/24, rarely used by Docker's defaults.
CANDIDATE_SUPERNET = ipaddress.ip_network("172.29.0.0/16")


def _subnets_in_use() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    used: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    ids = docker("network", "ls", "-q", step="list networks").stdout.split()
    if ids:
        for network in json.loads(docker("network", "inspect", *ids, step="inspect networks").stdout):
            for config in (network.get("IPAM") or {}).get("Config") or []:
                if config.get("Subnet"):
                    used.append(ipaddress.ip_network(config["Subnet"], strict=False))
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True, check=False).stdout
    for line in routes.splitlines():
        first = line.split()[0] if line.split() else ""
        if "/" in first:
            used.append(ipaddress.ip_network(first, strict=False))
    return used


def _free_subnets() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    used = _subnets_in_use()
    return [
        subnet
        for subnet in CANDIDATE_SUPERNET.subnets(new_prefix=24)
        if not any(subnet.overlaps(other) for other in used)
    ]


def ensure_network(env: str, name: str, wanted_subnet: str = "") -> tuple[str, str]:
    """Create the network when missing; return (subnet, gateway)."""
    if not exists("network", name):
        candidates = [ipaddress.ip_network(wanted_subnet)] if wanted_subnet else _free_subnets()[:8]
        for subnet in candidates:
            gateway = str(next(subnet.hosts()))
            created = docker(
                "network",
                "create",
                "--driver",
                "bridge",
                "--subnet",
                str(subnet),
                "--gateway",
                gateway,
                "--label",
                f"{LABEL}={env}",
                name,
                step="create the private network",
                check=False,
            )
            if created.returncode == 0:
                break
        else:
            raise OpsError(
                f"could not create network {name} on a free subnet",
                step="create the private network",
                fix="remove unused Docker networks (`docker network ls`) or free a /24 in 172.29.0.0/16",
            )
    config = inspect("network", name)["IPAM"]["Config"][0]
    return str(config["Subnet"]), str(config["Gateway"])
