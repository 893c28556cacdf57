"""Run a command on a fleet host over SSH, as Ansible would (the env's key, known host keys)."""

from __future__ import annotations

import shlex
import subprocess

from ops.errors import OpsError
from ops.fleet import model
from ops.fleet.state import EnvPaths, FleetState


def ssh_login(paths: EnvPaths, state: FleetState, host: str) -> list[str]:
    """The `ssh` argv that logs in to `host` as the admin user (no command: a shell)."""
    port = state.hosts[host].ssh_port
    return [
        "ssh", "-p", str(port), "-i", str(paths.ssh_key),
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
        "-o", f"UserKnownHostsFile={paths.known_hosts}", "-o", "StrictHostKeyChecking=yes",
        f"{model.SSH_USER}@127.0.0.1",
    ]  # fmt: skip


def ssh_command(paths: EnvPaths, state: FleetState, host: str, command: list[str]) -> list[str]:
    """The `ssh` argv that runs `command` (quoted) as root via sudo on `host`."""
    return [*ssh_login(paths, state, host), "sudo", "-n", "--", shlex.join(command)]


def run_on(env: str, host: str, command: list[str], *, step: str, timeout: float = 300) -> str:
    """Run `command` as root on `host` of `env`; return its stdout or raise naming host and step."""
    paths = EnvPaths.for_env(env)
    state = FleetState.load(paths)
    if state is None or host not in state.hosts:
        raise OpsError(
            f"environment {env} has no host {host}",
            host=host,
            step=step,
            fix=f"bring the fleet up first: python -m ops.fleet up --env {env}",
        )
    try:
        result = subprocess.run(
            ssh_command(paths, state, host, command), capture_output=True, text=True, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        raise OpsError(
            f"`{shlex.join(command)}` did not finish within {timeout:.0f}s",
            host=host,
            step=step,
            fix=f"log in with `python -m ops.fleet ssh --env {env} {host}` and look at the command",
        ) from error
    if result.returncode != 0:
        raise OpsError(
            f"`{shlex.join(command)}` failed (exit {result.returncode})",
            host=host,
            step=step,
            detail="\n".join(result.stderr.strip().splitlines()[-10:]),
            fix="read the error above; `python -m ops.fleet status --env " + env + "` shows the hosts",
        )
    return result.stdout
