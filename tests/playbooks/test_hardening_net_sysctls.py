"""The hardening role's kernel parameters on a container host: loaded in an order the kernel keeps.

Turning forwarding off makes the kernel turn `net.ipv4.conf.all.accept_redirects` back on
(devinet.c, inet_forward_change). A host whose namespace forwards (every namespace starts that way
on a machine running Docker) must therefore load forwarding before the redirect settings. The test
renders the role's real file onto a host built from the fleet's image and loads it the two ways a
host does: the role's handler, and a reboot.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ops import images
from ops.docker_engine import ensure_engine
from ops.fleet.hosts import SYSTEMD_FLAGS

ROLE = Path(__file__).resolve().parents[2] / "playbooks" / "roles" / "hardening"
PROBE = "slipway-test-netsysctls"
SYSCTL_FILE = "/etc/sysctl.d/90-slipway-hardening.conf"


def _render_sysctl_file() -> str:
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables["ansible_managed"] = "rendered by a test"
    templar = Templar(loader=DataLoader(), variables=variables)
    return str(templar.template(trust_as_template((ROLE / "templates" / "sysctl.conf.j2").read_text())))


def _docker(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["docker", *args], input=stdin, capture_output=True, text=True, check=True, timeout=300
    ).stdout


def _read(key: str) -> str:
    return _docker("exec", PROBE, "cat", "/proc/sys/" + key.replace(".", "/")).strip()


def _forwarding_and_redirects() -> tuple[str, str]:
    return _read("net.ipv4.ip_forward"), _read("net.ipv4.conf.all.accept_redirects")


def _wait_until_booted(container: str) -> str:
    state = ""
    for _ in range(60):
        result = subprocess.run(
            ["docker", "exec", container, "systemctl", "is-active", "systemd-sysctl.service"],
            capture_output=True,
            text=True,
            check=False,
        )
        state = result.stdout.strip()
        if state in ("active", "failed"):
            return state
        time.sleep(1)
    return state


def test_the_file_sets_forwarding_before_any_redirect_setting() -> None:
    keys = [line.split(" = ")[0] for line in _render_sysctl_file().splitlines() if " = " in line]

    assert keys[:2] == ["net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding"]
    assert keys.index("net.ipv4.conf.all.accept_redirects") > 1


@pytest.fixture
def forwarding_host() -> Iterator[str]:
    """A booted fleet host whose namespace forwards with redirects off, the role's file installed."""
    ensure_engine()
    images.ensure_host_image()
    subprocess.run(["docker", "rm", "-f", PROBE], capture_output=True, check=False)
    _docker("run", "-d", "--name", PROBE, *SYSTEMD_FLAGS, "--sysctl", "net.ipv4.ip_forward=1", images.HOST_IMAGE)
    assert _wait_until_booted(PROBE) == "active"
    _docker("exec", PROBE, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/conf/all/accept_redirects")
    _docker("exec", "-i", PROBE, "tee", SYSCTL_FILE, stdin=_render_sysctl_file())
    yield PROBE
    subprocess.run(["docker", "rm", "-f", PROBE], capture_output=True, check=False)


@pytest.mark.docker
def test_the_handler_turns_forwarding_off_and_keeps_redirects_refused(forwarding_host: str) -> None:
    before = _forwarding_and_redirects()

    _docker("exec", forwarding_host, "systemctl", "restart", "systemd-sysctl.service")

    assert before == ("1", "0")
    assert _forwarding_and_redirects() == ("0", "0")
    assert _read("net.ipv4.conf.all.rp_filter") == "1"


@pytest.mark.docker
def test_a_restarted_host_loads_them_at_boot(forwarding_host: str) -> None:
    _docker("restart", forwarding_host)  # Docker writes the --sysctl values again, then systemd boots

    assert _wait_until_booted(forwarding_host) == "active"
    assert _forwarding_and_redirects() == ("0", "0")
    assert _read("net.ipv4.conf.all.rp_filter") == "1"
