"""Fleet hosts: systemd containers reachable over SSH with the environment's key."""

from __future__ import annotations

import subprocess
import time

from ops.docker_cli import docker, exists, inspect
from ops.errors import OpsError
from ops.fleet import model
from ops.fleet.state import EnvPaths, HostState
from ops.fleet.sysctls import host_sysctls
from ops.images import HOST_IMAGE

# Generous: on a busy 2-core machine several fleets may boot or converge at once.
BOOT_TIMEOUT_SECONDS = 240.0

# What systemd needs to run as PID 1 here (ENVIRONMENT.md: --privileged is not available), plus
# NET_ADMIN so each host runs its own nftables firewall.
SYSTEMD_FLAGS = [
    "--cap-add",
    "SYS_ADMIN",
    "--cap-add",
    "NET_ADMIN",
    "--security-opt",
    "seccomp=unconfined",
    "--cgroupns=host",
    "-v",
    "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
    "--restart",
    "unless-stopped",
]


def run_args(env: str, spec: model.HostSpec, host: HostState, web_ports: tuple[int, int]) -> list[str]:
    """The `docker run` arguments that create one host."""
    args = ["run", "-d", "--name", host.container, "--hostname", spec.name]
    args += ["--label", f"{model.LABEL}={env}", "--label", f"slipway.host={spec.name}"]
    args += ["--network", model.network_name(env), "--ip", host.address, "--network-alias", spec.name]
    args += SYSTEMD_FLAGS
    args += ["-p", f"127.0.0.1:{host.ssh_port}:22"]
    if spec.publishes_web:
        args += ["-p", f"127.0.0.1:{web_ports[0]}:80", "-p", f"127.0.0.1:{web_ports[1]}:443"]
    if spec.runs_docker:
        # `docker exec` (and with it Docker's health checks) joins the namespaces of a non-root
        # container process, which root inside the host may only do with SYS_PTRACE.
        args += ["--cap-add", "SYS_PTRACE"]
        # Docker inside a host needs a real filesystem for overlay2, and both app hosts share videos.
        args += ["-v", f"{model.docker_volume(env, spec.name)}:/var/lib/docker"]
        args += ["-v", f"{model.videos_volume(env)}:/srv/videos"]
    for key, value in sorted(host_sysctls(spec.runs_docker).items()):
        args += ["--sysctl", f"{key}={value}"]
    return [*args, HOST_IMAGE, "/lib/systemd/systemd"]


def ensure_host_container(env: str, spec: model.HostSpec, host: HostState, web_ports: tuple[int, int]) -> str:
    """Create the host, or start it if stopped. Returns what was done."""
    if exists("container", host.container):
        if inspect("container", host.container)["State"]["Running"]:
            return "running"
        docker("start", host.container, step="start the host", host=spec.name)
        return "started"
    docker(*run_args(env, spec, host, web_ports), step="create the host", host=spec.name)
    return "created"


def _exec(container: str, *command: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "exec", "-i", container, *command],
        input=input_text,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def wait_for_sshd(name: str, host: HostState) -> str:
    """Wait until systemd runs sshd on the host; return its ed25519 host public key."""
    deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if _exec(host.container, "systemctl", "is-active", "--quiet", "ssh").returncode == 0:
            key = _exec(host.container, "cat", "/etc/ssh/ssh_host_ed25519_key.pub")
            if key.returncode == 0 and key.stdout.strip():
                return " ".join(key.stdout.split()[:2])
        time.sleep(1)
    state = _exec(host.container, "systemctl", "is-system-running").stdout.strip()
    failed = _exec(host.container, "systemctl", "--failed", "--no-legend").stdout.strip()
    raise OpsError(
        f"sshd did not start within {BOOT_TIMEOUT_SECONDS:.0f}s (systemd: {state or 'unknown'})",
        host=name,
        step="boot the host",
        detail=failed,
        fix=f"inspect it with `docker exec -it {host.container} journalctl -b`, then "
        f"`python -m ops.fleet down --env ENV` and up again",
    )


def install_authorized_key(name: str, host: HostState, public_key: str) -> None:
    """Let the environment's key log in as the admin user (only written when it differs)."""
    path = f"/home/{model.SSH_USER}/.ssh/authorized_keys"
    current = _exec(host.container, "cat", path)
    if current.returncode == 0 and public_key.strip() in current.stdout:
        return
    script = f"umask 077 && cat > {path} && chown {model.SSH_USER}:{model.SSH_USER} {path} && chmod 0600 {path}"
    result = _exec(host.container, "sh", "-c", script, input_text=public_key.strip() + "\n")
    if result.returncode != 0:
        raise OpsError(
            "installing the SSH key failed",
            host=name,
            step="install the SSH key",
            detail=result.stderr,
            fix="check the host image (ops/images/host/Dockerfile creates the admin user)",
        )


def wait_for_ssh_login(name: str, host: HostState, paths: EnvPaths, timeout: float = 30.0) -> None:
    """Log in over the published port exactly as Ansible will."""
    command = [
        "ssh",
        "-p",
        str(host.ssh_port),
        "-i",
        str(paths.ssh_key),
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "ConnectTimeout=5",
        "-o",
        f"UserKnownHostsFile={paths.known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        f"{model.SSH_USER}@127.0.0.1",
        "sudo",
        "-n",
        "true",
    ]
    deadline = time.monotonic() + timeout
    result = None
    while time.monotonic() < deadline:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
        if result.returncode == 0:
            return
        time.sleep(1)
    raise OpsError(
        f"cannot log in over SSH on 127.0.0.1:{host.ssh_port}",
        host=name,
        step="check SSH",
        detail=result.stderr.strip() if result else "",
        fix="check that the port is published (`docker port " + host.container + "`) and sshd runs",
    )
