"""What runs where: per app host, the active slot, each slot's image and state, and the worker.

Read with one Ansible ad-hoc command over the environment's inventory, so it works the same on
the local fleet and on aws hosts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ops.errors import OpsError
from ops.playbook import PLAYBOOKS
from ops.release.target import ReleaseTarget

CONFIG_DIR = "/etc/slipway/app"
# Prints one JSON line; a missing file or unit reads as "".
_PROBE = (
    f"d={CONFIG_DIR}; img() {{ sed -n 's/^APP_IMAGE=//p' \"$d/$1.image\" 2>/dev/null; }}; "
    'printf \'{"active":"%s","blue_image":"%s","green_image":"%s","worker_image":"%s",'
    '"blue_state":"%s","green_state":"%s","worker_state":"%s","migrated":"%s"}\\n\' '
    '"$(cat $d/active-slot 2>/dev/null)" "$(img api-blue)" "$(img api-green)" "$(img worker)" '
    '"$(systemctl is-active slipway-api@blue)" "$(systemctl is-active slipway-api@green)" '
    '"$(systemctl is-active slipway-worker)" "$(cat $d/migrated-image 2>/dev/null)"'
)
_LINE = re.compile(r"^(?P<host>\S+) \| (?P<status>[A-Z]+)(?: \| rc=\d+)? \| \(stdout\) (?P<out>\{.*\})\s*$")
_UNREACHABLE = re.compile(r"^(?P<host>\S+) \| (?P<status>UNREACHABLE!|FAILED!)")


@dataclass(frozen=True)
class HostView:
    host: str
    active: str
    images: dict[str, str]  # slot -> image
    states: dict[str, str]  # slot -> systemd state
    worker_image: str
    worker_state: str
    migrated: str

    @property
    def active_image(self) -> str:
        return self.images.get(self.active, "")

    def warm_slot(self, image: str) -> str:
        """The idle slot when it runs `image` (kept warm by the last release), else ""."""
        idle = [slot for slot in self.states if slot != self.active]
        return next((slot for slot in idle if self.states[slot] == "active" and self.images.get(slot) == image), "")


def parse(output: str) -> tuple[dict[str, HostView], list[str]]:
    """Fold the ad-hoc command's one-line output into views; return them and the unreachable hosts."""
    views: dict[str, HostView] = {}
    unreachable: list[str] = []
    for line in output.splitlines():
        if match := _LINE.match(line):
            data = json.loads(match["out"])
            views[match["host"]] = HostView(
                host=match["host"],
                active=data["active"],
                images={"blue": data["blue_image"], "green": data["green_image"]},
                states={"blue": data["blue_state"], "green": data["green_state"]},
                worker_image=data["worker_image"],
                worker_state=data["worker_state"],
                migrated=data["migrated"],
            )
        elif match := _UNREACHABLE.match(line):
            unreachable.append(match["host"])
    return views, unreachable


def read_reachable(target: ReleaseTarget) -> tuple[dict[str, HostView], list[str]]:
    """The view of every app host that answered, and the app hosts that did not."""
    command = [
        str(Path(sys.executable).parent / "ansible"), "app", "-i", str(target.inventory_file),
        "-o", "-m", "ansible.builtin.shell", "-a", _PROBE,
    ]  # fmt: skip
    environment = os.environ | {"ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    try:
        result = subprocess.run(
            command, cwd=PLAYBOOKS, env=environment, capture_output=True, text=True, check=False, timeout=120
        )
    except subprocess.TimeoutExpired as error:
        raise OpsError(
            "the app hosts did not answer within 120s", step="read what runs where", fix="check the hosts"
        ) from error
    views, _ = parse(result.stdout)
    return views, sorted(set(target.app_hosts()) - set(views))


def read(target: ReleaseTarget) -> dict[str, HostView]:
    """The view of every app host; an OpsError names the hosts that did not answer."""
    views, missing = read_reachable(target)
    if missing:
        raise OpsError(
            f"could not read the release state of {', '.join(missing)}",
            step="read what runs where",
            fix=f"check the hosts are up (`python -m ops.fleet status --env {target.env}`) and run again",
        )
    return views


_VERSION_COMMIT = re.compile(r"^(?P<version>.+)-[0-9a-f]{7,40}(?:-dirty)?$")


def version_of(image: str) -> str:
    """The release version in an image name `.../slipway/app:<version>-<commit>` (the tag if unsure)."""
    last = image.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[-1] if ":" in last else last
    match = _VERSION_COMMIT.match(tag)
    return match["version"] if match else tag


def render(views: dict[str, HostView], versions: dict[str, str]) -> str:
    lines = [f"{'host':8}  {'active':6}  {'version':16}  {'blue':22}  {'green':22}  worker"]
    for name, view in sorted(views.items()):

        def slot(slot: str, view: HostView = view) -> str:
            image = view.images.get(slot, "")
            return f"{versions.get(image, version_of(image)) if image else '-'} ({view.states.get(slot, '?')})"

        worker = f"{versions.get(view.worker_image, version_of(view.worker_image))} ({view.worker_state})"
        version = versions.get(view.active_image, version_of(view.active_image))
        lines.append(f"{name:8}  {view.active:6}  {version:16}  {slot('blue'):22}  {slot('green'):22}  {worker}")
    return "\n".join(lines)
