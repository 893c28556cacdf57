"""Grafana provisioning files: the Prometheus and Alertmanager datasources and the dashboard provider."""

from __future__ import annotations

from typing import Any

from dashboards.boards.common import ALERTMANAGER_DATASOURCE_UID, DATASOURCE_UID

# Defaults for a Grafana on the mon host; the monitoring role may template other URLs and paths.
PROMETHEUS_URL = "http://127.0.0.1:9090"
ALERTMANAGER_URL = "http://127.0.0.1:9093"
DASHBOARDS_PATH = "/var/lib/grafana/dashboards/slipway"
SCRAPE_INTERVAL = "15s"


def datasources() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": DATASOURCE_UID,
                "access": "proxy",
                "url": PROMETHEUS_URL,
                "isDefault": True,
                "editable": False,
                "jsonData": {"httpMethod": "POST", "timeInterval": SCRAPE_INTERVAL},
            },
            {
                "name": "Alertmanager",
                "type": "alertmanager",
                "uid": ALERTMANAGER_DATASOURCE_UID,
                "access": "proxy",
                "url": ALERTMANAGER_URL,
                "editable": False,
                "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False},
            },
        ],
    }


def dashboard_provider() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "slipway",
                "orgId": 1,
                "folder": "Slipway",
                "type": "file",
                # The JSON in the repository is the source of truth: edits in the UI are refused.
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": DASHBOARDS_PATH},
            }
        ],
    }
