"""The fleet hosts' forwarding and redirect sysctls, written in the order the kernel needs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from ops import images
from ops.docker_engine import ensure_engine
from ops.fleet.sysctls import ensure_ordered_sysctls, host_sysctls, ordered_sysctls, ordered_sysctls_script

PROBE = "slipway-test-sysctlprobe"


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout


def _read(key: str) -> str:
    return _docker("exec", PROBE, "cat", "/proc/sys/" + key.replace(".", "/")).strip()


def test_ordered_sysctls_write_forwarding_before_redirects() -> None:
    keys = [key for key, _ in ordered_sysctls(runs_docker=False)]

    assert keys == ["net.ipv4.ip_forward", "net.ipv4.conf.all.accept_redirects"]


@pytest.mark.parametrize("runs_docker", [True, False])
def test_ordered_sysctls_match_the_creation_values(runs_docker: bool) -> None:
    values = host_sysctls(runs_docker)

    assert all(values[key] == value for key, value in ordered_sysctls(runs_docker))


def test_ordered_sysctls_script_writes_only_net_keys() -> None:
    script = ordered_sysctls_script(runs_docker=False)

    assert script == "echo 0 > /proc/sys/net/ipv4/ip_forward && echo 0 > /proc/sys/net/ipv4/conf/all/accept_redirects"


@pytest.fixture
def probe() -> Iterator[str]:
    """A container whose redirects were left on, as a forwarding write applied last leaves them."""
    ensure_engine()
    images.ensure_base_image()
    subprocess.run(["docker", "rm", "-f", PROBE], capture_output=True, check=False)
    _docker(
        "run", "-d", "--name", PROBE,
        "--sysctl", "net.ipv4.ip_forward=0", "--sysctl", "net.ipv4.conf.all.accept_redirects=1",
        images.BASE_IMAGE, "sleep", "300",
    )  # fmt: skip
    yield PROBE
    subprocess.run(["docker", "rm", "-f", PROBE], capture_output=True, check=False)


@pytest.mark.docker
def test_ensure_ordered_sysctls_repairs_redirects_once(probe: str) -> None:
    first = ensure_ordered_sysctls(probe, images.BASE_IMAGE, runs_docker=False, host="probe")
    second = ensure_ordered_sysctls(probe, images.BASE_IMAGE, runs_docker=False, host="probe")

    assert (first, second) == (True, False)
    assert (_read("net.ipv4.ip_forward"), _read("net.ipv4.conf.all.accept_redirects")) == ("0", "0")
