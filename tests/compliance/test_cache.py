"""CACHE: Redis 7. Live settings come from CONFIG GET as the admin ACL
user; the unauthenticated and app-user probes go through redis-cli on the cache host."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compliance.checklist import control
from tests.compliance.target import Target

GROUP = "cache"


def _as_user(target: Target, user: str | None, password: str | None, *command: str) -> str:
    auth = ["--user", user, "--pass", password] if user and password else []
    args = ["redis-cli", "--no-auth-warning", *target.redis_tls_args, *auth, *command]
    return str(target.host.run(" ".join(_quote(a) for a in args)).stdout)


def _quote(arg: str) -> str:
    import shlex  # noqa: PLC0415

    return shlex.quote(arg)


def _app_credentials(target: Target, expected: dict[str, Any]) -> tuple[str, str]:
    return expected["redis"]["app_user"], str(target.var("redis_app_password"))


@control("CACHE-01")
def test_redis_7_installed(host: Any) -> None:
    package = host.package("redis-server")
    assert (package.is_installed and package.version.split(":")[-1].startswith("5:7.")) or package.version.startswith(
        ("7.", "5:7.")
    )


@control("CACHE-01")
def test_redis_enabled_and_running(host: Any) -> None:
    service = host.service("redis-server")
    assert service.is_enabled
    assert service.is_running


@control("CACHE-01")
def test_redis_runs_as_redis_user(host: Any) -> None:
    processes = host.process.filter(comm="redis-server")
    assert processes
    assert {p.user for p in processes} == {"redis"}


@control("CACHE-02")
def test_bind_addresses(target: Target) -> None:
    bound = set(target.redis_config["bind"].split())
    assert bound == {"127.0.0.1", "-::1", target.private_ip}


@control("CACHE-02")
def test_listens_only_on_bound_addresses(target: Target) -> None:
    addresses = {address for _, address, port in target.listeners if port == target.redis_port}
    assert addresses
    assert addresses <= {"127.0.0.1", "::1", target.private_ip}


@control("CACHE-03")
def test_protected_mode(target: Target) -> None:
    assert target.redis_config["protected-mode"] == "yes"


@control("CACHE-04")
def test_acl_file_configured(target: Target) -> None:
    assert target.redis_config.get("aclfile")


@control("CACHE-04")
def test_default_user_off(target: Target) -> None:
    default = [line for line in target.redis("ACL", "LIST").splitlines() if line.startswith("user default ")]
    assert default
    assert " off " in f"{default[0]} "


@control("CACHE-04")
def test_unauthenticated_ping_refused(target: Target) -> None:
    assert "NOAUTH" in _as_user(target, None, None, "PING") or "WRONGPASS" in _as_user(target, None, None, "PING")


@control("CACHE-04")
def test_unauthenticated_ping_refused_on_private_address(target: Target) -> None:
    args = ["redis-cli", "-h", target.private_ip, "-p", str(target.redis_port), "PING"]
    out = target.host.run(" ".join(_quote(a) for a in args)).stdout
    assert "PONG" not in out


@control("CACHE-05")
def test_app_user_cannot_flushall(target: Target, expected: dict[str, Any]) -> None:
    user, _ = _app_credentials(target, expected)
    assert (
        "no permissions" in target.redis("ACL", "DRYRUN", user, "FLUSHALL").lower()
        or "not allowed" in target.redis("ACL", "DRYRUN", user, "FLUSHALL").lower()
    )


@control("CACHE-05")
def test_app_user_can_use_cache(target: Target, expected: dict[str, Any]) -> None:
    user, _ = _app_credentials(target, expected)
    assert target.redis("ACL", "DRYRUN", user, "GET", "slipway:probe").strip() == "OK"


@control("CACHE-06")
@pytest.mark.parametrize(
    "command", ["FLUSHALL", "FLUSHDB", "CONFIG", "DEBUG", "MODULE", "KEYS", "SHUTDOWN", "REPLICAOF", "MONITOR"]
)
def test_dangerous_command_denied_to_non_admin_users(target: Target, command: str) -> None:
    users = [line.split()[1] for line in target.redis("ACL", "LIST").splitlines() if " on " in f"{line} "]
    args = {
        "CONFIG": ["GET", "maxmemory"],
        "DEBUG": ["SLEEP", "0"],
        "MODULE": ["LIST"],
        "KEYS": ["*"],
        "REPLICAOF": ["NO", "ONE"],
    }.get(command, [])
    allowed = [
        u
        for u in users
        if u != target.var("redis_admin_user", "admin")
        and target.redis("ACL", "DRYRUN", u, command, *args).strip() == "OK"
    ]
    assert allowed == []


@control("CACHE-07")
@pytest.mark.parametrize("setting", ["enable-protected-configs", "enable-debug-command", "enable-module-command"])
def test_redis7_guard(target: Target, setting: str) -> None:
    assert target.redis_config[setting] == "no"


@control("CACHE-08")
def test_tls_only(target: Target) -> None:
    assert target.redis_config["port"] == "0"
    assert target.redis_config.get("tls-port", "0") != "0"


@control("CACHE-09")
@pytest.mark.parametrize(
    ("path", "mode"),
    [
        ("/etc/redis", 0o750),
        ("/etc/redis/redis.conf", 0o640),
        ("/etc/redis/users.acl", 0o640),
        ("/var/lib/redis", 0o750),
    ],
)
def test_file_permissions(target: Target, path: str, mode: int) -> None:
    f = target.file(path)
    assert f.mode & ~mode == 0
    assert f.user == "redis"


@control("CACHE-10")
def test_maxmemory_without_eviction(target: Target) -> None:
    """Redis holds the job queue: at its limit it refuses writes rather than drop queued jobs."""
    assert int(target.redis_config["maxmemory"]) > 0
    assert target.redis_config["maxmemory-policy"] == "noeviction"


@control("CACHE-10")
def test_maxclients_and_timeout(target: Target) -> None:
    assert int(target.redis_config["maxclients"]) > 0
    assert int(target.redis_config["timeout"]) > 0


@control("CACHE-11")
def test_loglevel_notice(target: Target) -> None:
    assert target.redis_config["loglevel"] == "notice"


@control("CACHE-11")
def test_logfile(target: Target) -> None:
    path = target.redis_config["logfile"]
    f = target.file(path)
    assert path == "/var/log/redis/redis-server.log"
    assert f.user == "redis"
    assert f.mode & ~0o640 == 0


@control("CACHE-12")
def test_cache_only_persistence(target: Target) -> None:
    assert target.redis_config["save"] == ""
    assert target.redis_config["appendonly"] == "no"


@control("CACHE-13")
def test_overcommit_memory(host: Any) -> None:
    assert host.sysctl("vm.overcommit_memory") == 1


@control("CACHE-13")
def test_transparent_hugepages_never(target: Target) -> None:
    assert "[never]" in target.file("/sys/kernel/mm/transparent_hugepage/enabled").content_string


@control("CACHE-14")
@pytest.mark.parametrize(
    ("key", "value"),
    [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"), ("ProtectHome", "yes")],
)
def test_unit_hardening(target: Target, key: str, value: str) -> None:
    assert target.output("systemctl", "show", "-P", key, "redis-server").strip() == value


@control("CACHE-15")
def test_firewall_limits_redis_to_app_hosts(target: Target) -> None:
    chain = target.input_chain
    rules = [line for line in chain.splitlines() if str(target.redis_port) in line and "accept" in line]
    assert rules
    assert all("saddr" in line for line in rules)
