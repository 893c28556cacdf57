"""What a release would do, computed without changing anything: `./deploy.sh plan ENV`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ops.errors import OpsError
from ops.fleet.state import REPO_ROOT
from ops.release.fleet_view import HostView, version_of

MIGRATIONS = REPO_ROOT / "app" / "migrations" / "versions"


def parse_serial(serial: str) -> str:
    """Check `serial` (a host count like 1, or a share like 50%); return it normalised."""
    text = serial.strip()
    if re.fullmatch(r"[1-9][0-9]*", text) or re.fullmatch(r"(100|[1-9][0-9]?)%", text):
        return text
    raise OpsError(
        f"--serial {serial!r} is neither a host count nor a percentage",
        step="read the options",
        fix="give a number of hosts per batch (e.g. 1) or a share of the app hosts (e.g. 50%)",
    )


def batches(hosts: list[str], serial: str) -> list[list[str]]:
    """Split the app hosts into release batches, in inventory order (as Ansible's `serial` would)."""
    text = parse_serial(serial)
    size = math.ceil(len(hosts) * int(text[:-1]) / 100) if text.endswith("%") else int(text)
    size = max(1, size)
    return [hosts[start : start + size] for start in range(0, len(hosts), size)]


def migration_head() -> str:
    """The newest Alembic revision in the code (the one `migrate` brings the database to)."""
    revisions: dict[str, str | None] = {}
    for path in MIGRATIONS.glob("*.py"):
        text = path.read_text()
        rev = re.search(r'^revision[^=]*=\s*"([^"]+)"', text, re.MULTILINE)
        down = re.search(r'^down_revision[^=]*=\s*(?:"([^"]+)"|None)', text, re.MULTILINE)
        if rev:
            revisions[rev.group(1)] = down.group(1) if down else None
    parents = {parent for parent in revisions.values() if parent}
    heads = sorted(set(revisions) - parents)
    return ", ".join(heads) or "none"


@dataclass(frozen=True)
class ReleasePlan:
    env: str
    version: str
    image: str
    hosts: list[str]
    batches: list[list[str]]
    running: dict[str, str]  # host -> version
    migrated_image: str
    bake_seconds: int

    def render(self) -> str:
        lines = [
            f"release {self.version} to {self.env} (nothing is changed by `plan`)",
            f"  image      {self.image}",
            "  running    " + ", ".join(f"{host} {version}" for host, version in sorted(self.running.items())),
            f"  migrations run once on {self.hosts[0]} before any switch (expand-only); code head revision "
            f"{migration_head()}; database last migrated for {version_of(self.migrated_image) or 'nothing yet'}",
        ]
        for number, batch in enumerate(self.batches, 1):
            lines.append(
                f"  batch {number}    {', '.join(batch)}: start the idle slot, wait ready, switch nginx, "
                f"drain and stop the old slot, move the worker; gate {self.bake_seconds}s"
            )
        lines.append("  on failure every host returns to the running release; the lock is released")
        return "\n".join(lines)


def make_plan(
    env: str, *, version: str, image: str, views: dict[str, HostView], hosts: list[str], serial: str, bake: int
) -> ReleasePlan:
    running = {host: version_of(view.active_image) for host, view in views.items()}
    migrated = views[hosts[0]].migrated if hosts and hosts[0] in views else ""
    return ReleasePlan(env, version, image, hosts, batches(hosts, serial), running, migrated, bake)
