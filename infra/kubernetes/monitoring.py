"""kube-prometheus-stack, ServiceMonitors for the app's jobs, and dashboards/ as PrometheusRules and
Grafana dashboard ConfigMaps (the same files the mon host uses on local and aws).

Which jobs there are comes from the app definition: the web process when it has a metrics path, each
worker whose health port serves metrics, and the data services it lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.dashboards_source import Dashboard, RuleFile
from infra.kubernetes.pods import INGRESS_NAMESPACE, MONITORING_NAMESPACE, labels, metadata, selector

CHART_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
DASHBOARD_LABEL = "grafana_dashboard"
JOB_LABEL = "slipway.dev/job"
# Jobs the chart scrapes, relabelled to the names the shared rules use (see stack_values), and the
# ingress controller scraped as nginx.
CHART_JOBS = ("node", "prometheus", "alertmanager", "nginx")
_JOB = re.compile(r'job="([^"]+)"')


@dataclass(frozen=True)
class ScrapeJob:
    """One ServiceMonitor: the job, the Service port it scrapes by name, and the path."""

    job: str
    port: str
    path: str = "/metrics"


def job_relabeling(job: str, host_source: str) -> list[dict[str, object]]:
    """Relabelings that give a chart's scrape target the job name and host label the rules use."""
    return [
        {"action": "replace", "targetLabel": "job", "replacement": job},
        {"action": "replace", "sourceLabels": [host_source], "targetLabel": "host"},
    ]


def rules_for_kubernetes(groups: list[dict[str, Any]], jobs: set[str]) -> list[dict[str, Any]]:
    """The rule groups without the rules that need a job this stack does not scrape: they would alert
    forever (no blackbox exporter here, TLS expiry is cert-manager's business; no Redis rules for an
    app without Redis)."""
    kept = []
    for group in groups:
        rules = [rule for rule in group["rules"] if set(_JOB.findall(str(rule.get("expr", "")))) <= jobs]
        if rules:
            kept.append(group | {"rules": rules})
    return kept


@dataclass(frozen=True)
class MonitoringArgs:
    namespace: str
    stack: str
    install_stack: bool
    chart_version: str
    grafana_admin_password: pulumi.Output[str] | None
    rule_files: list[RuleFile]
    dashboards: list[Dashboard]
    scraped: list[ScrapeJob]


def stack_values(admin_password: pulumi.Input[str] | None) -> dict[str, object]:
    """kube-prometheus-stack values: pick up every rule, monitor and dashboard, not only the chart's own."""
    pod = "__meta_kubernetes_pod_name"
    return {
        # The shared rules know the jobs as node, prometheus and alertmanager (the mon host's names).
        "prometheus-node-exporter": {
            "prometheus": {"monitor": {"relabelings": job_relabeling("node", "__meta_kubernetes_pod_node_name")}}
        },
        "alertmanager": {"enabled": True, "serviceMonitor": {"relabelings": job_relabeling("alertmanager", pod)}},
        "prometheus": {
            "serviceMonitor": {"relabelings": job_relabeling("prometheus", pod)},
            "prometheusSpec": {
                "ruleSelectorNilUsesHelmValues": False,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "retention": "15d",
            },
        },
        "grafana": {
            "adminPassword": admin_password,
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": DASHBOARD_LABEL,
                    "labelValue": "1",
                    "searchNamespace": "ALL",
                }
            },
        },
    }


class Monitoring(pulumi.ComponentResource):
    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:monitoring:Monitoring", name, None, opts)
        self.release = None
        depends: list[pulumi.Resource] = []
        if args.install_stack:
            self.release = k8s.helm.v3.Release(
                f"{name}-stack",
                name="kube-prometheus-stack",
                chart="kube-prometheus-stack",
                version=args.chart_version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
                namespace=MONITORING_NAMESPACE,
                create_namespace=True,
                atomic=True,
                cleanup_on_fail=True,
                timeout=900,
                values=stack_values(args.grafana_admin_password),
                opts=pulumi.ResourceOptions(parent=self),
            )
            depends = [self.release]
        # Custom resources need the operator's CRDs, which the release installs.
        after = pulumi.ResourceOptions(parent=self, depends_on=depends)
        for scrape in args.scraped:
            k8s.apiextensions.CustomResource(
                f"{name}-{scrape.job}-monitor",
                api_version="monitoring.coreos.com/v1",
                kind="ServiceMonitor",
                metadata=metadata(f"slipway-{scrape.job}", args.namespace, args.stack, "monitoring"),
                spec={
                    "jobLabel": JOB_LABEL,
                    "selector": {"matchLabels": selector(args.stack, scrape.job) | {JOB_LABEL: scrape.job}},
                    "endpoints": [
                        {
                            "port": scrape.port,
                            "path": scrape.path,
                            "interval": "15s",
                            # The contract's `host` label: the pod stands in for the fleet host.
                            "relabelings": [
                                {
                                    "action": "replace",
                                    "sourceLabels": ["__meta_kubernetes_pod_name"],
                                    "targetLabel": "host",
                                }
                            ],
                        }
                    ],
                },
                opts=after,
            )
        jobs = {scrape.job for scrape in args.scraped} | set(CHART_JOBS)
        self.rules = [
            k8s.apiextensions.CustomResource(
                f"{name}-rules-{rule_file.name}",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata=metadata(f"slipway-{rule_file.name}", args.namespace, args.stack, "monitoring"),
                spec={"groups": rules_for_kubernetes(rule_file.groups, jobs)},
                opts=after,
            )
            for rule_file in args.rule_files
            if rules_for_kubernetes(rule_file.groups, jobs)
        ]
        # The ingress controller is the nginx of this platform: scrape it as the `nginx` job.
        k8s.apiextensions.CustomResource(
            f"{name}-nginx-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata=metadata("slipway-nginx", args.namespace, args.stack, "monitoring"),
            spec={
                "namespaceSelector": {"matchNames": [INGRESS_NAMESPACE]},
                "selector": {"matchLabels": {"app.kubernetes.io/name": "nginx-ingress"}},
                "podMetricsEndpoints": [
                    {
                        "port": "prometheus",
                        "path": "/metrics",
                        "interval": "15s",
                        "relabelings": job_relabeling("nginx", "__meta_kubernetes_pod_name"),
                    }
                ],
            },
            opts=after,
        )
        self.dashboards = [
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{dashboard.name}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"slipway-dashboard-{dashboard.name}",
                    namespace=args.namespace,
                    labels=labels(args.stack, "monitoring") | {DASHBOARD_LABEL: "1"},
                ),
                data={dashboard.filename: dashboard.json_text},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for dashboard in args.dashboards
        ]
        self.register_outputs({"rules": len(self.rules), "dashboards": len(self.dashboards)})
