"""Per-environment state on the operator's machine: `.slipway/<env>/` (git-ignored).

state.json records what `up` chose (subnet, published ports) so a second `up` reuses it and
`status`/`down` find everything again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
STATE_ROOT = REPO_ROOT / ".slipway"


@dataclass(frozen=True)
class EnvPaths:
    """Where one environment's files live."""

    env: str
    root: Path

    @classmethod
    def for_env(cls, env: str, state_root: Path = STATE_ROOT) -> EnvPaths:
        return cls(env, state_root / env)

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def deployed_file(self) -> Path:
        """What `./deploy.sh up` last deployed (image, version); absent while nothing serves."""
        return self.root / "deployed.json"

    @property
    def secrets_dir(self) -> Path:
        return self.root / "secrets"

    @property
    def ssh_dir(self) -> Path:
        return self.root / "ssh"

    @property
    def ssh_key(self) -> Path:
        return self.ssh_dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_dir / "known_hosts"

    @property
    def ca_dir(self) -> Path:
        return self.root / "ca"

    @property
    def ca_cert(self) -> Path:
        return self.ca_dir / "ca.crt"

    @property
    def certs_dir(self) -> Path:
        return self.root / "certs"

    @property
    def registry_tls_dir(self) -> Path:
        return self.root / "registry-tls"

    @property
    def inventory_dir(self) -> Path:
        return self.root / "inventory"

    @property
    def inventory_file(self) -> Path:
        return self.inventory_dir / "hosts.yml"

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root.chmod(0o700)


@dataclass
class HostState:
    container: str
    address: str
    ssh_port: int


@dataclass
class FleetState:
    """What `up` decided for an environment; stable across runs."""

    env: str
    network: str
    subnet: str
    gateway: str
    hosts: dict[str, HostState] = field(default_factory=dict)
    http_port: int = 0
    https_port: int = 0
    registry_address: str = ""
    registry_port: int = 0

    def save(self, paths: EnvPaths) -> None:
        paths.ensure()
        tmp = paths.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        tmp.replace(paths.state_file)

    @classmethod
    def load(cls, paths: EnvPaths) -> FleetState | None:
        if not paths.state_file.exists():
            return None
        data = json.loads(paths.state_file.read_text())
        hosts = {name: HostState(**host) for name, host in data.pop("hosts").items()}
        return cls(hosts=hosts, **data)
