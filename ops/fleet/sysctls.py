"""Network sysctls set on each host container at creation.

`/proc/sys` is read-only inside the containers, but `net.*` settings belong to each host's own
network namespace, so Docker can set them when it creates the host. These are the values of the
hardening checklist (linux-baseline sysctl-01..28); kernel-global ones are left to real VMs.

These are starting values. The runtime writes them in no fixed order at every (re)start, and
turning forwarding off after the redirect settings turns `accept_redirects` back on (devinet.c,
inet_forward_change). The hardening role's sysctl file, written forwarding first and loaded by
systemd-sysctl at every boot, is what leaves a converged host right.
"""

from __future__ import annotations

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
