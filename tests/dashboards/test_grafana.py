"""The generated Grafana dashboards and provisioning files, and their queries in a real Prometheus."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from dashboards import catalog
from dashboards.boards import PanelQuery, panel_queries, render_dashboards
from dashboards.boards.common import DATASOURCE_UID
from dashboards.fleet import SCRAPE_JOBS
from tests.dashboards.tools import REPO_ROOT, RULES_DIR, debian_tool, free_port, http_json, serving

GRAFANA_DIR = REPO_ROOT / "dashboards" / "grafana"
DASHBOARDS = {name: json.loads(text) for name, text in render_dashboards().items()}
QUERIES = panel_queries()


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def test_dashboards_cover_every_part_of_the_fleet() -> None:
    assert sorted(DASHBOARDS) == [
        "slipway-api.json",
        "slipway-hosts.json",
        "slipway-nginx.json",
        "slipway-postgres.json",
        "slipway-redis.json",
        "slipway-worker.json",
    ]


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_targets_grafana_11_6_schema(name: str) -> None:
    dashboard = DASHBOARDS[name]

    assert dashboard["uid"] == name.removesuffix(".json")
    assert dashboard["title"].startswith("Slipway / ")
    assert dashboard["schemaVersion"] == 41
    assert "id" not in dashboard or dashboard["id"] is None


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_uses_the_provisioned_datasource(name: str) -> None:
    for panel in _panels(DASHBOARDS[name]):
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert all(ref_ids), panel["title"]
        assert len(set(ref_ids)) == len(ref_ids), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_has_title_description_and_unit(name: str) -> None:
    for panel in _panels(DASHBOARDS[name]):
        assert panel["title"], panel
        assert panel["description"], panel["title"]
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]


def test_api_dashboard_shows_red_slo_budget_and_burn_rate() -> None:
    exprs = " ".join(q.expr for q in QUERIES if q.dashboard_uid == "slipway-api")

    for needle in (
        "sum by (route) (rate(http_requests_total",
        'status=~"5.."',
        "http_request_duration_seconds_bucket",
        "slo:period_error_budget_remaining:ratio",
        "slo:current_burn_rate:ratio",
    ):
        assert needle in exprs


def test_panel_queries_select_only_the_fleets_scrape_jobs() -> None:
    jobs = {job for query in QUERIES for job in re.findall(r'job="([^"]+)"', query.expr)}

    assert jobs <= set(SCRAPE_JOBS)
    assert {"api", "worker", "node", "postgres", "redis", "nginx"} <= jobs


def test_panel_queries_read_only_recorded_slo_series() -> None:
    recorded = {
        rule["record"]
        for path in RULES_DIR.glob("*.rules.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    used = {name for query in QUERIES for name in re.findall(r"\bslo:[a-z_0-9:]+", query.expr)}

    assert used
    assert used <= recorded


def test_panel_queries_have_no_grafana_placeholders_left() -> None:
    assert [q for q in QUERIES if "$" in q.expr] == []


def test_provisioned_datasource_has_the_dashboards_uid() -> None:
    provisioned = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "slipway.yaml").read_text())
    prometheus = [ds for ds in provisioned["datasources"] if ds["type"] == "prometheus"]

    assert [ds["uid"] for ds in prometheus] == [DATASOURCE_UID]


def test_dashboard_provider_reads_files() -> None:
    provider = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "slipway.yaml").read_text())

    assert provider["providers"][0]["type"] == "file"
    assert provider["providers"][0]["options"]["path"]


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus (Debian's) on loopback with the kit's rule files loaded and no targets."""
    binary = debian_tool("prometheus", "prometheus")
    workdir = tmp_path_factory.mktemp("prometheus")
    config = workdir / "prometheus.yml"
    config.write_text(yaml.safe_dump({"rule_files": [str(p) for p in sorted(RULES_DIR.glob("*.rules.yml"))]}))
    port = free_port()
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    with serving(command, f"{url}/-/ready", workdir / "prometheus.log"):
        yield url


def _instant_query(url: str, expr: str) -> dict[str, Any]:
    query = urllib.parse.urlencode({"query": expr})
    result: dict[str, Any] = http_json(f"{url}/api/v1/query?{query}")
    return result


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.dashboard_uid}:{q.panel_title}:{q.ref_id}")
def test_panel_query_is_accepted_by_prometheus(prometheus_url: str, query: PanelQuery) -> None:
    assert _instant_query(prometheus_url, query.expr)["status"] == "success"


def test_prometheus_loads_every_rule_file(prometheus_url: str) -> None:
    groups = http_json(f"{prometheus_url}/api/v1/rules")["data"]["groups"]
    loaded = {rule["name"] for group in groups for rule in group["rules"] if rule["type"] == "alerting"}

    assert loaded == set(catalog.alert_names())


def test_committed_grafana_files_match_generation() -> None:
    committed = {path.name for path in (GRAFANA_DIR / "dashboards").glob("*.json")}

    assert committed == set(DASHBOARDS)
    for name, text in DASHBOARDS.items():
        assert json.loads((GRAFANA_DIR / "dashboards" / name).read_text()) == text
