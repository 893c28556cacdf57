"""dashboards/ feeds the kubernetes platform, with no files or many."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]  # no stubs in the lock file
import pytest

from infra import dashboards_source
from infra.dashboards_source import DashboardSourceError
from infra.kubernetes.monitoring import rules_for_kubernetes
from tests.infra.pulumi_mocks import config_with_secrets, run_program
from tests.infra.schemas import CRD_SPECS

RULES = """\
groups:
  - name: slipway-api
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 2m
        labels: {severity: page}
        annotations: {summary: The API is down, runbook_url: ops/runbooks/api-down.md}
"""
PROMTOOL_TEST = "rule_files: [api.yml]\ntests: []\n"
DASHBOARD = {"title": "Slipway API", "panels": [], "schemaVersion": 39}


def test_reads_nothing_from_empty_folders(tmp_path: Path) -> None:
    assert dashboards_source.rule_files(tmp_path) == []
    assert dashboards_source.dashboards(tmp_path) == []


def test_reads_rule_files_and_skips_promtool_tests(tmp_path: Path) -> None:
    (tmp_path / "API Alerts.yml").write_text(RULES)
    (tmp_path / "api_test.yml").write_text(PROMTOOL_TEST)
    (found,) = dashboards_source.rule_files(tmp_path)
    assert found.name == "api-alerts"
    assert found.groups[0]["rules"][1]["alert"] == "ApiDown"


def test_names_a_rule_file_that_is_not_yaml(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("groups: [unclosed\n")
    with pytest.raises(DashboardSourceError, match=r"broken\.yaml"):
        dashboards_source.rule_files(tmp_path)


def test_names_a_rule_file_with_malformed_groups(tmp_path: Path) -> None:
    (tmp_path / "odd.yml").write_text("groups: {name: x}\n")
    with pytest.raises(DashboardSourceError, match=r"odd\.yml: `groups`"):
        dashboards_source.rule_files(tmp_path)


def test_names_a_dashboard_that_is_not_json(tmp_path: Path) -> None:
    (tmp_path / "api.json").write_text("{not json")
    with pytest.raises(DashboardSourceError, match=r"api\.json"):
        dashboards_source.dashboards(tmp_path)


def test_ships_every_rule_file_and_dashboard_on_kubernetes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules, grafana = tmp_path / "rules", tmp_path / "grafana"
    rules.mkdir()
    grafana.mkdir()
    for name in ("api", "infrastructure"):
        (rules / f"{name}.yml").write_text(RULES)
        (grafana / f"{name}.json").write_text(json.dumps(DASHBOARD))
    monkeypatch.setattr(dashboards_source, "RULES_DIR", rules)
    monkeypatch.setattr(dashboards_source, "GRAFANA_DIR", grafana)
    config, secret_keys = config_with_secrets("k8s-dev")
    run = run_program("k8s-dev", config, secret_keys)

    prometheus_rules = run.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert sorted(r.plain["metadata"]["name"] for r in prometheus_rules) == [
        "slipway-api",
        "slipway-infrastructure",
    ]
    for rule in prometheus_rules:
        jsonschema.validate(rule.plain["spec"], CRD_SPECS["PrometheusRule"])
    maps = [c.plain for c in run.of_type("kubernetes:core/v1:ConfigMap") if "dashboard" in c.name]
    assert len(maps) == 2
    for config_map in maps:
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        (text,) = config_map["data"].values()
        assert json.loads(text) == DASHBOARD


def test_operator_schema_refuses_a_rule_without_expr() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"groups": [{"name": "g", "rules": [{"alert": "X"}]}]}, CRD_SPECS["PrometheusRule"])


def test_kubernetes_leaves_out_rules_for_jobs_it_does_not_run() -> None:
    groups = [
        {
            "name": "tls",
            "rules": [{"alert": "TlsExpiring", "expr": 'probe_ssl_earliest_cert_expiry{job="blackbox"} < 1'}],
        },
        {
            "name": "api",
            "rules": [
                {"alert": "ApiDown", "expr": 'up{job="api"} == 0'},
                {"alert": "NoProbe", "expr": 'absent(up{job="blackbox"})'},
            ],
        },
    ]
    assert rules_for_kubernetes(groups, {"api", "node"}) == [
        {"name": "api", "rules": [{"alert": "ApiDown", "expr": 'up{job="api"} == 0'}]}
    ]


def test_kubernetes_leaves_out_rules_for_data_services_the_app_does_not_use() -> None:
    groups = [{"name": "redis", "rules": [{"alert": "RedisDown", "expr": 'up{job="redis"} == 0'}]}]
    assert rules_for_kubernetes(groups, {"api", "postgres"}) == []
