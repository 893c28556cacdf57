"""dashboards/alertmanager/alertmanager.yml: valid, routes by severity, inhibits only what a cause explains."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.dashboards.tools import REPO_ROOT, debian_tool, free_port, http_json, run, serving

CONFIG = REPO_ROOT / "dashboards" / "alertmanager" / "alertmanager.yml"


@pytest.fixture(scope="module")
def amtool() -> str:
    return debian_tool("amtool", "prometheus-alertmanager")


def test_check_config_accepts_the_config(amtool: str) -> None:
    result = run([amtool, "check-config", str(CONFIG)])

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=RedisDown", "severity=critical", "instance=cache:9121"], "page"),
        (["alertname=ApiAvailabilityErrorBudgetBurn", "severity=critical", "slo=api-availability"], "page"),
        (["alertname=HostDiskSpaceLow", "severity=warning", "instance=db:9100"], "ticket"),
        (["alertname=ApiLatencyErrorBudgetBurn", "severity=warning", "slo=api-latency"], "ticket"),
        (["alertname=HostDown", "severity=critical", "instance=app1:9100", "host=app1"], "page"),
        (["alertname=Watchdog", "severity=info"], "heartbeat"),
        (["alertname=SomethingInformative", "severity=info"], "null"),
    ],
)
def test_routes_send_alert_to_receiver(amtool: str, labels: list[str], receiver: str) -> None:
    result = run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={CONFIG}",
            f"--verify.receivers={receiver}",
            *labels,
        ]
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("receiver", ["page", "ticket", "heartbeat"])
def test_webhook_receivers_have_plain_local_defaults(receiver: str) -> None:
    receivers = {r["name"]: r for r in yaml.safe_load(CONFIG.read_text())["receivers"]}

    assert receivers[receiver]["webhook_configs"][0]["url"] == f"http://127.0.0.1:9095/slipway/{receiver}"


def test_watchdog_heartbeat_repeats_every_minute() -> None:
    routes = yaml.safe_load(CONFIG.read_text())["route"]["routes"]
    watchdog = next(route for route in routes if route["matchers"] == ['alertname="Watchdog"'])

    assert (watchdog["receiver"], watchdog["repeat_interval"], watchdog["group_interval"]) == ("heartbeat", "50s", "1m")


def test_group_by_puts_one_host_in_one_notification() -> None:
    assert yaml.safe_load(CONFIG.read_text())["route"]["group_by"] == ["env", "host", "slo"]


@pytest.fixture(scope="module")
def alertmanager_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Alertmanager (Debian's) on loopback with the config; webhooks aimed at a closed port."""
    binary = debian_tool("prometheus-alertmanager", "prometheus-alertmanager")
    workdir: Path = tmp_path_factory.mktemp("alertmanager")
    closed_port = free_port()
    config = CONFIG.read_text().replace("127.0.0.1:9095", f"127.0.0.1:{closed_port}")
    (workdir / "alertmanager.yml").write_text(config)
    port = free_port()
    command = [
        binary,
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    url = f"http://127.0.0.1:{port}"
    with serving(command, f"{url}/-/ready", workdir / "alertmanager.log"):
        yield url


def _alert(alertname: str, severity: str, **labels: str) -> dict[str, str]:
    return {"alertname": alertname, "severity": severity, "env": "local", **labels}


ALERTS = [
    # A critical disk alert mutes the warning of the same disk only, never other alerts of the host.
    _alert("HostDiskSpaceLow", "critical", host="db", instance="db:9100", mountpoint="/"),
    _alert("HostDiskSpaceLow", "warning", host="db", instance="db:9100", mountpoint="/"),
    _alert("HostDiskSpaceLow", "warning", host="db", instance="db:9100", mountpoint="/var/lib/postgresql"),
    _alert("HostSystemdUnitFailed", "warning", host="db", instance="db:9100", unit="cron.service"),
    _alert("HostOomKillDetected", "warning", host="db", instance="db:9100"),
    # A critical service alert does not mute a different warning of the same target.
    _alert("RedisDown", "critical", host="cache", instance="mon:9121", job="redis"),
    _alert("RedisMemoryHigh", "warning", host="cache", instance="mon:9121", job="redis"),
    # A host that is down mutes every other alert of that host, and of no other host.
    _alert("HostDown", "critical", host="app1", instance="app1:9100", job="node"),
    _alert("TargetDown", "warning", host="app1", instance="app1:8000", job="api"),
    _alert("TargetDown", "warning", host="app1", instance="app1:9200", job="worker"),
    _alert("PostgresDown", "critical", host="app1", instance="mon:9187", job="postgres"),
    _alert("TargetDown", "warning", host="app2", instance="app2:8000", job="api"),
    # The page of an SLO mutes its ticket, not the other SLO's ticket.
    _alert("ApiAvailabilityErrorBudgetBurn", "critical", slo="api-availability"),
    _alert("ApiAvailabilityErrorBudgetBurn", "warning", slo="api-availability"),
    _alert("ApiLatencyErrorBudgetBurn", "warning", slo="api-latency"),
]


def _inhibited(url: str) -> set[tuple[str, str, str]]:
    """(alertname, severity, instance or mountpoint) of every inhibited alert."""
    alerts = http_json(f"{url}/api/v2/alerts")
    return {
        (
            alert["labels"]["alertname"],
            alert["labels"]["severity"],
            alert["labels"].get("mountpoint", alert["labels"].get("instance", "")),
        )
        for alert in alerts
        if alert["status"]["inhibitedBy"]
    }


def test_inhibition_mutes_only_same_alert_or_down_host(alertmanager_url: str) -> None:
    http_json(f"{alertmanager_url}/api/v2/alerts", [{"labels": labels} for labels in ALERTS])
    expected = {
        ("HostDiskSpaceLow", "warning", "/"),
        ("TargetDown", "warning", "app1:8000"),
        ("TargetDown", "warning", "app1:9200"),
        ("PostgresDown", "critical", "mon:9187"),
        ("ApiAvailabilityErrorBudgetBurn", "warning", ""),
    }

    # The inhibitor learns about new source alerts asynchronously; give it a bounded moment.
    deadline = time.monotonic() + 15
    inhibited = _inhibited(alertmanager_url)
    while inhibited != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        inhibited = _inhibited(alertmanager_url)

    assert inhibited == expected
