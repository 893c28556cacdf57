"""Every secret of an environment, generated on first use and kept in `.slipway/<env>/secrets/`.

One file per secret, named as the playbooks' variable (the format of Ansible's `password` lookup,
so site.yml reads the same values and would create any that are missing the same way). Nothing
has a default: each environment gets its own random values, in files only their owner reads.
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess

from ops.errors import OpsError
from ops.fleet.state import EnvPaths

# Letters and digits only: the values go into URLs and config files unquoted.
ALPHABET = string.ascii_letters + string.digits
# name -> length in characters.
SECRET_SPECS: dict[str, int] = {
    "postgres_superuser_password": 40,
    "postgres_owner_password": 40,
    "postgres_app_password": 40,
    "postgres_exporter_password": 40,
    "redis_admin_password": 40,
    "redis_app_password": 40,
    "redis_exporter_password": 40,
    "app_secret_key": 64,
}


def _write_private(path: os.PathLike[str], text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def ensure_secrets(paths: EnvPaths) -> dict[str, str]:
    """Load the environment's secrets, generating any that are missing; existing ones never change."""
    paths.ensure()
    paths.secrets_dir.mkdir(mode=0o700, exist_ok=True)
    values = {}
    for name, length in SECRET_SPECS.items():
        path = paths.secrets_dir / name
        if not path.exists():
            _write_private(path, "".join(secrets.choice(ALPHABET) for _ in range(length)) + "\n")
        # The password lookup may append " salt=..." when it hashes; the secret is the first word.
        values[name] = path.read_text().split()[0]
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
