"""How the controller reaches the host that keeps an environment's release state.

`HostAgent` runs ops/release/state_agent.py on the state host over SSH (as root, through sudo),
with the connection settings Ansible uses for that host; `KubectlAgent` runs it with `kubectl
exec` in a kubernetes stack's release-state pod; `DirectoryAgent` runs it on this machine against
a folder (unit tests).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ops.errors import OpsError

AGENT_SOURCE = (Path(__file__).parent / "state_agent.py").read_text()
STATE_ROOT = "/var/lib/slipway/releases"  # on the state host, and in the release-state pod


class StateAgent(Protocol):
    @property
    def where(self) -> str: ...

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]: ...


def _answer(result: subprocess.CompletedProcess[str], where: str, operation: str) -> dict[str, Any]:
    try:
        answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        answer = {}
    if result.returncode != 0 or not answer:
        raise OpsError(
            f"the release state on {where} could not be read or written ({operation})",
            step="reach the release state",
            detail="\n".join(result.stderr.strip().splitlines()[-5:]),
            fix=f"the release state lives on {where}: check that host is up and reachable over SSH, then run again",
        )
    return answer


@dataclass(frozen=True)
class DirectoryAgent:
    root: Path

    @property
    def where(self) -> str:
        return str(self.root)

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-c", AGENT_SOURCE, operation, str(self.root)],
            input=json.dumps(request), capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        return _answer(result, self.where, operation)


@dataclass(frozen=True)
class HostAgent:
    host: str
    ssh: tuple[str, ...]  # the ssh argv up to and including user@address

    @property
    def where(self) -> str:
        return f"host {self.host}"

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        remote = shlex.join(["sudo", "-n", "/usr/bin/python3", "-c", AGENT_SOURCE, operation, STATE_ROOT])
        try:
            result = subprocess.run(
                [*self.ssh, remote], input=json.dumps(request), capture_output=True, text=True, check=False,
                timeout=60,
            )  # fmt: skip
        except subprocess.TimeoutExpired as error:
            raise OpsError(
                f"{self.host} did not answer within 60s", host=self.host, step="reach the release state",
                fix=f"the release state lives on {self.host}: check that host, then run again",
            ) from error  # fmt: skip
        return _answer(result, self.where, operation)


@dataclass(frozen=True)
class KubectlAgent:
    namespace: str
    statefulset: str

    @property
    def where(self) -> str:
        return f"statefulset/{self.statefulset} in namespace {self.namespace}"

    def argv(self, operation: str) -> list[str]:
        return ["kubectl", "exec", "-i", "--namespace", self.namespace, f"statefulset/{self.statefulset}", "--",
                "python", "-c", AGENT_SOURCE, operation, STATE_ROOT]  # fmt: skip

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        try:
            result = subprocess.run(
                self.argv(operation), input=json.dumps(request), capture_output=True, text=True, check=False,
                timeout=60,
            )  # fmt: skip
        except subprocess.TimeoutExpired as error:
            raise OpsError(
                f"{self.where} did not answer within 60s", step="reach the release state",
                fix="check the cluster (`kubectl get pods --namespace ...`), then run again",
            ) from error  # fmt: skip
        return _answer(result, self.where, operation)


def ssh_argv(host_vars: dict[str, Any], host: str) -> tuple[str, ...]:
    """The ssh argv Ansible would use for `host`, from its inventory variables, with a shared
    connection so the many small calls of a release cost one handshake."""
    address = str(host_vars.get("ansible_host", host))
    user = host_vars.get("ansible_user")
    control = Path(tempfile.gettempdir()) / f"slipway-ssh-{os.getuid()}"
    control.mkdir(mode=0o700, exist_ok=True)
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=10",
            "-o", "ControlMaster=auto", "-o", f"ControlPath={control}/%C", "-o", "ControlPersist=60"]  # fmt: skip
    if host_vars.get("ansible_port"):
        argv += ["-p", str(host_vars["ansible_port"])]
    if host_vars.get("ansible_ssh_private_key_file"):
        argv += ["-i", str(host_vars["ansible_ssh_private_key_file"])]
    argv += shlex.split(str(host_vars.get("ansible_ssh_common_args", "")))
    argv += shlex.split(str(host_vars.get("ansible_ssh_extra_args", "")))
    argv.append(f"{user}@{address}" if user else address)
    return tuple(argv)
