"""Grafana dashboards of the kit, built with grafana-foundation-sdk (Grafana 11.6 types)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards.boards import api, hosts, nginx, postgres, redis, worker

BUILDERS: tuple[Callable[[], Dashboard], ...] = (
    api.build,
    worker.build,
    postgres.build,
    redis.build,
    nginx.build,
    hosts.build,
)

# What the dashboards' template variables stand for when a query runs outside Grafana.
_VARIABLE_DEFAULTS = {"$host": ".*"}


@dataclass(frozen=True)
class PanelQuery:
    dashboard_uid: str
    panel_title: str
    ref_id: str
    expr: str


def render_dashboards() -> dict[str, str]:
    """File name (<uid>.json) -> dashboard JSON, for every dashboard."""
    rendered = {}
    for build in BUILDERS:
        model = build().build()
        rendered[f"{model.uid}.json"] = JSONEncoder(sort_keys=True, indent=2).encode(model) + "\n"
    return rendered


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # children of collapsed rows


def panel_queries(rate_interval: str = "5m") -> list[PanelQuery]:
    """Every query of every panel, with Grafana's macros and variables replaced, ready for Prometheus."""
    queries = []
    for text in render_dashboards().values():
        dashboard = json.loads(text)
        for panel in _panels(dashboard):
            for target in panel.get("targets", []):
                expr = target["expr"].replace("$__rate_interval", rate_interval)
                for variable, value in _VARIABLE_DEFAULTS.items():
                    expr = expr.replace(variable, value)
                queries.append(PanelQuery(dashboard["uid"], panel["title"], target["refId"], expr))
    return queries
