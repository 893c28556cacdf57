"""dashboards/alertmanager/alertmanager.yml: valid, routes by severity, inhibits warnings behind criticals."""

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
        (["alertname=Watchdog", "severity=info"], "null"),
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


def test_webhook_receivers_have_plain_local_defaults() -> None:
    receivers = {r["name"]: r for r in yaml.safe_load(CONFIG.read_text())["receivers"]}

    assert receivers["page"]["webhook_configs"][0]["url"] == "http://127.0.0.1:9095/slipway/page"
    assert receivers["ticket"]["webhook_configs"][0]["url"] == "http://127.0.0.1:9095/slipway/ticket"


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


ALERTS = [
    {"alertname": "RedisDown", "severity": "critical", "instance": "cache:9121", "job": "redis"},
    {"alertname": "RedisMemoryHigh", "severity": "warning", "instance": "cache:9121", "job": "redis"},
    {"alertname": "HostMemoryLow", "severity": "warning", "instance": "db:9100", "job": "node"},
    {"alertname": "ApiAvailabilityErrorBudgetBurn", "severity": "critical", "slo": "api-availability"},
    {"alertname": "ApiAvailabilityErrorBudgetBurn", "severity": "warning", "slo": "api-availability"},
    {"alertname": "ApiLatencyErrorBudgetBurn", "severity": "warning", "slo": "api-latency"},
]


def _inhibited(url: str) -> set[tuple[str, str]]:
    alerts = http_json(f"{url}/api/v2/alerts")
    return {
        (alert["labels"]["alertname"], alert["labels"]["severity"])
        for alert in alerts
        if alert["status"]["inhibitedBy"]
    }


def test_critical_inhibits_warnings_on_same_target_only(alertmanager_url: str) -> None:
    http_json(f"{alertmanager_url}/api/v2/alerts", [{"labels": labels} for labels in ALERTS])
    expected = {("RedisMemoryHigh", "warning"), ("ApiAvailabilityErrorBudgetBurn", "warning")}

    # The inhibitor learns about new source alerts asynchronously; give it a bounded moment.
    deadline = time.monotonic() + 15
    inhibited = _inhibited(alertmanager_url)
    while inhibited != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        inhibited = _inhibited(alertmanager_url)

    assert inhibited == expected
