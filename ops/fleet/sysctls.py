"""Network sysctls set on each host container at creation.

`/proc/sys` is read-only inside the containers, but `net.*` settings belong to each host's own
network namespace, so Docker can set them when it creates the host. These are the values of the
hardening checklist (linux-baseline sysctl-01..28); kernel-global ones are left to real VMs.

One pair depends on the order of the writes: changing `net.ipv4.ip_forward` makes the kernel set
`net.ipv4.conf.all.accept_redirects` to its opposite (devinet.c, inet_forward_change). A new
namespace inherits the machine's forwarding (1 wherever Docker runs), and the runtime applies
`--sysctl` values in no fixed order, so a host that turns forwarding off would accept redirects
again about two times in three. `ensure_ordered_sysctls` writes that pair once more, in order,
after the host starts.
"""

from __future__ import annotations

from ops.docker_cli import docker

_ALL_DEFAULT = ("all", "default")

HARDENED_NET_SYSCTLS: dict[str, str] = {
    "net.ipv4.icmp_ignore_bogus_error_responses": "1",
    "net.ipv4.icmp_echo_ignore_broadcasts": "1",
    "net.ipv4.icmp_ratelimit": "100",
    "net.ipv4.icmp_ratemask": "88089",
    "net.ipv4.tcp_timestamps": "0",
    "net.ipv4.conf.all.arp_ignore": "1",
    "net.ipv4.conf.all.arp_announce": "2",
    "net.ipv4.tcp_rfc1337": "1",
    "net.ipv4.tcp_syncookies": "1",
    "net.ipv6.conf.all.forwarding": "0",
    "net.ipv6.conf.default.accept_ra_rtr_pref": "0",
    "net.ipv6.conf.default.accept_ra_pinfo": "0",
    "net.ipv6.conf.default.accept_ra_defrtr": "0",
    "net.ipv6.conf.default.dad_transmits": "0",
    "net.ipv6.conf.default.max_addresses": "1",
}
for _scope in _ALL_DEFAULT:
    HARDENED_NET_SYSCTLS |= {
        f"net.ipv4.conf.{_scope}.rp_filter": "1",
        f"net.ipv4.conf.{_scope}.shared_media": "1",
        f"net.ipv4.conf.{_scope}.accept_source_route": "0",
        f"net.ipv6.conf.{_scope}.accept_source_route": "0",
        f"net.ipv4.conf.{_scope}.accept_redirects": "0",
        f"net.ipv4.conf.{_scope}.secure_redirects": "0",
        f"net.ipv4.conf.{_scope}.send_redirects": "0",
        f"net.ipv4.conf.{_scope}.log_martians": "1",
        f"net.ipv6.conf.{_scope}.accept_redirects": "0",
        f"net.ipv6.conf.{_scope}.router_solicitations": "0",
        f"net.ipv6.conf.{_scope}.accept_ra": "0",
        f"net.ipv6.conf.{_scope}.autoconf": "0",
    }


def host_sysctls(runs_docker: bool) -> dict[str, str]:
    """The sysctls for one host; Docker hosts route their containers' traffic, so they forward."""
    forwarding = "1" if runs_docker else "0"
    return HARDENED_NET_SYSCTLS | {
        "net.ipv4.ip_forward": forwarding,
        "net.ipv4.conf.all.forwarding": forwarding,
    }


def ordered_sysctls(runs_docker: bool) -> tuple[tuple[str, str], ...]:
    """The order-sensitive writes: forwarding first, then the redirects it would have reset."""
    values = host_sysctls(runs_docker)
    return tuple((key, values[key]) for key in ("net.ipv4.ip_forward", "net.ipv4.conf.all.accept_redirects"))


def _proc_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def ordered_sysctls_script(runs_docker: bool) -> str:
    """Shell that writes the order-sensitive values into the namespace it runs in."""
    return " && ".join(f"echo {value} > {_proc_path(key)}" for key, value in ordered_sysctls(runs_docker))


def ensure_ordered_sysctls(container: str, image: str, *, runs_docker: bool, host: str) -> bool:
    """Write the order-sensitive sysctls of a running host if they differ; True when it had to.

    `/proc/sys` is read-only inside the host, so a short-lived helper joins the host's network
    namespace with NET_ADMIN and an unmasked `/proc/sys` and writes only `net.*` keys there
    (namespaced, so nothing outside the host changes).
    """
    wanted = ordered_sysctls(runs_docker)
    paths = [_proc_path(key) for key, _ in wanted]
    current = docker("exec", container, "cat", *paths, step="read the host's sysctls", host=host).stdout.split()
    if current == [value for _, value in wanted]:
        return False
    docker(
        "run", "--rm", "--network", f"container:{container}", "--cap-add", "NET_ADMIN",
        "--security-opt", "systempaths=unconfined", "--entrypoint", "sh", image,
        "-c", ordered_sysctls_script(runs_docker),
        step="set the host's forwarding sysctls in order", host=host,
    )  # fmt: skip
    return True
