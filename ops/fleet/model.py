"""What the fleet is made of: its hosts, their roles, and how Docker objects are named."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ops.errors import OpsError

ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
LABEL = "slipway.env"
SSH_USER = "admin"
REGISTRY_PORT = 5000


@dataclass(frozen=True)
class HostSpec:
    """One host: its name, inventory group, last octet of its private address, and needs."""

    name: str
    group: str
    octet: int
    runs_docker: bool = False
    publishes_web: bool = False


HOSTS: tuple[HostSpec, ...] = (
    HostSpec("lb", "lb", 10, publishes_web=True),
    HostSpec("app1", "app", 11, runs_docker=True),
    HostSpec("app2", "app", 12, runs_docker=True),
    HostSpec("db", "db", 20),
    HostSpec("cache", "cache", 21),
    HostSpec("mon", "mon", 30),
)
GROUPS: tuple[str, ...] = ("lb", "app", "db", "cache", "mon")
REGISTRY_OCTET = 5


# The words of `./deploy.sh COMMAND ENV`: an environment named like one would be shadowed by it.
COMMAND_WORDS = frozenset(
    {
        "up",
        "destroy",
        "release",
        "rollback",
        "status",
        "history",
        "plan",
        "lock",
        "unlock",
        "resume",
        "promote",
        "pause",
        "abort",
        "help",
    }
)


def check_env_name(env: str) -> str:
    """Return `env` when it is a valid environment name, else raise an error saying what is valid."""
    if not ENV_NAME.match(env):
        raise OpsError(
            f"invalid environment name {env!r}",
            fix="use 1-20 characters: a lowercase letter, then lowercase letters, digits or '-'",
        )
    if env in COMMAND_WORDS:
        raise OpsError(
            f"{env!r} is a deploy.sh command and cannot name an environment",
            fix=f"pick another name (not one of {', '.join(sorted(COMMAND_WORDS))})",
        )
    return env


def prefix(env: str) -> str:
    return f"slipway-{env}"


def container_name(env: str, host: str) -> str:
    return f"{prefix(env)}-{host}"


def network_name(env: str) -> str:
    return prefix(env)


def videos_volume(env: str) -> str:
    return f"{prefix(env)}-videos"


def docker_volume(env: str, host: str) -> str:
    return f"{prefix(env)}-{host}-docker"


def registry_name(env: str) -> str:
    return f"{prefix(env)}-registry"


def registry_volume(env: str) -> str:
    return f"{prefix(env)}-registry"
