"""ALL: the OS baseline on every host."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from ops.service.load import load as load_definition
from tests.compliance.checklist import control
from tests.compliance.target import Target

GROUP = "all"

# --- Packages and services (ALL-01..13) -------------------------------------------------------

ABSENT_PACKAGES = {
    "ALL-01": ["openbsd-inetd", "inetutils-inetd", "xinetd"],
    "ALL-02": ["telnetd", "inetutils-telnetd", "telnet"],
    "ALL-03": ["rsh-server", "rsh-client", "rsh-redone-client", "rsh-redone-server"],
    "ALL-04": ["nis", "ypserv"],
    "ALL-05": ["tftpd-hpa", "atftpd"],
    "ALL-06": ["prelink"],
    "ALL-08": ["talk", "ldap-utils", "ftp"],
}


@control("ALL-01")
@pytest.mark.parametrize("package", ABSENT_PACKAGES["ALL-01"])
def test_inetd_not_installed(target: Target, package: str) -> None:
    assert not target.installed(package)


@control("ALL-02")
@pytest.mark.parametrize("package", ABSENT_PACKAGES["ALL-02"])
def test_telnet_not_installed(target: Target, package: str) -> None:
    assert not target.installed(package)


@control("ALL-03")
@pytest.mark.parametrize("package", ABSENT_PACKAGES["ALL-03"])
def test_rsh_not_installed(target: Target, package: str) -> None:
    assert not target.installed(package)


@control("ALL-04")
@pytest.mark.parametrize("package", ABSENT_PACKAGES["ALL-04"])
def test_nis_not_installed(target: Target, package: str) -> None:
    assert not target.installed(package)


@control("ALL-05")
@pytest.mark.parametrize("package", ABSENT_PACKAGES["ALL-05"])
def test_tftp_server_not_installed(target: Target, package: str) -> None:
    assert not target.installed(package)


@control("ALL-06")
def test_prelink_not_installed(target: Target) -> None:
    assert not target.installed("prelink")


UNNEEDED_DAEMONS = [
    ("avahi-daemon", "avahi-daemon"),
    ("cups", "cups"),
    ("rpcbind", "rpcbind"),
    ("nfs-kernel-server", "nfs-server"),
    ("slapd", "slapd"),
    ("bind9", "named"),
    ("dnsmasq", "dnsmasq"),
    ("isc-dhcp-server", "isc-dhcp-server"),
    ("vsftpd", "vsftpd"),
    ("dovecot-core", "dovecot"),
    ("samba", "smbd"),
    ("snmpd", "snmpd"),
    ("squid", "squid"),
    ("rsync", "rsync"),
    ("xserver-xorg", "display-manager"),
]


@control("ALL-07")
@pytest.mark.parametrize(("package", "service"), UNNEEDED_DAEMONS, ids=[p for p, _ in UNNEEDED_DAEMONS])
def test_unneeded_daemon_absent_or_masked(host: Any, target: Target, package: str, service: str) -> None:
    assert not target.installed(package) or host.service(service).is_masked


@control("ALL-08")
@pytest.mark.parametrize("package", ABSENT_PACKAGES["ALL-08"])
def test_client_tool_not_installed(target: Target, package: str) -> None:
    assert not target.installed(package)


def _worker_ports() -> list[int]:
    """The ports the app definition's workers open (published on the app hosts' private address)."""
    return [worker.health.port for worker in load_definition().workers if worker.health is not None]


def _allowed(target: Target, expected: dict[str, Any]) -> list[str]:
    entries: list[str] = []
    for key in ("listeners", "extra_listeners"):
        allow = expected.get(key) or {}
        for group in ("all", *target.groups):
            entries += allow.get(group) or []
    if "app" in target.groups:
        entries += [f"tcp/{{private_ip}}:{port}" for port in _worker_ports()]
    return [e.format(private_ip=target.private_ip) for e in entries]


@control("ALL-09")
def test_listeners_within_allowlist(target: Target, expected: dict[str, Any]) -> None:
    allowed = _allowed(target, expected)
    listening = {f"{proto}/{address}:{port}" for proto, address, port in target.listeners}

    assert {s for s in listening if not any(fnmatch.fnmatchcase(s, pattern) for pattern in allowed)} == set()


@control("ALL-10")
def test_mta_listens_on_loopback_only(target: Target) -> None:
    smtp = [address for _, address, port in target.listeners if port == 25]

    assert set(smtp) <= {"127.0.0.1", "::1"}


TIME_DAEMONS = ("systemd-timesyncd", "chrony", "ntp", "ntpsec")


def _enabled_time_daemons(target: Target) -> list[str]:
    script = f"for unit in {' '.join(TIME_DAEMONS)}; do echo $unit $(systemctl is-enabled $unit 2>/dev/null); done"
    rows = [line.split() for line in target.shell(script).splitlines()]
    return [row[0] for row in rows if row[1:] == ["enabled"]]


@control("ALL-11")
def test_exactly_one_time_daemon_enabled(target: Target) -> None:
    assert len(_enabled_time_daemons(target)) == 1


@control("ALL-11")
def test_time_daemon_running(host: Any, target: Target) -> None:
    assert [name for name in _enabled_time_daemons(target) if host.service(name).is_running] != []


@control("ALL-11")
def test_time_daemon_has_servers(target: Target) -> None:
    enabled = _enabled_time_daemons(target)
    if enabled == ["chrony"]:
        assert (
            target.shell("cat /etc/chrony/chrony.conf /etc/chrony/sources.d/*.sources 2>/dev/null; true").count(
                "server "
            )
            + target.file("/etc/chrony/chrony.conf").content_string.count("pool ")
            > 0
        )
    else:
        assert target.file("/etc/systemd/timesyncd.conf").contains(r"^\s*(NTP|FallbackNTP)=\S")


@control("ALL-12")
def test_unattended_upgrades_installed(target: Target) -> None:
    assert target.installed("unattended-upgrades")


@control("ALL-12")
def test_apt_daily_upgrade_timer_enabled(host: Any) -> None:
    assert host.service("apt-daily-upgrade.timer").is_enabled


@control("ALL-12")
def test_no_unsigned_apt_sources(target: Target) -> None:
    insecure = target.shell(
        "grep -rhsE 'trusted=yes|allow-insecure=yes|Trusted: *yes' "
        "/etc/apt/sources.list /etc/apt/sources.list.d/ || true"
    )

    assert insecure.strip() == ""


@control("ALL-13")
def test_apparmor_enabled(target: Target) -> None:
    assert target.output("aa-enabled").strip() == "Yes"


# --- Kernel parameters (ALL-14..32) -----------------------------------------------------------
# Kernel-global ones (kernel.*, fs.*) are waived on container platforms; net.* belong to each
# host's network namespace and are checked everywhere.

SYSCTL_CONTROLS: dict[str, dict[str, int]] = {
    "ALL-14": {"kernel.randomize_va_space": 2},
    "ALL-15": {"kernel.yama.ptrace_scope": 2},
    "ALL-16": {"fs.suid_dumpable": 0},
    "ALL-17": {"kernel.sysrq": 0},
    "ALL-18": {"fs.protected_hardlinks": 1, "fs.protected_symlinks": 1, "fs.protected_regular": 2},
    "ALL-19": {"kernel.kptr_restrict": 2, "kernel.kexec_load_disabled": 1, "kernel.unprivileged_bpf_disabled": 1},
    "ALL-20": {"kernel.modules_disabled": 0},
}


def _sysctl_cases(controls: dict[str, dict[str, int]], control_id: str) -> list[tuple[str, int]]:
    return list(controls[control_id].items())


@control("ALL-14")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(SYSCTL_CONTROLS, "ALL-14"))
def test_aslr_full(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-15")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(SYSCTL_CONTROLS, "ALL-15"))
def test_ptrace_restricted(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-16")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(SYSCTL_CONTROLS, "ALL-16"))
def test_suid_core_dumps_off(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-16")
def test_core_dumps_limited_to_zero(target: Target) -> None:
    lines = target.shell("cat /etc/security/limits.conf /etc/security/limits.d/*.conf 2>/dev/null || true")

    assert any(line.split()[:4] == ["*", "hard", "core", "0"] for line in lines.splitlines() if line.strip())


@control("ALL-16")
def test_systemd_coredump_stores_nothing(host: Any, target: Target) -> None:
    if not target.installed("systemd-coredump"):
        return
    assert target.file("/etc/systemd/coredump.conf").contains(r"^Storage=none")


@control("ALL-17")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(SYSCTL_CONTROLS, "ALL-17"))
def test_sysrq_disabled(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-18")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(SYSCTL_CONTROLS, "ALL-18"))
def test_link_protection(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-18")
def test_fifo_protection(target: Target) -> None:
    assert target.sysctl("fs.protected_fifos") in (1, 2)


@control("ALL-19")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(SYSCTL_CONTROLS, "ALL-19"))
def test_kernel_pointer_kexec_bpf_restricted(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-20")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(SYSCTL_CONTROLS, "ALL-20"))
def test_modules_not_locked(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-21")
def test_cpu_has_nx(target: Target) -> None:
    assert target.file("/proc/cpuinfo").contains(r"^flags.*\bnx\b")


@control("ALL-22")
def test_no_vulnerable_cpu_mitigation(target: Target) -> None:
    out = target.shell("grep -H . /sys/devices/system/cpu/vulnerabilities/* || true")

    assert [line for line in out.splitlines() if "Vulnerable" in line] == []


NET_SYSCTLS: dict[str, dict[str, int]] = {
    "ALL-23": {f"net.ipv{v}.conf.{s}.accept_source_route": 0 for v in (4, 6) for s in ("all", "default")},
    "ALL-24": {
        "net.ipv4.conf.all.accept_redirects": 0,
        "net.ipv4.conf.default.accept_redirects": 0,
        "net.ipv4.conf.all.secure_redirects": 0,
        "net.ipv4.conf.default.secure_redirects": 0,
        "net.ipv6.conf.all.accept_redirects": 0,
        "net.ipv6.conf.default.accept_redirects": 0,
    },
    "ALL-25": {"net.ipv4.conf.all.send_redirects": 0, "net.ipv4.conf.default.send_redirects": 0},
    "ALL-26": {"net.ipv4.conf.all.rp_filter": 1, "net.ipv4.conf.default.rp_filter": 1},
    "ALL-27": {"net.ipv4.conf.all.log_martians": 1, "net.ipv4.conf.default.log_martians": 1},
    "ALL-28": {
        "net.ipv4.icmp_echo_ignore_broadcasts": 1,
        "net.ipv4.icmp_ignore_bogus_error_responses": 1,
        "net.ipv4.icmp_ratelimit": 100,
        "net.ipv4.icmp_ratemask": 88089,
    },
    "ALL-29": {"net.ipv4.tcp_syncookies": 1, "net.ipv4.tcp_rfc1337": 1, "net.ipv4.tcp_timestamps": 0},
    "ALL-30": {
        "net.ipv4.conf.all.arp_announce": 2,
        "net.ipv4.conf.all.shared_media": 1,
        "net.ipv4.conf.default.shared_media": 1,
    },
    "ALL-31": {"net.ipv4.ip_forward": 0, "net.ipv4.conf.all.forwarding": 0, "net.ipv6.conf.all.forwarding": 0},
    "ALL-32": {
        "net.ipv6.conf.all.accept_ra": 0,
        "net.ipv6.conf.default.accept_ra": 0,
        "net.ipv6.conf.all.autoconf": 0,
        "net.ipv6.conf.default.autoconf": 0,
        "net.ipv6.conf.all.router_solicitations": 0,
        "net.ipv6.conf.default.router_solicitations": 0,
        "net.ipv6.conf.default.accept_ra_rtr_pref": 0,
        "net.ipv6.conf.default.accept_ra_pinfo": 0,
        "net.ipv6.conf.default.accept_ra_defrtr": 0,
        "net.ipv6.conf.default.dad_transmits": 0,
        "net.ipv6.conf.default.max_addresses": 1,
    },
}


@control("ALL-23")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(NET_SYSCTLS, "ALL-23"))
def test_source_routing_refused(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-24")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(NET_SYSCTLS, "ALL-24"))
def test_inbound_redirects_refused(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-25")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(NET_SYSCTLS, "ALL-25"))
def test_redirects_not_sent(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-26")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(NET_SYSCTLS, "ALL-26"))
def test_reverse_path_filter_strict(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-27")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(NET_SYSCTLS, "ALL-27"))
def test_martians_logged(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-28")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(NET_SYSCTLS, "ALL-28"))
def test_icmp_hygiene(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-29")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(NET_SYSCTLS, "ALL-29"))
def test_tcp_hardening(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-30")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(NET_SYSCTLS, "ALL-30"))
def test_arp_and_shared_media(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-30")
def test_arp_ignore(target: Target) -> None:
    assert target.sysctl("net.ipv4.conf.all.arp_ignore") in (1, 2)


@control("ALL-31")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(NET_SYSCTLS, "ALL-31"))
def test_forwarding_off(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


@control("ALL-32")
@pytest.mark.parametrize(("key", "value"), _sysctl_cases(NET_SYSCTLS, "ALL-32"))
def test_ipv6_router_advertisements_ignored(target: Target, key: str, value: int) -> None:
    assert target.sysctl(key) == value


# --- Kernel modules and mounts (ALL-33..38); waived on container platforms --------------------


@control("ALL-33")
@pytest.mark.parametrize("module", ["cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "udf", "squashfs", "usb-storage"])
def test_unused_filesystem_module_not_loadable(target: Target, module: str) -> None:
    out = target.shell(f"modprobe -n -v {module} 2>&1 || true")

    assert "install /bin/true" in out or "install /bin/false" in out


@control("ALL-34")
@pytest.mark.parametrize("module", ["dccp", "sctp", "rds", "tipc"])
def test_uncommon_protocol_module_not_loadable(target: Target, module: str) -> None:
    out = target.shell(f"modprobe -n -v {module} 2>&1 || true")

    assert "install /bin/true" in out or "install /bin/false" in out


MOUNTS = [
    ("ALL-35", "/tmp", ["nodev", "nosuid", "noexec"]),
    ("ALL-36", "/dev/shm", ["nodev", "nosuid", "noexec"]),
    ("ALL-37", "/var", ["nodev", "nosuid"]),
    ("ALL-37", "/var/tmp", ["nodev", "nosuid", "noexec"]),
    ("ALL-37", "/var/log", ["nodev", "nosuid", "noexec"]),
    ("ALL-37", "/var/log/audit", ["nodev", "nosuid", "noexec"]),
    ("ALL-37", "/home", ["nodev", "nosuid"]),
    ("ALL-38", "/run", ["nodev", "nosuid"]),
    ("ALL-38", "/dev", ["nosuid", "noexec"]),
]


def _mount_cases(control_id: str) -> list[tuple[str, list[str]]]:
    return [(path, options) for cid, path, options in MOUNTS if cid == control_id]


@control("ALL-35")
@pytest.mark.parametrize(("path", "options"), _mount_cases("ALL-35"))
def test_tmp_mounted_restrictively(host: Any, path: str, options: list[str]) -> None:
    mount = host.mount_point(path)
    assert mount.exists
    assert set(options) <= set(mount.options)


@control("ALL-36")
@pytest.mark.parametrize(("path", "options"), _mount_cases("ALL-36"))
def test_dev_shm_mounted_restrictively(host: Any, path: str, options: list[str]) -> None:
    mount = host.mount_point(path)
    assert mount.exists
    assert set(options) <= set(mount.options)


@control("ALL-37")
@pytest.mark.parametrize(("path", "options"), _mount_cases("ALL-37"), ids=[p for p, _ in _mount_cases("ALL-37")])
def test_var_and_home_mounted_separately(host: Any, path: str, options: list[str]) -> None:
    mount = host.mount_point(path)
    assert mount.exists
    assert set(options) <= set(mount.options)


@control("ALL-38")
@pytest.mark.parametrize(("path", "options"), _mount_cases("ALL-38"), ids=[p for p, _ in _mount_cases("ALL-38")])
def test_run_and_dev_mounted_restrictively(host: Any, path: str, options: list[str]) -> None:
    mount = host.mount_point(path)
    assert mount.exists
    assert set(options) <= set(mount.options)


# --- Account files (ALL-39..53) ---------------------------------------------------------------


def _mode_at_most(mode: int, ceiling: int) -> bool:
    return mode & ~ceiling == 0


@control("ALL-39")
@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/group"])
def test_passwd_and_group_files(target: Target, path: str) -> None:
    f = target.file(path)
    assert (f.mode, f.user, f.group) == (0o644, "root", "root")


@control("ALL-39")
@pytest.mark.parametrize("path", ["/etc/passwd-", "/etc/group-"])
def test_passwd_and_group_backups(target: Target, path: str) -> None:
    f = target.file(path)
    assert not f.exists or (_mode_at_most(f.mode, 0o644) and (f.user, f.group) == ("root", "root"))


@control("ALL-40")
@pytest.mark.parametrize("path", ["/etc/shadow", "/etc/gshadow"])
def test_shadow_files(target: Target, path: str) -> None:
    f = target.file(path)
    assert (f.mode, f.user, f.group) == (0o640, "root", "shadow")


@control("ALL-40")
@pytest.mark.parametrize("path", ["/etc/shadow-", "/etc/gshadow-"])
def test_shadow_backups(target: Target, path: str) -> None:
    f = target.file(path)
    assert not f.exists or (_mode_at_most(f.mode, 0o640) and (f.user, f.group) == ("root", "shadow"))


@control("ALL-41")
def test_shells_file(target: Target) -> None:
    f = target.file("/etc/shells")
    assert (f.mode, f.user, f.group) == (0o644, "root", "root")


@control("ALL-41")
def test_opasswd_file(target: Target) -> None:
    f = target.file("/etc/security/opasswd")
    assert not f.exists or (_mode_at_most(f.mode, 0o600) and (f.user, f.group) == ("root", "root"))


@control("ALL-42")
def test_no_hosts_equiv(target: Target) -> None:
    assert not target.file("/etc/hosts.equiv").exists


@control("ALL-42")
def test_no_rhosts_or_netrc(target: Target) -> None:
    found = target.shell(r"find / -xdev -maxdepth 3 \( -name .rhosts -o -name .netrc \) -print 2>/dev/null || true")

    assert found.split() == []


@control("ALL-43")
def test_no_password_hashes_in_passwd(target: Target) -> None:
    bad = target.shell('awk -F: \'$2 != "x" && $2 != "*" {print $1}\' /etc/passwd')

    assert bad.split() == []


@control("ALL-43")
def test_no_empty_password_hashes(target: Target) -> None:
    bad = target.shell("awk -F: '$2 == \"\" {print $1}' /etc/shadow")

    assert bad.split() == []


def _duplicates(target: Target, database: str, field: int) -> list[str]:
    values = [line.split(":")[field] for line in target.output("getent", database).splitlines()]
    return sorted({v for v in values if values.count(v) > 1})


@control("ALL-44")
@pytest.mark.parametrize(("database", "field"), [("passwd", 0), ("passwd", 2), ("group", 0), ("group", 2)])
def test_no_duplicate_ids_or_names(target: Target, database: str, field: int) -> None:
    assert _duplicates(target, database, field) == []


@control("ALL-44")
def test_only_root_has_uid_zero(target: Target) -> None:
    assert target.shell("awk -F: '$3 == 0 {print $1}' /etc/passwd").split() == ["root"]


@control("ALL-44")
def test_only_root_has_primary_gid_zero(target: Target) -> None:
    names = target.shell("awk -F: '$4 == 0 {print $1}' /etc/passwd").split()

    assert set(names) <= {"root", "sync", "shutdown", "halt", "operator"}


@control("ALL-44")
def test_only_group_root_has_gid_zero(target: Target) -> None:
    assert target.shell("awk -F: '$3 == 0 {print $1}' /etc/group").split() == ["root"]


@control("ALL-45")
def test_shadow_group_has_no_members(host: Any, target: Target) -> None:
    members = target.output("getent", "group", "shadow").strip().split(":")[3]

    assert members == ""


@control("ALL-45")
def test_no_user_has_shadow_as_primary_group(target: Target) -> None:
    gid = target.output("getent", "group", "shadow").split(":")[2]

    assert target.shell(f"awk -F: '$4 == {int(gid)} {{print $1}}' /etc/passwd").split() == []


def _system_accounts(target: Target, expected: dict[str, Any]) -> list[str]:
    keep = set(expected["system_accounts_with_shell"])
    rows = target.shell("awk -F: '$3 < 1000 {print $1\":\"$7}' /etc/passwd").split()
    return [row for row in rows if row.split(":")[0] not in keep]


@control("ALL-46")
def test_system_accounts_have_no_login_shell(target: Target, expected: dict[str, Any]) -> None:
    shells = {"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false"}
    bad = [row for row in _system_accounts(target, expected) if row.split(":")[1] not in shells]

    assert bad == []


@control("ALL-46")
def test_system_accounts_are_locked(target: Target, expected: dict[str, Any]) -> None:
    names = {row.split(":")[0] for row in _system_accounts(target, expected)}
    rows = target.shell("awk -F: '{print $1\":\"$2}' /etc/shadow").split()
    unlocked = [r.split(":")[0] for r in rows if r.split(":")[0] in names and r.split(":")[1][:1] not in ("!", "*")]

    assert unlocked == []


@control("ALL-47")
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("UMASK", "027"),
        ("PASS_MAX_DAYS", "60"),
        ("PASS_MIN_DAYS", "7"),
        ("PASS_WARN_AGE", "7"),
        ("LOGIN_RETRIES", "5"),
        ("LOGIN_TIMEOUT", "60"),
        ("UID_MIN", "1000"),
        ("GID_MIN", "1000"),
    ],
)
def test_login_defs_value(target: Target, key: str, value: str) -> None:
    content = target.file("/etc/login.defs").content_string
    values = [line.split()[1] for line in content.splitlines() if line.split()[:1] == [key] and len(line.split()) > 1]

    assert values == [value]


@control("ALL-47")
def test_login_defs_strong_hash(target: Target) -> None:
    assert target.file("/etc/login.defs").contains(r"^ENCRYPT_METHOD\s+(YESCRYPT|SHA512)\s*$")


@control("ALL-47")
def test_login_defs_paths_without_dot(target: Target) -> None:
    content = target.file("/etc/login.defs").content_string
    paths = [
        line.split(None, 1)[1] for line in content.splitlines() if line.split()[:1] in (["ENV_PATH"], ["ENV_SUPATH"])
    ]

    assert paths
    assert all(
        "." not in p.removeprefix("PATH=").split(":") and "" not in p.removeprefix("PATH=").split(":") for p in paths
    )


@control("ALL-47")
def test_login_defs_file(target: Target) -> None:
    f = target.file("/etc/login.defs")
    assert (f.mode, f.user, f.group) == (0o644, "root", "root")


def _interactive_users(target: Target) -> list[str]:
    shells = {"/bin/bash", "/bin/sh", "/usr/bin/bash", "/usr/bin/sh", "/bin/dash", "/usr/bin/zsh"}
    rows = target.shell("awk -F: '$3 >= 1000 && $3 < 65534 {print $1\":\"$7}' /etc/passwd").split()
    return [r.split(":")[0] for r in rows if r.split(":")[1] in shells]


@control("ALL-48")
def test_interactive_users_password_ageing(target: Target) -> None:
    rows = {r.split(":")[0]: r.split(":") for r in target.shell("cat /etc/shadow").split()}
    bad = []
    for user in _interactive_users(target):
        fields = rows[user]
        max_days, warn, inactive = fields[4], fields[5], fields[6]
        if not (
            max_days.isdigit() and int(max_days) <= 60 and warn == "7" and inactive.isdigit() and int(inactive) <= 45
        ):
            bad.append(user)

    assert bad == []


@control("ALL-48")
def test_no_password_change_in_future(target: Target) -> None:
    today = int(target.shell("echo $(( $(date +%s) / 86400 ))"))
    rows = [r.split(":") for r in target.shell("cat /etc/shadow").split()]

    assert [r[0] for r in rows if r[2].isdigit() and int(r[2]) > today] == []


@control("ALL-48")
def test_new_users_inactive_after_45_days(target: Target) -> None:
    inactive = target.shell("useradd -D | sed -n 's/^INACTIVE=//p'").strip()

    assert inactive.lstrip("-").isdigit()
    assert 0 <= int(inactive) <= 45


@control("ALL-49")
def test_shell_timeout_readonly(target: Target) -> None:
    profile = target.shell("cat /etc/profile /etc/profile.d/*.sh /etc/bash.bashrc 2>/dev/null; true")
    timeouts = [int(v) for v in _shell_values(profile, "TMOUT")]

    assert timeouts
    assert all(0 < t <= 900 for t in timeouts)
    assert "readonly TMOUT" in profile or "declare -r TMOUT" in profile or "typeset -r TMOUT" in profile


def _shell_values(text: str, name: str) -> list[str]:
    import re  # noqa: PLC0415

    return re.findall(rf"(?<![A-Za-z_]){name}\s*=\s*(\d+)", text)


@control("ALL-49")
def test_default_umask(target: Target) -> None:
    out = target.shell("umask=$(bash -lc umask); echo $umask")

    assert out.strip() in ("0027", "0077")


@control("ALL-50")
def test_root_path_safe(target: Target) -> None:
    path = target.shell("bash -lc 'echo $PATH'").strip()
    parts = path.split(":")

    assert "" not in parts
    assert "." not in parts
    writable = target.shell(
        "for d in $(bash -lc 'echo $PATH' | tr ':' ' '); do "
        '[ -d "$d" ] && find "$d/" -maxdepth 0 -perm /022; done; true'
    )
    assert writable.split() == []


@control("ALL-51")
def test_no_blacklisted_suid_sgid(target: Target, expected: dict[str, Any]) -> None:
    paths = " ".join(expected["suid_blacklist"])
    found = target.shell(f"for f in {paths}; do [ -e $f ] && find $f -maxdepth 0 -perm /6000; done; true")

    assert found.split() == []


@control("ALL-52")
def test_no_world_writable_files(target: Target) -> None:
    found = target.shell(
        "find / -xdev \\( -path /proc -o -path /sys -o -path /var/lib/docker \\) -prune -o "
        "-type f -perm -0002 -print 2>/dev/null || true"
    )

    assert found.split() == []


@control("ALL-52")
def test_world_writable_directories_sticky(target: Target) -> None:
    found = target.shell(
        "find / -xdev \\( -path /proc -o -path /sys -o -path /var/lib/docker \\) -prune -o "
        "-type d -perm -0002 ! -perm -1000 -print 2>/dev/null || true"
    )

    assert found.split() == []


@control("ALL-52")
def test_no_unowned_files(target: Target) -> None:
    found = target.shell(
        "find / -xdev \\( -path /proc -o -path /sys -o -path /var/lib/docker \\) -prune -o "
        "\\( -nouser -o -nogroup \\) -print 2>/dev/null || true"
    )

    assert found.split() == []


@control("ALL-53")
def test_interactive_homes_owned_and_private(target: Target) -> None:
    bad = []
    for user in _interactive_users(target):
        home = target.output("getent", "passwd", user).split(":")[5]
        f = target.file(home)
        if not (f.is_directory and f.user == user and _mode_at_most(f.mode, 0o750)):
            bad.append(user)

    assert bad == []


@control("ALL-53")
def test_dotfiles_not_group_or_world_writable(target: Target) -> None:
    homes = [target.output("getent", "passwd", u).split(":")[5] for u in [*_interactive_users(target), "root"]]
    found = target.shell(
        " ".join(f"find {h} -maxdepth 1 -name '.*' -type f -perm /022 2>/dev/null;" for h in homes) + " true"
    )

    assert found.split() == []


@control("ALL-53")
def test_no_forward_files(target: Target) -> None:
    homes = [target.output("getent", "passwd", u).split(":")[5] for u in [*_interactive_users(target), "root"]]
    found = [h for h in homes for name in (".forward", ".netrc", ".rhosts") if target.file(f"{h}/{name}").exists]

    assert found == []


# --- PAM, sudo, su (ALL-54..58) ---------------------------------------------------------------


@control("ALL-54")
def test_pwquality_installed(target: Target) -> None:
    assert target.installed("libpam-pwquality")


def _conf_values(text: str) -> dict[str, str]:
    result = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = line.partition("=")
        result[key.strip()] = value.strip()
    return result


@control("ALL-54")
@pytest.mark.parametrize(
    ("key", "check"),
    [
        ("minlen", "ge14"),
        ("difok", "ge2"),
        ("minclass", "eq4"),
        ("maxrepeat", "le3"),
        ("maxsequence", "le3"),
        ("dictcheck", "eq1"),
        ("enforcing", "eq1"),
        ("enforce_for_root", "present"),
    ],
)
def test_pwquality_setting(target: Target, key: str, check: str) -> None:
    values = _conf_values(
        target.shell("cat /etc/security/pwquality.conf /etc/security/pwquality.conf.d/*.conf 2>/dev/null; true")
    )

    assert key in values
    if check != "present":
        op, bound = check[:2], int(check[2:])
        value = int(values[key])
        assert {"ge": value >= bound, "le": 0 < value <= bound, "eq": value == bound}[op]


@control("ALL-54")
def test_pwquality_in_pam_password_stack(target: Target) -> None:
    assert target.file("/etc/pam.d/common-password").contains(r"^password\s+\S+\s+pam_pwquality\.so")


@control("ALL-55")
@pytest.mark.parametrize("stack", ["common-auth", "common-account"])
def test_faillock_in_pam_stack(target: Target, stack: str) -> None:
    assert target.file(f"/etc/pam.d/{stack}").contains(r"pam_faillock\.so")


@control("ALL-55")
def test_faillock_settings(target: Target) -> None:
    values = _conf_values(target.file("/etc/security/faillock.conf").content_string)

    assert 0 < int(values["deny"]) <= 5
    assert int(values["unlock_time"]) == 0 or int(values["unlock_time"]) >= 900


@control("ALL-56")
def test_pwhistory_configured(target: Target) -> None:
    lines = [
        line
        for line in target.file("/etc/pam.d/common-password").content_string.splitlines()
        if "pam_pwhistory.so" in line
    ]

    assert lines
    options = dict(o.partition("=")[::2] for o in lines[0].split()[3:])
    assert int(options.get("remember", "0")) >= 24
    assert "enforce_for_root" in options
    assert "use_authtok" in options


@control("ALL-56")
def test_pam_unix_without_nullok_and_strong_hash(target: Target) -> None:
    text = target.shell("grep -h pam_unix.so /etc/pam.d/common-* || true")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]

    assert lines
    assert all("nullok" not in line and "remember=" not in line for line in lines)
    password = [line for line in lines if line.startswith("password")]
    assert password
    assert all(("yescrypt" in line or "sha512" in line) and "use_authtok" in line for line in password)


@control("ALL-57")
def test_sudo_installed(target: Target) -> None:
    assert target.installed("sudo")


def _sudoers(target: Target) -> str:
    return target.shell("cat /etc/sudoers /etc/sudoers.d/* 2>/dev/null | grep -v '^[[:space:]]*#' || true")


@control("ALL-57")
def test_sudo_uses_pty(target: Target) -> None:
    assert "use_pty" in _sudoers(target)


@control("ALL-57")
def test_sudo_logs_to_file(target: Target) -> None:
    assert 'logfile="/var/log/sudo.log"' in _sudoers(target) or "logfile=/var/log/sudo.log" in _sudoers(target)


@control("ALL-57")
def test_sudo_never_skips_authentication(target: Target, expected: dict[str, Any]) -> None:
    lines = [line for line in _sudoers(target).splitlines() if "!authenticate" in line]

    assert lines == []


@control("ALL-57")
def test_sudo_timestamp_timeout(target: Target) -> None:
    values = _shell_values(_sudoers(target), "timestamp_timeout")

    assert values
    assert all(int(v) <= 15 for v in values)


@control("ALL-57")
def test_sudoers_file(target: Target) -> None:
    f = target.file("/etc/sudoers")
    assert (f.mode, f.user, f.group) == (0o440, "root", "root")


@control("ALL-58")
def test_su_restricted_to_empty_group(target: Target) -> None:
    lines = [
        line
        for line in target.file("/etc/pam.d/su").content_string.splitlines()
        if line.split()[:3] == ["auth", "required", "pam_wheel.so"] and "use_uid" in line
    ]

    assert lines
    group = next(o.split("=", 1)[1] for o in lines[0].split() if o.startswith("group="))
    assert target.output("getent", "group", group).strip().split(":")[3] == ""


# --- cron, banners, bootloader (ALL-59..63) ---------------------------------------------------


@control("ALL-59")
def test_cron_running(host: Any) -> None:
    cron = host.service("cron")
    assert cron.is_enabled
    assert cron.is_running


@control("ALL-60")
@pytest.mark.parametrize(
    ("path", "mode"),
    [
        ("/etc/crontab", 0o600),
        ("/etc/cron.hourly", 0o700),
        ("/etc/cron.daily", 0o700),
        ("/etc/cron.weekly", 0o700),
        ("/etc/cron.monthly", 0o700),
        ("/etc/cron.d", 0o700),
    ],
)
def test_cron_permissions(target: Target, path: str, mode: int) -> None:
    f = target.file(path)
    assert (f.mode, f.user, f.group) == (mode, "root", "root")


@control("ALL-61")
@pytest.mark.parametrize("path", ["/etc/cron.allow", "/etc/at.allow"])
def test_allow_lists_present(target: Target, path: str) -> None:
    f = target.file(path)
    assert f.exists
    assert f.user == "root"
    assert _mode_at_most(f.mode, 0o640)


@control("ALL-61")
@pytest.mark.parametrize("path", ["/etc/cron.deny", "/etc/at.deny"])
def test_deny_lists_absent_or_restricted(target: Target, path: str) -> None:
    f = target.file(path)
    assert not f.exists or (f.user == "root" and _mode_at_most(f.mode, 0o640))


@control("ALL-62")
@pytest.mark.parametrize("path", ["/etc/motd", "/etc/issue", "/etc/issue.net"])
def test_banner_reveals_nothing(target: Target, path: str) -> None:
    f = target.file(path)
    if not f.exists:
        return
    content = f.content_string
    assert not any(escape in content for escape in ("\\m", "\\r", "\\s", "\\v"))
    assert "debian" not in content.lower()
    assert "linux" not in content.lower()


@control("ALL-62")
@pytest.mark.parametrize("path", ["/etc/motd", "/etc/issue", "/etc/issue.net"])
def test_banner_file_permissions(target: Target, path: str) -> None:
    f = target.file(path)
    assert not f.exists or (f.mode, f.user, f.group) == (0o644, "root", "root")


@control("ALL-63")
def test_bootloader_password_and_permissions(target: Target) -> None:
    cfg = target.file("/boot/grub/grub.cfg")
    assert cfg.exists
    assert cfg.mode == 0o600
    assert cfg.user == "root"
    assert cfg.contains("password_pbkdf2")


# --- Logging (ALL-64..70) ---------------------------------------------------------------------


@control("ALL-64")
def test_var_log_owner(target: Target) -> None:
    f = target.file("/var/log")
    assert f.user == "root"
    assert f.group in ("root", "syslog")


@control("ALL-64")
def test_log_files_not_world_readable(target: Target) -> None:
    found = target.shell("find /var/log -type f -perm /o+r -print 2>/dev/null || true")

    assert found.split() == []


@control("ALL-65")
def test_journald_active(host: Any) -> None:
    assert host.service("systemd-journald").is_running


@control("ALL-65")
@pytest.mark.parametrize("setting", ["Storage=persistent", "Compress=yes", "ForwardToSyslog=no"])
def test_journald_setting(target: Target, setting: str) -> None:
    key = setting.split("=", maxsplit=1)[0]
    text = target.shell("cat /etc/systemd/journald.conf /etc/systemd/journald.conf.d/*.conf 2>/dev/null; true")
    values = [line.strip() for line in text.splitlines() if line.strip().startswith(f"{key}=")]

    assert values
    assert values[-1] == setting


@control("ALL-65")
def test_journald_rotation_limited(target: Target) -> None:
    text = target.shell("cat /etc/systemd/journald.conf /etc/systemd/journald.conf.d/*.conf 2>/dev/null; true")

    assert any(
        line.strip().startswith(("SystemMaxUse=", "SystemKeepFree=", "MaxRetentionSec=")) for line in text.splitlines()
    )


@control("ALL-66")
def test_single_logging_system(host: Any, target: Target) -> None:
    assert not (target.installed("rsyslog") and host.service("systemd-journald").is_running)


@control("ALL-67")
def test_journal_remote_not_listening(target: Target) -> None:
    assert [p for _, _, p in target.listeners if p == 19532] == []


@control("ALL-67")
def test_journal_upload_enabled(host: Any) -> None:
    assert host.service("systemd-journal-upload").is_enabled


@control("ALL-68")
def test_auditd_installed(target: Target) -> None:
    assert target.installed("auditd")


@control("ALL-68")
def test_auditd_enabled(host: Any) -> None:
    assert host.service("auditd").is_enabled


@control("ALL-68")
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_log_file_action", "keep_logs"),
        ("space_left", "75"),
        ("space_left_action", "syslog"),
        ("admin_space_left", "50"),
        ("admin_space_left_action", "suspend"),
        ("disk_full_action", "suspend"),
        ("disk_error_action", "suspend"),
        ("log_format", "raw"),
        ("flush", "incremental_async"),
    ],
)
def test_auditd_conf_value(target: Target, key: str, value: str) -> None:
    values = _conf_values(target.file("/etc/audit/auditd.conf").content_string)

    assert values.get(key, "").lower() == value


@control("ALL-69")
@pytest.mark.parametrize(
    "rule",
    [
        "/etc/passwd",
        "/etc/shadow",
        "/etc/sudoers",
        "time-change",
        "system-locale",
        "MAC-policy",
        "logins",
        "perm_mod",
        "mounts",
        "delete",
        "modules",
    ],
)
def test_audit_rule_loaded(target: Target, rule: str) -> None:
    assert rule in target.output("auditctl", "-l")


@control("ALL-69")
def test_audit_rules_immutable(target: Target) -> None:
    assert "enabled 2" in target.output("auditctl", "-s")


@control("ALL-70")
def test_aide_installed(target: Target) -> None:
    assert target.installed("aide")


@control("ALL-70")
def test_aide_database_present(target: Target) -> None:
    assert target.file("/var/lib/aide/aide.db").exists


@control("ALL-70")
def test_aide_check_scheduled(host: Any, target: Target) -> None:
    assert host.service("dailyaidecheck.timer").is_enabled or target.file("/etc/cron.daily/aide").exists


# --- Firewall (ALL-71..74) --------------------------------------------------------------------


@control("ALL-71")
def test_nftables_installed_and_enabled(host: Any, target: Target) -> None:
    assert target.installed("nftables")
    assert host.service("nftables").is_enabled


@control("ALL-71")
def test_ufw_absent(target: Target) -> None:
    assert not target.installed("ufw")


def _input_chain(target: Target) -> str:
    return target.input_chain


@control("ALL-72")
def test_input_policy_drop(target: Target) -> None:
    assert "policy drop;" in _input_chain(target)


@control("ALL-72")
def test_loopback_accepted(target: Target) -> None:
    assert 'iif "lo" accept' in _input_chain(target) or 'iifname "lo" accept' in _input_chain(target)


@control("ALL-72")
def test_spoofed_loopback_dropped(target: Target) -> None:
    chain = _input_chain(target)

    assert "ip saddr 127.0.0.0/8" in chain
    assert "drop" in chain
    assert "ip6 saddr ::1" in chain


@control("ALL-72")
def test_established_accepted(target: Target) -> None:
    assert "ct state established,related accept" in _input_chain(target)


@control("ALL-72")
def test_rules_persistent(target: Target) -> None:
    assert target.file("/etc/nftables.conf").contains("policy drop")


@control("ALL-73")
def test_every_listener_has_a_rule(target: Target, expected: dict[str, Any]) -> None:
    chain = _input_chain(target)
    public = {
        port
        for _, address, port in target.listeners
        if address not in ("127.0.0.1", "::1") and not address.startswith("127.")
    }
    published = {*expected["firewall"]["docker_published_ports"], *_worker_ports()} if "app" in target.groups else set()
    missing = [port for port in sorted(public - published) if not _port_in_rules(chain, port)]

    assert missing == []


def _port_in_rules(chain: str, port: int) -> bool:
    import re  # noqa: PLC0415

    for line in chain.splitlines():
        if "accept" not in line:
            continue
        for match in re.finditer(r"dport (\{[^}]*\}|\S+)", line):
            items = match.group(1).strip("{}").replace(" ", "").split(",")
            for item in items:
                low, _, high = item.partition("-")
                if low.isdigit() and (int(low) == port or (high.isdigit() and int(low) <= port <= int(high))):
                    return True
    return False


@control("ALL-73")
def test_no_open_port_without_listener(target: Target, expected: dict[str, Any]) -> None:
    import re  # noqa: PLC0415

    chain = _input_chain(target)
    ruled = {int(p) for p in re.findall(r"dport (\d+)", chain)}
    listening = {port for _, _, port in target.listeners}
    allowed_extra = set(expected.get("firewall_ports_without_listener", []))

    assert ruled - listening - allowed_extra == set()


@control("ALL-74")
def test_no_wireless_interfaces(target: Target) -> None:
    assert target.shell("ls -d /sys/class/net/*/wireless 2>/dev/null || true").split() == []


@control("ALL-74")
def test_bluetooth_absent_or_masked(host: Any, target: Target) -> None:
    assert not target.installed("bluez") or host.service("bluetooth").is_masked


# --- Node exporter everywhere (MON-10, the per-host half) -------------------------------------


@control("MON-10")
def test_node_exporter_running(host: Any) -> None:
    service = host.service("prometheus-node-exporter")
    assert service.is_enabled
    assert service.is_running


@control("MON-10")
def test_node_exporter_bound_to_private_address(target: Target) -> None:
    assert {a for _, a, p in target.listeners if p == 9100} == {target.private_ip}
