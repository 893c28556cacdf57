"""Every secret of an environment, generated on first use and kept in `.slipway/<env>/`.

Nothing here has a default: each environment gets its own random values, and they are only ever
written to files readable by their owner (mode 0600, directory 0700).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess

from ops.errors import OpsError
from ops.fleet.state import EnvPaths

# name -> number of random bytes (URL-safe base64, so ~1.3 characters per byte).
SECRET_SPECS: dict[str, int] = {
    "postgres_admin_password": 24,
    "postgres_app_password": 24,
    "postgres_monitor_password": 24,
    "redis_default_password": 24,
    "redis_app_password": 24,
    "redis_monitor_password": 24,
    "app_secret_key": 48,
}


def _write_private(path: os.PathLike[str], text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def ensure_secrets(paths: EnvPaths) -> dict[str, str]:
    """Load the environment's secrets, generating any that are missing (new names included)."""
    paths.ensure()
    existing: dict[str, str] = {}
    if paths.secrets_file.exists():
        existing = json.loads(paths.secrets_file.read_text())
    values = dict(existing)
    for name, size in SECRET_SPECS.items():
        values.setdefault(name, secrets.token_urlsafe(size))
    if values != existing:
        _write_private(paths.secrets_file, json.dumps(values, indent=2, sort_keys=True) + "\n")
    return values


def ensure_ssh_key(paths: EnvPaths) -> None:
    """The environment's SSH key pair (ed25519) that Ansible logs in with."""
    paths.ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if paths.ssh_key.exists():
        return
    result = subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            f"slipway-{paths.env}",
            "-f",
            str(paths.ssh_key),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise OpsError(
            "generating the environment's SSH key failed",
            step="generate secrets",
            detail=result.stderr,
            fix="install openssh-client (ops/packages/fleet.txt) and run again",
        )
