"""SSH: the OpenSSH server and client on every host.

Server settings are read from the effective configuration (`sshd -T`), so drop-ins and Match
blocks count; client settings from `ssh -G`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.compliance.checklist import control
from tests.compliance.target import Target

GROUP = "all"


@control("SSH-01")
def test_ssh_directory(target: Target) -> None:
    f = target.file("/etc/ssh")
    assert (f.mode, f.user, f.group) == (0o755, "root", "root")


@control("SSH-01")
def test_sshd_config_files(target: Target) -> None:
    out = target.shell("stat -c '%n %a %U %G' /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf 2>/dev/null || true")
    bad = [line for line in out.splitlines() if line.split()[1:] != ["600", "root", "root"]]

    assert out.strip()
    assert bad == []


@control("SSH-02")
def test_host_private_keys(target: Target) -> None:
    out = target.shell("stat -c '%n %a %U %G' /etc/ssh/ssh_host_*_key")
    bad = [line for line in out.splitlines() if line.split()[1:] != ["600", "root", "root"]]

    assert bad == []


@control("SSH-02")
def test_host_public_keys(target: Target) -> None:
    out = target.shell("stat -c '%n %a %U %G' /etc/ssh/ssh_host_*_key.pub")
    bad = [line for line in out.splitlines() if line.split()[1:] != ["644", "root", "root"]]

    assert bad == []


SERVER_SETTINGS: dict[str, dict[str, str]] = {
    "SSH-03": {"permitrootlogin": "no"},
    "SSH-04": {
        "passwordauthentication": "no",
        "permitemptypasswords": "no",
        "kbdinteractiveauthentication": "no",
        "pubkeyauthentication": "yes",
        "authenticationmethods": "publickey",
    },
    "SSH-05": {"hostbasedauthentication": "no", "ignorerhosts": "yes", "ignoreuserknownhosts": "yes"},
    "SSH-06": {
        "kerberosauthentication": "no",
        "kerberosorlocalpasswd": "no",
        "kerberosticketcleanup": "yes",
        "gssapiauthentication": "no",
        "gssapicleanupcredentials": "yes",
    },
    "SSH-07": {
        "allowtcpforwarding": "no",
        "allowagentforwarding": "no",
        "gatewayports": "no",
        "x11forwarding": "no",
        "x11uselocalhost": "yes",
        "permittunnel": "no",
    },
    "SSH-08": {"permituserenvironment": "no", "strictmodes": "yes", "usepam": "yes"},
    "SSH-09": {
        "logingracetime": "30",
        "maxauthtries": "2",
        "maxsessions": "10",
        "maxstartups": "10:30:60",
        "clientaliveinterval": "300",
        "clientalivecountmax": "3",
        "tcpkeepalive": "no",
    },
    "SSH-10": {"syslogfacility": "AUTH", "loglevel": "VERBOSE"},
    "SSH-16": {"banner": "/etc/issue.net"},
    "SSH-17": {"printmotd": "no", "printlastlog": "no"},
}


def _cases(control_id: str) -> list[tuple[str, str]]:
    return list(SERVER_SETTINGS[control_id].items())


def _ids(control_id: str) -> list[str]:
    return list(SERVER_SETTINGS[control_id])


@control("SSH-03")
@pytest.mark.parametrize(("key", "value"), _cases("SSH-03"), ids=_ids("SSH-03"))
def test_root_login_refused(target: Target, key: str, value: str) -> None:
    assert target.sshd.get(key) == value


@control("SSH-04")
@pytest.mark.parametrize(("key", "value"), _cases("SSH-04"), ids=_ids("SSH-04"))
def test_public_key_only(target: Target, key: str, value: str) -> None:
    assert target.sshd.get(key) == value


@control("SSH-05")
@pytest.mark.parametrize(("key", "value"), _cases("SSH-05"), ids=_ids("SSH-05"))
def test_host_based_trust_off(target: Target, key: str, value: str) -> None:
    assert target.sshd.get(key) == value


@control("SSH-06")
@pytest.mark.parametrize(("key", "value"), _cases("SSH-06"), ids=_ids("SSH-06"))
def test_kerberos_gssapi_off(target: Target, key: str, value: str) -> None:
    assert target.sshd.get(key) == value


@control("SSH-07")
@pytest.mark.parametrize(("key", "value"), _cases("SSH-07"), ids=_ids("SSH-07"))
def test_forwarding_off(target: Target, key: str, value: str) -> None:
    assert target.sshd.get(key) == value or target.sshd.get("disableforwarding") == "yes"


@control("SSH-08")
@pytest.mark.parametrize(("key", "value"), _cases("SSH-08"), ids=_ids("SSH-08"))
def test_environment_and_modes(target: Target, key: str, value: str) -> None:
    assert target.sshd.get(key) == value


@control("SSH-09")
@pytest.mark.parametrize(("key", "value"), _cases("SSH-09"), ids=_ids("SSH-09"))
def test_session_limits(target: Target, key: str, value: str) -> None:
    assert target.sshd.get(key) == value


@control("SSH-10")
@pytest.mark.parametrize(("key", "value"), _cases("SSH-10"), ids=_ids("SSH-10"))
def test_logging_verbose(target: Target, key: str, value: str) -> None:
    assert target.sshd.get(key) == value


@control("SSH-11")
def test_ciphers(target: Target, expected: dict[str, Any]) -> None:
    assert target.sshd["ciphers"].split(",") == expected["ssh"]["ciphers"]


@control("SSH-12")
def test_kex_algorithms(target: Target, expected: dict[str, Any]) -> None:
    assert target.sshd["kexalgorithms"].split(",") == expected["ssh"]["kex"]


@control("SSH-13")
def test_macs(target: Target, expected: dict[str, Any]) -> None:
    assert target.sshd["macs"].split(",") == expected["ssh"]["macs"]


@control("SSH-14")
def test_host_keys_under_etc_ssh(target: Target) -> None:
    keys = target.sshd["hostkey"].splitlines()

    assert keys
    assert all(k.startswith("/etc/ssh/ssh_host_") for k in keys)


@control("SSH-14")
def test_rsa_host_key_at_least_4096_bits(target: Target) -> None:
    rsa = [k for k in target.sshd["hostkey"].splitlines() if "rsa" in k]
    for key in rsa:
        bits = int(target.output("ssh-keygen", "-lf", key).split()[0])
        assert bits >= 4096, key


@control("SSH-15")
def test_no_weak_moduli(target: Target) -> None:
    weak = target.shell("awk '$1 !~ /^#/ && $5 < 2047' /etc/ssh/moduli | wc -l")

    assert int(weak) == 0


@control("SSH-16")
@pytest.mark.parametrize(("key", "value"), _cases("SSH-16"), ids=_ids("SSH-16"))
def test_banner(target: Target, key: str, value: str) -> None:
    assert target.sshd.get(key) == value


@control("SSH-16")
def test_no_debian_version_banner(target: Target) -> None:
    # Debian's sshd -T does not print DebianBanner; the configuration files say it.
    out = target.shell(
        "grep -hiE '^\\s*DebianBanner' /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf 2>/dev/null; true"
    )
    assert [line.split()[1].lower() for line in out.splitlines()][:1] == ["no"]


@control("SSH-17")
@pytest.mark.parametrize(("key", "value"), _cases("SSH-17"), ids=_ids("SSH-17"))
def test_no_motd_or_lastlog(target: Target, key: str, value: str) -> None:
    assert target.sshd.get(key) == value


@control("SSH-18")
def test_listens_on_port_22(target: Target) -> None:
    assert target.sshd["port"] == "22"


@control("SSH-18")
def test_listens_on_management_address_only(target: Target) -> None:
    addresses = {line.rsplit(":", 1)[0] for line in target.sshd["listenaddress"].splitlines()}

    assert addresses == {target.private_ip}


@control("SSH-18")
def test_address_family(target: Target) -> None:
    assert target.sshd["addressfamily"] in ("inet", "any")


@control("SSH-19")
def test_allow_groups_set(target: Target) -> None:
    assert target.sshd.get("allowgroups", "").strip() != ""


@control("SSH-20")
def test_single_sshd_listener_without_crypto_overrides(target: Target) -> None:
    rows = [line.split(None, 1) for line in target.shell("ps -C sshd -o ppid=,args= || true").splitlines()]
    # The listener is sshd's parent process; sessions are its children ("sshd: admin [priv]").
    listeners = [args for ppid, args in rows if ppid == "1" and args.startswith("sshd: /usr/sbin/sshd")]

    assert len(listeners) == 1
    assert not any(flag in listeners[0] for flag in ("-oCiphers", "-oKexAlgorithms", "-oHostKeyAlgorithms", "-oMACs"))


@control("SSH-21")
def test_ssh_service_enabled_and_running(host: Any) -> None:
    ssh = host.service("ssh")
    assert ssh.is_enabled
    assert ssh.is_running


@control("SSH-21")
def test_ssh_socket_disabled(target: Target) -> None:
    state = target.shell("systemctl is-enabled ssh.socket 2>/dev/null || true").strip()
    assert state in ("", "disabled", "masked", "not-found")


@control("SSH-22")
def test_client_config_file(target: Target) -> None:
    f = target.file("/etc/ssh/ssh_config")
    assert (f.mode, f.user, f.group) == (0o644, "root", "root")


CLIENT_SETTINGS = {
    "passwordauthentication": "no",
    "forwardagent": "no",
    "forwardx11": "no",
    "hostbasedauthentication": "no",
    "gssapiauthentication": "no",
    "gssapidelegatecredentials": "no",
    "tunnel": "false",
    "permitlocalcommand": "no",
    "batchmode": "no",
    "checkhostip": "yes",
    "port": "22",
}


@control("SSH-23")
@pytest.mark.parametrize(("key", "value"), list(CLIENT_SETTINGS.items()), ids=list(CLIENT_SETTINGS))
def test_client_option(target: Target, key: str, value: str) -> None:
    assert target.ssh_client.get(key) == value


@control("SSH-23")
def test_client_checks_host_keys(target: Target) -> None:
    assert target.ssh_client.get("stricthostkeychecking") in ("ask", "true", "yes")


@control("SSH-24")
@pytest.mark.parametrize(
    ("client_key", "server_key"), [("ciphers", "ciphers"), ("kexalgorithms", "kexalgorithms"), ("macs", "macs")]
)
def test_client_crypto_matches_server(target: Target, client_key: str, server_key: str) -> None:
    assert target.ssh_client[client_key] == target.sshd[server_key]
