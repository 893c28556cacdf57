"""The kubernetes platform: namespace, Secrets, PostgreSQL, Redis, the app, policies, ingress, monitoring."""

from __future__ import annotations

from typing import Any

import pulumi

from infra import dashboards_source, outputs
from infra.config import KubernetesSettings, Settings
from infra.kubernetes.app import App, AppArgs
from infra.kubernetes.ingress import Ingress, IngressArgs
from infra.kubernetes.monitoring import Monitoring, MonitoringArgs
from infra.kubernetes.namespace import AppNamespace, AppNamespaceArgs
from infra.kubernetes.network_policies import NetworkPolicies, NetworkPoliciesArgs
from infra.kubernetes.postgres import Postgres, PostgresArgs
from infra.kubernetes.redis import Redis, RedisArgs
from infra.kubernetes.release_state import ReleaseState, ReleaseStateArgs

DB_NAME = "slipway"
DB_USER = "slipway"


def build(settings: Settings, cfg: KubernetesSettings) -> dict[str, Any]:
    """Declare the kubernetes environment; return the stack outputs by name."""
    name, stack, ns = settings.name, settings.stack, cfg.namespace
    namespace = AppNamespace(
        f"{name}-ns",
        AppNamespaceArgs(ns, stack, DB_NAME, DB_USER, cfg.db_password, cfg.redis_password, cfg.secret_key),
    )
    in_namespace = pulumi.ResourceOptions(depends_on=[namespace])
    NetworkPolicies(
        f"{name}-netpol",
        NetworkPoliciesArgs(ns, stack, settings.app_port, settings.worker_metrics_port),
        in_namespace,
    )
    database = Postgres(
        f"{name}-postgres",
        PostgresArgs(ns, stack, cfg.postgres_image, DB_NAME, DB_USER, cfg.db_storage_gb, cfg.storage_class),
        in_namespace,
    )
    cache = Redis(f"{name}-redis", RedisArgs(ns, stack, cfg.redis_image, cfg.storage_class), in_namespace)
    release_state = ReleaseState(
        f"{name}-release-state", ReleaseStateArgs(ns, stack, settings.first_image, cfg.storage_class), in_namespace
    )
    app = App(
        f"{name}-app",
        AppArgs(
            namespace=ns,
            stack=stack,
            image=settings.image,
            version=settings.app_image_tag,
            app_env=settings.app_env,
            domain=settings.domain,
            app_port=settings.app_port,
            worker_metrics_port=settings.worker_metrics_port,
            log_level=settings.log_level,
            max_upload_bytes=settings.max_upload_bytes,
            rate_limit_per_minute=settings.rate_limit_per_minute,
            shutdown_grace_seconds=settings.shutdown_grace_seconds,
            api_min_replicas=settings.app_count,
            api_max_replicas=cfg.api_max_replicas,
            worker_min_replicas=cfg.worker_min_replicas,
            worker_max_replicas=cfg.worker_max_replicas,
            video_storage_gb=cfg.video_storage_gb,
            storage_class=cfg.storage_class,
        ),
        pulumi.ResourceOptions(depends_on=[namespace, database, cache]),
    )
    Ingress(
        f"{name}-ingress",
        IngressArgs(
            namespace=ns,
            stack=stack,
            domain=settings.domain,
            tls_secret_name=cfg.tls_secret_name,
            cert_manager_issuer=cfg.cert_manager_issuer,
            chart_version=cfg.ingress_chart_version,
            max_upload_bytes=settings.max_upload_bytes,
            controller_replicas=2 if settings.production else 1,
        ),
        in_namespace,
    )
    Monitoring(
        f"{name}-monitoring",
        MonitoringArgs(
            namespace=ns,
            stack=stack,
            install_stack=cfg.monitoring_stack,
            chart_version=cfg.monitoring_chart_version,
            grafana_admin_password=cfg.grafana_admin_password,
            rule_files=dashboards_source.rule_files(),
            dashboards=dashboards_source.dashboards(),
        ),
        in_namespace,
    )
    return {
        outputs.NAMESPACE: namespace.namespace.metadata.name,
        outputs.API_DEPLOYMENT: app.api.metadata.name,
        outputs.WORKER_DEPLOYMENT: app.worker.metadata.name,
        outputs.MIGRATION_JOB: app.migration.metadata.name,
        outputs.IMAGE: settings.image,
        outputs.RELEASE_STATE: release_state.statefulset.metadata.name,
        outputs.URL: f"https://{settings.domain}",
    }
