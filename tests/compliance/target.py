"""A host under test: its testinfra host, inventory variables, platform data and parsed probes.

Probes (`sshd -T`, `nginx -T`, `docker info`, pg_settings, Redis CONFIG GET, ...) run once per host
and are cached, so the tests compare keys instead of each opening its own command.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from tests.compliance.checklist import Platform


class ProbeError(AssertionError):
    """A probe command failed on the host; the message names the host, command and output."""


@dataclass
class FileFacts:
    """What the checklist asks of a file, from one `stat` call; content through testinfra."""

    path: str
    host: Any
    exists: bool
    mode: int = 0
    user: str = ""
    group: str = ""
    kind: str = ""

    @property
    def is_directory(self) -> bool:
        return self.kind == "directory"

    @property
    def is_symlink(self) -> bool:
        return self.kind == "symbolic link"

    @property
    def linked_to(self) -> str:
        return str(self.host.file(self.path).linked_to)

    @property
    def content_string(self) -> str:
        return str(self.host.file(self.path).content_string)

    def contains(self, pattern: str) -> bool:
        """Whether a line matches the extended regular expression (a missing file matches nothing)."""
        return bool(self.host.run(f"grep -Eqs -- {_quote(pattern)} {_quote(self.path)}").rc == 0)


@dataclass(eq=False)
class Target:
    name: str
    host: Any
    variables: dict[str, Any]
    platform: Platform
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.variables.get("group_names", ()))

    @property
    def private_ip(self) -> str:
        return str(self.variables["slipway_private_ip"])

    @property
    def in_container(self) -> bool:
        return bool(self.variables.get("slipway_in_container", False))

    def var(self, name: str, default: Any = None) -> Any:
        return self.variables.get(name, default)

    def output(self, *command: str) -> str:
        """stdout of a command that must succeed (arguments quoted by testinfra)."""
        key = json.dumps(command)
        if key not in self._cache:
            result = self.host.run(" ".join(["{}"] * len(command)).format(*map(_quote, command)))
            if result.rc != 0:
                raise ProbeError(f"{self.name}: {' '.join(command)} exited {result.rc}: {result.stderr.strip()[:400]}")
            self._cache[key] = result.stdout
        return str(self._cache[key])

    def file(self, path: str) -> FileFacts:
        """Mode, owner, group and type of a path in one command, cached for the run."""
        key = f"file:{path}"
        if key not in self._cache:
            result = self.host.run(f"stat -c '%a|%U|%G|%F' {_quote(path)}")
            if result.rc != 0:
                self._cache[key] = FileFacts(path, self.host, exists=False)
            else:
                mode, user, group, kind = result.stdout.strip().split("|", 3)
                self._cache[key] = FileFacts(path, self.host, True, int(mode, 8), user, group, kind)
        facts: FileFacts = self._cache[key]
        return facts

    def shell(self, script: str) -> str:
        """stdout of a shell pipeline that must succeed (for find/awk one-liners)."""
        return self.output("sh", "-c", script)

    @functools.cached_property
    def sysctls(self) -> dict[str, str]:
        """Every readable kernel parameter, read once (`sysctl -a`)."""
        result = {}
        for line in self.shell("sysctl -a 2>/dev/null; true").splitlines():
            key, sep, value = line.partition(" = ")
            if sep:
                result[key.strip()] = value.strip()
        return result

    def sysctl(self, key: str) -> int | str | None:
        """A kernel parameter as testinfra's host.sysctl gives it (int when numeric), None if absent."""
        value = self.sysctls.get(key)
        if value is None:
            return None
        return int(value) if value.lstrip("-").isdigit() else value

    @functools.cached_property
    def packages(self) -> set[str]:
        """Names of the installed Debian packages, read once."""
        out = self.output("dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n")
        return {
            line.split()[0] for line in out.splitlines() if len(line.split()) > 1 and line.split()[1].startswith("ii")
        }

    def installed(self, package: str) -> bool:
        return package in self.packages

    @functools.cached_property
    def sshd(self) -> dict[str, str]:
        """Effective sshd settings (`sshd -T`), keys lowercase; repeated keys joined by newlines."""
        return _keyed(self.output("sshd", "-T", "-C", "user=root,host=compliance,addr=127.0.0.1"))

    @functools.cached_property
    def ssh_client(self) -> dict[str, str]:
        return _keyed(self.output("ssh", "-G", "compliance.invalid"))

    @functools.cached_property
    def input_chain(self) -> str:
        """The host firewall's input chain (`nft list chain`), table from the expected values."""
        family, table = str(self.platform.expected["firewall"]["table"]).split()
        return self.output("nft", "list", "chain", family, table, "input")

    @functools.cached_property
    def nginx(self) -> str:
        return self.output("nginx", "-T")

    @functools.cached_property
    def docker_info(self) -> dict[str, Any]:
        return dict(json.loads(self.output("docker", "info", "--format", "{{json .}}")))

    @functools.cached_property
    def daemon_json(self) -> dict[str, Any]:
        return dict(json.loads(self.host.file("/etc/docker/daemon.json").content_string))

    @functools.cached_property
    def api_containers(self) -> list[dict[str, Any]]:
        """`docker inspect` of every running container of the API role."""
        ids = self.output("docker", "ps", "-q", "--filter", "label=slipway.role=api").split()
        if not ids:
            return []
        return list(json.loads(self.output("docker", "inspect", *ids)))

    @functools.cached_property
    def api_image(self) -> dict[str, Any]:
        """`docker image inspect` of the image the API containers run."""
        containers = self.api_containers
        if not containers:
            raise ProbeError(f"{self.name}: no running API container, so no image to inspect")
        return dict(json.loads(self.output("docker", "image", "inspect", containers[0]["Image"]))[0])

    def psql(self, sql: str) -> list[list[str]]:
        """Rows of a query run as the postgres superuser over the local socket (peer auth)."""
        out = self.output("runuser", "-u", "postgres", "--", "psql", "-XAt", "-F", "\t", "-c", sql)
        return [line.split("\t") for line in out.splitlines() if line]

    @functools.cached_property
    def pg_settings(self) -> dict[str, str]:
        return dict(self.psql("select name, setting from pg_settings"))

    def redis(self, *command: str) -> str:
        """A Redis command as the admin user over loopback (password from the environment's secrets)."""
        password = self.var("redis_admin_password")
        if not password:
            raise ProbeError(f"{self.name}: redis_admin_password is not in the inventory")
        user = self.var("redis_admin_user", "admin")
        args = ["redis-cli", "--no-auth-warning", *self.redis_tls_args, "--user", user, "--pass", password, *command]
        return self.output(*args)

    @functools.cached_property
    def redis_tls_args(self) -> list[str]:
        port = self.redis_port
        return ["-h", "127.0.0.1", "-p", str(port)]

    @functools.cached_property
    def redis_port(self) -> int:
        return int(self.var("redis_port", 6379))

    @functools.cached_property
    def redis_config(self) -> dict[str, str]:
        lines = self.redis("CONFIG", "GET", "*").splitlines()
        return dict(zip(lines[0::2], lines[1::2], strict=False))

    @functools.cached_property
    def listeners(self) -> list[tuple[str, str, int]]:
        """(proto, address, port) of every listening TCP/UDP socket, from `ss`."""
        out = self.output("ss", "-Htuln")
        result = []
        for line in out.splitlines():
            parts = line.split()
            proto, local = parts[0], parts[4]
            address, _, port = local.rpartition(":")
            result.append((proto, address.strip("[]").split("%")[0], int(port)))
        return result


def _keyed(output: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for line in output.splitlines():
        key, _, value = line.strip().partition(" ")
        if not key:
            continue
        key = key.lower()
        result[key] = f"{result[key]}\n{value}" if key in result else value
    return result


def _quote(arg: str) -> str:
    import shlex  # noqa: PLC0415

    return shlex.quote(arg)
