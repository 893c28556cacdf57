"""The Docker engine on the operator's machine: installed with apt, started when it is not running.

Machines of this kind have no systemd as PID 1, so `dockerd` is started in the background by hand
and we wait for its socket. Several engineers (and test runs) share one engine, so starting is
serialised with a lock file and is a no-op when an engine already answers.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import time
from pathlib import Path

from ops.errors import OpsError

REPO_ROOT = Path(__file__).resolve().parent.parent
SOCKET = Path("/var/run/docker.sock")
LOCK_FILE = Path("/run/lock/slipway-dockerd.lock")
LOG_FILE = Path("/var/log/slipway-dockerd.log")
START_TIMEOUT_SECONDS = 60.0


def engine_answers() -> bool:
    """True when a Docker engine answers on the default socket."""
    if shutil.which("docker") is None or not SOCKET.exists():
        return False
    result = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return result.returncode == 0


def _install_packages() -> None:
    result = subprocess.run(
        [str(REPO_ROOT / "ops" / "install-packages.sh")], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise OpsError(
            "installing the Debian packages in ops/packages/ failed",
            detail=result.stderr.strip()[-2000:],
            fix="run ./ops/install-packages.sh as root and fix the apt error it prints",
        )


def _systemd_is_pid1() -> bool:
    return Path("/run/systemd/system").is_dir()


def _start_dockerd() -> None:
    if _systemd_is_pid1():
        subprocess.run(["systemctl", "start", "docker"], check=False, capture_output=True)
        return
    LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOG_FILE.open("ab") as log:
        # `setsid --fork` detaches the engine into its own session and returns at once, so it
        # outlives the command (and the test run) that started it and leaves no child to reap.
        subprocess.run(
            ["setsid", "--fork", "dockerd"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            check=True,
        )


def _wait_for_engine(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine_answers():
            return
        time.sleep(0.5)
    raise OpsError(
        f"the Docker engine did not answer on {SOCKET} within {timeout:.0f}s",
        detail=_log_tail(),
        fix=f"read {LOG_FILE}, stop any half-started dockerd, then run the command again",
    )


def _log_tail(lines: int = 15) -> str:
    if not LOG_FILE.exists():
        return ""
    return "\n".join(LOG_FILE.read_text(errors="replace").splitlines()[-lines:])


def ensure_engine() -> None:
    """Install Docker when missing and start the engine when it does not answer. Idempotent."""
    if engine_answers():
        return
    if shutil.which("dockerd") is None:
        _install_packages()
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOCK_FILE.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Someone else may have started it while we waited for the lock.
        if engine_answers():
            return
        _start_dockerd()
        _wait_for_engine(START_TIMEOUT_SECONDS)


def main() -> int:
    """`python -m ops.docker_engine`: make sure the engine runs (used by deploy.sh and make)."""
    try:
        ensure_engine()
    except OpsError as error:
        print(error.render())
        return 1
    print("docker engine: running")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
