"""Thin wrapper over the `docker` command line: failures become OpsErrors naming the step."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from ops.errors import OpsError


def docker(
    *args: str,
    step: str,
    input_bytes: bytes | None = None,
    check: bool = True,
    timeout: float = 1800,
    host: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run `docker ARGS`; on failure raise an OpsError carrying the tail of its stderr."""
    try:
        result = subprocess.run(
            ["docker", *args],
            input=input_bytes.decode() if input_bytes is not None else None,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        raise OpsError(
            f"`docker {' '.join(args[:3])} ...` did not finish within {timeout:.0f}s",
            step=step,
            host=host,
            fix="check that the Docker engine is healthy (`docker info`) and run the command again",
        ) from error
    if check and result.returncode != 0:
        raise OpsError(
            f"`docker {' '.join(args[:3])} ...` failed",
            step=step,
            host=host,
            detail="\n".join(result.stderr.strip().splitlines()[-15:]),
            fix="read the Docker error above; `python -m ops.docker_engine` checks the engine",
        )
    return result


def exists(kind: str, name: str) -> bool:
    """True when the Docker object `name` of `kind` (image, container, network, volume) exists."""
    return docker(kind, "inspect", name, step=f"inspect {kind}", check=False).returncode == 0


def inspect(kind: str, name: str) -> dict[str, Any]:
    """`docker KIND inspect NAME` as a dict."""
    out = docker(kind, "inspect", name, step=f"inspect {kind} {name}").stdout
    data: list[dict[str, Any]] = json.loads(out)
    return data[0]


def names(kind: str, label_filter: str) -> list[str]:
    """Names of containers, networks or volumes carrying a label (`key=value`)."""
    fmt = "{{.Names}}" if kind == "container" else "{{.Name}}"
    extra = ["-a"] if kind == "container" else []
    out = docker(kind, "ls", *extra, "--filter", f"label={label_filter}", "--format", fmt, step=f"list {kind}s")
    return [line for line in out.stdout.splitlines() if line]
