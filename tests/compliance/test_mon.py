"""MON: Prometheus and Alertmanager on the monitoring host."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.compliance.checklist import control
from tests.compliance.target import Target

GROUP = "mon"


def _args(target: Target, service: str) -> str:
    pid = target.output("systemctl", "show", "-P", "MainPID", service).strip()
    return target.output("cat", f"/proc/{pid}/cmdline").replace("\0", " ")


@control("MON-01")
def test_prometheus_runs_as_prometheus(host: Any) -> None:
    processes = host.process.filter(comm="prometheus")
    assert processes
    assert {p.user for p in processes} == {"prometheus"}


@control("MON-01")
def test_prometheus_user_has_no_login_shell(host: Any) -> None:
    assert host.user("prometheus").shell in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")


@control("MON-01")
def test_prometheus_from_distribution_package(host: Any) -> None:
    assert host.package("prometheus").is_installed


@control("MON-02")
def test_prometheus_listens_on_private_address(target: Target) -> None:
    addresses = {a for _, a, p in target.listeners if p == 9090}
    assert addresses
    assert addresses <= {target.private_ip, "127.0.0.1", "::1"}


@control("MON-02")
def test_prometheus_web_config_with_auth(target: Target) -> None:
    match = re.search(r"--web\.config\.file=(\S+)", _args(target, "prometheus"))
    assert match
    web = target.file(match.group(1)).content_string
    assert "basic_auth_users" in web
    assert "tls_server_config" in web


@control("MON-03")
@pytest.mark.parametrize("flag", ["--web.enable-admin-api", "--web.enable-lifecycle"])
def test_admin_endpoints_disabled(target: Target, flag: str) -> None:
    assert flag not in _args(target, "prometheus")


@control("MON-04")
def test_scrape_targets_on_private_network(target: Target) -> None:
    config = target.file("/etc/prometheus/prometheus.yml").content_string
    hosts = re.findall(r"['\"]?(\d+\.\d+\.\d+\.\d+):\d+", config)
    assert all(h.startswith(("10.", "172.", "192.168.", "127.")) for h in hosts)


@control("MON-04")
def test_exporter_ports_firewalled_to_mon(target: Target, expected: dict[str, Any]) -> None:
    chain = target.input_chain
    for port in (9187, 9121, 9113, 9115):
        rules = [line for line in chain.splitlines() if re.search(rf"\b{port}\b", line) and "accept" in line]
        assert all("saddr" in line for line in rules), port


@control("MON-05")
def test_prometheus_config_directory(target: Target) -> None:
    f = target.file("/etc/prometheus")
    assert f.user == "root"
    assert f.group == "prometheus"
    assert f.mode & ~0o750 == 0


@control("MON-05")
def test_prometheus_data_directory(target: Target) -> None:
    f = target.file("/var/lib/prometheus")
    assert f.user == "prometheus"
    assert f.mode & ~0o750 == 0


@control("MON-06")
def test_alertmanager_listens_privately(target: Target) -> None:
    addresses = {a for _, a, p in target.listeners if p == 9093}
    assert addresses
    assert addresses <= {target.private_ip, "127.0.0.1", "::1"}


@control("MON-06")
def test_alertmanager_cluster_port_closed(target: Target) -> None:
    exposed = [a for _, a, p in target.listeners if p == 9094 and a not in ("127.0.0.1", "::1")]
    assert exposed == []


@control("MON-07")
def test_prometheus_config_valid(host: Any) -> None:
    result = host.run("promtool check config /etc/prometheus/prometheus.yml")
    assert result.rc == 0, result.stdout + result.stderr


@control("MON-08")
def test_rules_valid(target: Target) -> None:
    result = target.host.run("promtool check rules /etc/prometheus/rules/*.yml")
    assert result.rc == 0, result.stdout + result.stderr


@control("MON-08")
@pytest.mark.parametrize("signal", ["up == 0|up{", "probe_ssl_earliest_cert_expiry", "node_filesystem", "node_"])
def test_drift_alert_present(target: Target, signal: str) -> None:
    rules = target.shell("cat /etc/prometheus/rules/*.yml")
    assert any(s in rules for s in signal.split("|"))


@control("MON-09")
def test_retention_set(target: Target) -> None:
    assert re.search(r"--storage\.tsdb\.retention\.time=\S+", _args(target, "prometheus"))


@control("MON-10")
def test_node_job_scrapes_every_host(target: Target, fleet_addresses: dict[str, str]) -> None:
    config = yaml.safe_load(target.file("/etc/prometheus/prometheus.yml").content_string)
    jobs = [job for job in config["scrape_configs"] if job["job_name"] == "node"]
    targets = {t for job in jobs for group in job.get("static_configs", []) for t in group["targets"]}

    assert targets == {f"{address}:9100" for address in fleet_addresses.values()}


@control("MON-10")
def test_node_exporters_answer_mon(target: Target, fleet_addresses: dict[str, str]) -> None:
    # Fetched from mon itself: the firewall lets only mon reach :9100, and this holds whatever
    # authentication Prometheus's own API asks for (MON-02).
    fetch = (
        "import sys, urllib.request\n"
        "for url in sys.argv[1:]:\n"
        "    body = urllib.request.urlopen(url, timeout=10).read().decode()\n"
        "    print(url, 'node_exporter_build_info' in body)"
    )
    urls = [f"http://{address}:9100/metrics" for address in sorted(fleet_addresses.values())]
    answers = dict(line.split() for line in target.output("python3", "-c", fetch, *urls).splitlines())

    assert answers == dict.fromkeys(urls, "True")
