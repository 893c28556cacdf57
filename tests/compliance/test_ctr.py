"""CTR: every running API container on the app hosts, from `docker inspect`.

Each test checks one property across all API containers of the host and names the offenders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.compliance.checklist import control
from tests.compliance.target import Target

GROUP = "app"

Inspect = dict[str, Any]

SENSITIVE_MOUNTS = {
    "/",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/proc",
    "/sys",
    "/usr",
    "/var/run/docker.sock",
    "/run/docker.sock",
}


def _offenders(target: Target, ok: Callable[[Inspect], bool]) -> list[str]:
    containers = target.api_containers
    assert containers, f"{target.name}: no running API container to check"
    return [c["Name"].lstrip("/") for c in containers if not ok(c)]


@control("CTR-01")
def test_runs_as_non_root_user(target: Target) -> None:
    def ok(c: Inspect) -> bool:
        user = c["Config"]["User"].split(":")[0]
        return user not in ("", "root", "0")

    assert _offenders(target, ok) == []


@control("CTR-02")
def test_not_privileged(target: Target) -> None:
    assert _offenders(target, lambda c: not c["HostConfig"]["Privileged"]) == []


@control("CTR-03")
def test_read_only_root_filesystem(target: Target) -> None:
    assert _offenders(target, lambda c: c["HostConfig"]["ReadonlyRootfs"]) == []


@control("CTR-04")
def test_no_new_privileges(target: Target) -> None:
    daemon_default = target.daemon_json.get("no-new-privileges") is True

    def ok(c: Inspect) -> bool:
        opts = c["HostConfig"]["SecurityOpt"] or []
        return "no-new-privileges:true" in opts or "no-new-privileges" in opts or daemon_default

    assert _offenders(target, ok) == []


@control("CTR-05")
def test_all_capabilities_dropped(target: Target) -> None:
    def ok(c: Inspect) -> bool:
        drop = [x.upper() for x in c["HostConfig"]["CapDrop"] or []]
        return "ALL" in drop and not c["HostConfig"]["CapAdd"]

    assert _offenders(target, ok) == []


@control("CTR-06")
def test_apparmor_profile_confined(target: Target) -> None:
    assert _offenders(target, lambda c: c["AppArmorProfile"] not in ("", "unconfined")) == []


@control("CTR-07")
def test_seccomp_not_unconfined(target: Target) -> None:
    assert _offenders(target, lambda c: "seccomp=unconfined" not in (c["HostConfig"]["SecurityOpt"] or [])) == []


@control("CTR-08")
def test_host_namespaces_not_shared(target: Target) -> None:
    def ok(c: Inspect) -> bool:
        hc = c["HostConfig"]
        return all(hc.get(key) != "host" for key in ("NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode"))

    assert _offenders(target, ok) == []


@control("CTR-09")
def test_no_sensitive_host_mounts(target: Target) -> None:
    def ok(c: Inspect) -> bool:
        binds = [m for m in c["Mounts"] if m["Type"] == "bind"]
        return all(
            m["Source"] not in SENSITIVE_MOUNTS
            and "shared" not in m.get("Propagation", "").replace("rshared", "shared").split()
            for m in binds
        ) and all(m.get("Propagation") not in ("shared", "rshared") for m in binds)

    assert _offenders(target, ok) == []


@control("CTR-10")
def test_no_host_devices(target: Target) -> None:
    assert _offenders(target, lambda c: not c["HostConfig"]["Devices"]) == []


@control("CTR-11")
def test_memory_limited(target: Target) -> None:
    assert _offenders(target, lambda c: c["HostConfig"]["Memory"] > 0) == []


@control("CTR-12")
def test_cpu_limited(target: Target) -> None:
    assert _offenders(target, lambda c: c["HostConfig"]["NanoCpus"] > 0 or c["HostConfig"]["CpuShares"] > 0) == []


@control("CTR-13")
def test_pids_limited(target: Target) -> None:
    assert _offenders(target, lambda c: (c["HostConfig"]["PidsLimit"] or 0) > 0) == []


@control("CTR-14")
def test_restart_policy_bounded(target: Target) -> None:
    def ok(c: Inspect) -> bool:
        policy = c["HostConfig"]["RestartPolicy"]
        return policy["Name"] in ("on-failure", "no", "") and (
            policy["Name"] != "on-failure" or policy["MaximumRetryCount"] == 5
        )

    assert _offenders(target, ok) == []


@control("CTR-15")
def test_healthcheck_defined(target: Target) -> None:
    assert _offenders(target, lambda c: bool((c["Config"].get("Healthcheck") or {}).get("Test"))) == []


@control("CTR-15")
def test_healthy(target: Target) -> None:
    assert _offenders(target, lambda c: (c["State"].get("Health") or {}).get("Status") == "healthy") == []


@control("CTR-16")
def test_only_api_port_published_above_1024(target: Target) -> None:
    def ok(c: Inspect) -> bool:
        ports = list((c["HostConfig"]["PortBindings"] or {}).keys())
        return len(ports) == 1 and int(ports[0].split("/")[0]) >= 1024

    assert _offenders(target, ok) == []


@control("CTR-17")
def test_user_defined_network(target: Target) -> None:
    assert _offenders(target, lambda c: c["HostConfig"]["NetworkMode"] not in ("default", "bridge", "host")) == []


@control("CTR-18")
def test_no_sshd_in_container(target: Target) -> None:
    def ok(c: Inspect) -> bool:
        return "sshd" not in target.output("docker", "top", c["Id"])

    assert _offenders(target, ok) == []
