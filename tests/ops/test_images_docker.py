"""The Docker engine, the Debian base image and the host image, for real."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from ops import images
from ops.docker_engine import engine_answers, ensure_engine

pytestmark = pytest.mark.docker

PROBE = "slipway-test-hostprobe"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture(scope="module")
def engine() -> None:
    ensure_engine()


def test_ensure_engine_is_idempotent(engine: None) -> None:
    ensure_engine()

    assert engine_answers()


def test_base_image_is_debian_12_with_the_machines_mirror(engine: None) -> None:
    images.ensure_base_image()

    release = _run("run", "--rm", images.BASE_IMAGE, "cat", "/etc/debian_version").stdout
    sources = _run("run", "--rm", images.BASE_IMAGE, "cat", "/etc/apt/sources.list.d/debian.sources").stdout
    assert release.startswith("12.")
    assert "Suites: bookworm" in sources


@pytest.fixture(scope="module")
def host_probe(engine: None) -> Iterator[str]:
    images.ensure_host_image()
    _run("rm", "-f", PROBE)
    systemd_flags = ["--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--cgroupns=host"]
    systemd_flags += ["-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock"]
    started = _run("run", "-d", "--name", PROBE, *systemd_flags, images.HOST_IMAGE)
    assert started.returncode == 0, started.stderr
    yield PROBE
    _run("rm", "-f", PROBE)


def _wait_for_sshd(container: str) -> bool:
    for _ in range(60):
        if _run("exec", container, "systemctl", "is-active", "--quiet", "ssh").returncode == 0:
            return True
        time.sleep(1)
    return False


def test_host_image_boots_systemd_with_sshd(host_probe: str) -> None:
    assert _wait_for_sshd(host_probe)
    state = _run("exec", host_probe, "systemctl", "is-system-running", "--wait").stdout.strip()
    assert state == "running", _run("exec", host_probe, "systemctl", "--failed").stdout


def test_host_image_generates_host_keys_per_host(host_probe: str) -> None:
    baked = _run("run", "--rm", "--entrypoint", "ls", images.HOST_IMAGE, "/etc/ssh").stdout
    assert _wait_for_sshd(host_probe)
    generated = _run("exec", host_probe, "ls", "/etc/ssh").stdout

    assert "ssh_host_ed25519_key" not in baked
    assert "ssh_host_ed25519_key" in generated


def test_host_image_admin_has_passwordless_sudo(host_probe: str) -> None:
    result = _run("exec", "-u", "admin", host_probe, "sudo", "-n", "id", "-u")

    assert result.stdout.strip() == "0"


def test_host_image_has_what_a_debian_vm_has(engine: None) -> None:
    images.ensure_host_image()
    probe = "test -s /etc/protocols && test -s /etc/services && python3 -c 'import apt' && command -v sshd"
    result = _run("run", "--rm", "--entrypoint", "sh", images.HOST_IMAGE, "-c", probe)

    assert result.returncode == 0, result.stderr


def test_host_network_sysctls_are_writable_and_the_rest_read_only(host_probe: str) -> None:
    assert _wait_for_sshd(host_probe)
    net = _run("exec", host_probe, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet")
    machine_wide = _run("exec", host_probe, "sh", "-c", "echo 1 > /proc/sys/vm/overcommit_memory")

    assert net.returncode == 0, net.stderr
    assert machine_wide.returncode != 0
