"""APP: the Docker engine on the app hosts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compliance.checklist import control
from tests.compliance.target import Target

GROUP = "app"


@control("APP-01")
def test_ip_forwarding_on_for_docker(host: Any) -> None:
    assert host.sysctl("net.ipv4.ip_forward") == 1


@control("APP-02")
def test_overlay_filesystem_available(target: Target) -> None:
    assert target.file("/proc/filesystems").contains(r"\soverlay$")


@control("APP-03")
def test_docker_data_is_a_separate_mount(host: Any) -> None:
    mount = host.mount_point("/var/lib/docker")
    assert mount.exists
    assert "nodev" in mount.options
    assert "noexec" not in mount.options


@control("APP-04")
def test_docker_group_members_approved(host: Any, expected: dict[str, Any]) -> None:
    members = set(host.group("docker").members) if host.group("docker").exists else set()
    assert members <= set(expected["docker_group_members"])


@control("APP-05")
@pytest.mark.parametrize(
    "path",
    [
        "/usr/bin/dockerd",
        "/usr/bin/containerd",
        "/usr/sbin/runc",
        "/var/lib/docker",
        "/etc/docker",
        "/etc/docker/daemon.json",
    ],
)
def test_docker_files_audited(target: Target, path: str) -> None:
    assert f"-w {path} " in target.output("auditctl", "-l")


@control("APP-06")
def test_engine_from_signed_distribution_package(host: Any, target: Target) -> None:
    package = host.package("docker.io") if host.package("docker.io").is_installed else host.package("docker-ce")
    assert package.is_installed
    policy = target.output("apt-cache", "policy", package.name)
    assert "***" in policy


@control("APP-07")
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("icc", False),
        ("log-level", "info"),
        ("no-new-privileges", True),
        ("live-restore", True),
        ("userland-proxy", False),
    ],
)
def test_daemon_json_core_option(target: Target, key: str, value: object) -> None:
    assert target.daemon_json.get(key) == value


@control("APP-07")
def test_userland_proxy_off(target: Target) -> None:
    assert target.daemon_json.get("userland-proxy") is False


@control("APP-08")
def test_docker_manages_iptables(target: Target) -> None:
    assert target.daemon_json.get("iptables", True) is not False


@control("APP-09")
def test_no_insecure_registries(target: Target) -> None:
    registries = target.docker_info["RegistryConfig"]["InsecureRegistryCIDRs"]
    assert [r for r in registries if not r.startswith("127.")] == []
    assert not target.daemon_json.get("insecure-registries")


@control("APP-10")
def test_storage_driver_overlay2(target: Target) -> None:
    assert target.docker_info["Driver"] == "overlay2"


@control("APP-11")
def test_no_tcp_api_configured(target: Target) -> None:
    hosts = target.daemon_json.get("hosts", [])
    assert not [h for h in hosts if h.startswith("tcp://")]
    assert "tcp://" not in target.shell("systemctl cat docker.service 2>/dev/null | grep ExecStart || true")


@control("APP-11")
def test_nothing_on_docker_api_ports(target: Target) -> None:
    assert [p for _, _, p in target.listeners if p in (2375, 2376)] == []


@control("APP-12")
@pytest.mark.parametrize("limit", ["nofile", "nproc"])
def test_default_ulimits(target: Target, limit: str) -> None:
    assert limit in target.daemon_json.get("default-ulimits", {})


@control("APP-13")
def test_user_namespace_remap(target: Target) -> None:
    assert target.daemon_json.get("userns-remap") == "default"


@control("APP-14")
def test_logging_driver_bounded_or_shipped(target: Target) -> None:
    driver = target.docker_info["LoggingDriver"]
    options = target.daemon_json.get("log-opts", {})
    assert driver in ("journald", "syslog", "fluentd") or (
        driver == "json-file" and {"max-size", "max-file"} <= set(options)
    )


@control("APP-15")
def test_seccomp_default_profile(target: Target) -> None:
    assert any(
        (o.startswith("name=seccomp") and "profile=builtin" in o) or "profile=default" in o
        for o in target.docker_info["SecurityOptions"]
    )


@control("APP-15")
def test_apparmor_security_option(target: Target) -> None:
    assert any(o.startswith("name=apparmor") for o in target.docker_info["SecurityOptions"])


@control("APP-16")
def test_experimental_off(target: Target) -> None:
    assert target.output("docker", "version", "--format", "{{.Server.Experimental}}").strip() == "false"


@control("APP-17")
def test_authorization_plugin(target: Target) -> None:
    assert target.daemon_json.get("authorization-plugins")


@control("APP-18")
@pytest.mark.parametrize("unit", ["docker.service", "docker.socket"])
def test_unit_files(target: Target, unit: str) -> None:
    path = target.output("systemctl", "show", "-P", "FragmentPath", unit).strip()
    f = target.file(path)
    assert f.user == "root"
    assert f.group == "root"
    assert f.mode & ~0o644 == 0


@control("APP-19")
def test_etc_docker_directory(target: Target) -> None:
    f = target.file("/etc/docker")
    assert (f.user, f.group) == ("root", "root")
    assert f.mode & ~0o755 == 0


@control("APP-19")
@pytest.mark.parametrize("path", ["/etc/docker/daemon.json", "/etc/default/docker"])
def test_docker_config_files(target: Target, path: str) -> None:
    f = target.file(path)
    assert not f.exists or ((f.user, f.group) == ("root", "root") and f.mode & ~0o644 == 0)


@control("APP-19")
def test_registry_certificates_read_only(target: Target) -> None:
    out = target.shell("find /etc/docker/certs.d -type f -name '*.crt' -perm /0333 2>/dev/null || true")
    assert out.split() == []


@control("APP-19")
def test_no_private_keys_readable_beyond_owner(target: Target) -> None:
    out = target.shell("find /etc/docker -type f -name '*.key' -perm /0377 2>/dev/null || true")
    assert out.split() == []


@control("APP-20")
def test_docker_socket(target: Target) -> None:
    f = target.file("/run/docker.sock")
    assert (f.user, f.group) == ("root", "docker")
    assert f.mode & ~0o660 == 0


@control("APP-20")
def test_containerd_socket(target: Target) -> None:
    f = target.file("/run/containerd/containerd.sock")
    assert (f.user, f.group) == ("root", "root")
    assert f.mode & ~0o660 == 0


@control("APP-21")
def test_swarm_inactive(target: Target) -> None:
    assert target.docker_info["Swarm"]["LocalNodeState"] == "inactive"


@control("APP-22")
def test_published_ports_bind_private_address(target: Target) -> None:
    bound = {
        binding["HostIp"]
        for container in target.api_containers
        for bindings in (container["HostConfig"]["PortBindings"] or {}).values()
        for binding in bindings or []
    }
    assert bound
    assert bound <= {target.private_ip, "127.0.0.1"}


@control("APP-22")
def test_docker_user_chain_filters_container_traffic(target: Target) -> None:
    chain = target.shell("nft list chain ip filter DOCKER-USER 2>/dev/null || iptables -S DOCKER-USER")
    assert "drop" in chain.lower()


@control("APP-23")
@pytest.mark.parametrize("service", ["docker", "containerd"])
def test_engine_services_running(host: Any, service: str) -> None:
    unit = host.service(service)
    assert unit.is_enabled
    assert unit.is_running


@control("APP-24")
def test_no_dangling_images(target: Target) -> None:
    assert target.output("docker", "images", "-q", "--filter", "dangling=true").split() == []


@control("APP-24")
def test_no_stale_exited_containers(target: Target) -> None:
    out = target.output("docker", "ps", "-a", "--filter", "status=exited", "--format", "{{.Names}} {{.RunningFor}}")
    stale = [line for line in out.splitlines() if any(unit in line for unit in ("days", "weeks", "months"))]
    assert stale == []
