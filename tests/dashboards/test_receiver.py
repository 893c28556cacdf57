"""The local fleet's webhook receiver (roles/monitoring) records what a real Alertmanager sends it."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboards.test_alertmanager import CONFIG
from tests.dashboards.tools import REPO_ROOT, debian_tool, free_port, http_json, serving

RECEIVER = REPO_ROOT / "playbooks" / "roles" / "monitoring" / "files" / "slipway-webhook-receiver.py"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(Alertmanager URL, the receiver's data directory): the committed config, its webhooks on the receiver."""
    workdir: Path = tmp_path_factory.mktemp("pipeline")
    data = workdir / "received"
    data.mkdir()
    receiver_port, alertmanager_port = free_port(), free_port()
    receiver = [sys.executable, str(RECEIVER), f"--listen=127.0.0.1:{receiver_port}", f"--data-dir={data}"]
    config = CONFIG.read_text().replace("127.0.0.1:9095", f"127.0.0.1:{receiver_port}")
    (workdir / "alertmanager.yml").write_text(config)
    alertmanager = [
        debian_tool("prometheus-alertmanager", "prometheus-alertmanager"),
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{alertmanager_port}",
        "--cluster.listen-address=",
    ]
    url = f"http://127.0.0.1:{alertmanager_port}"
    with (
        serving(receiver, f"http://127.0.0.1:{receiver_port}/-/healthy", workdir / "receiver.log"),
        serving(alertmanager, f"{url}/-/ready", workdir / "alertmanager.log"),
    ):
        yield url, data


def _records(data: Path, receiver: str, deadline: float) -> list[dict[str, object]]:
    path = data / f"{receiver}.jsonl"
    while time.monotonic() < deadline and not path.exists():
        time.sleep(0.5)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_critical_alert_is_delivered_to_page_and_watchdog_to_heartbeat(pipeline: tuple[str, Path]) -> None:
    url, data = pipeline
    http_json(
        f"{url}/api/v2/alerts",
        [
            {"labels": {"alertname": "HostDown", "severity": "critical", "host": "app1", "env": "test"}},
            {"labels": {"alertname": "Watchdog", "severity": "info", "env": "test"}},
        ],
    )
    deadline = time.monotonic() + 45  # the page route waits 10 s to group

    heartbeat = _records(data, "heartbeat", deadline)
    page = _records(data, "page", deadline)

    assert [r["payload"]["commonLabels"]["alertname"] for r in heartbeat] == ["Watchdog"]  # type: ignore[index]
    assert [r["payload"]["commonLabels"]["alertname"] for r in page] == ["HostDown"]  # type: ignore[index]
    assert page[0]["payload"]["status"] == "firing"  # type: ignore[index]
