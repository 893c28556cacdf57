"""The kubernetes platform: namespace, Secrets, PostgreSQL, Redis, the app, policies, ingress, monitoring.

What the app is (processes, ports, probes, environment, the data services it needs) comes from its
definition (ops/service); the stack config says how big and where.
"""

from __future__ import annotations

import math
from typing import Any

import pulumi

from infra import dashboards_source, outputs
from infra.config import KubernetesSettings, Settings
from infra.kubernetes import postgres as postgres_module
from infra.kubernetes import redis as redis_module
from infra.kubernetes.app import WEB, App, AppArgs, object_name, worker_port_name
from infra.kubernetes.environment import Endpoint, Platform, resolve
from infra.kubernetes.ingress import Ingress, IngressArgs
from infra.kubernetes.monitoring import Monitoring, MonitoringArgs, ScrapeJob
from infra.kubernetes.namespace import AppNamespace, AppNamespaceArgs, DatabaseCredentials
from infra.kubernetes.network_policies import NetworkPolicies, NetworkPoliciesArgs
from infra.kubernetes.postgres import Postgres, PostgresArgs
from infra.kubernetes.redis import Redis, RedisArgs
from infra.kubernetes.release_state import ReleaseState, ReleaseStateArgs
from ops.service.definition import Definition


def scraped(definition: Definition) -> list[ScrapeJob]:
    """The app's scrape jobs: the web process, workers with metrics, the data services it uses."""
    jobs = [ScrapeJob(WEB, "http", definition.web.metrics)] if definition.web.metrics else []
    jobs += [
        ScrapeJob(worker.name, worker_port_name(worker), worker.health.path)
        for worker in definition.workers
        if worker.health is not None and worker.health.metrics
    ]
    jobs += [ScrapeJob(service, "metrics") for service in ("postgres", "redis") if service in definition.data.names()]
    return jobs


def max_body_mib(definition: Definition) -> int:
    """The ingress's body limit: a little above the app's upload limit for the multipart framing, as
    nginx has it on the other platforms; a small one for an app that takes no uploads."""
    uploads = definition.web.uploads
    return math.ceil(uploads.max_bytes / 1024**2) + 8 if uploads else 16


def build(settings: Settings, cfg: KubernetesSettings) -> dict[str, Any]:
    """Declare the kubernetes environment of the app definition; return the stack outputs by name."""
    name, stack, ns, definition = settings.name, settings.stack, cfg.namespace, settings.definition
    data_services: list[str] = [service for service in ("postgres", "redis") if service in definition.data.names()]
    # The database and its user are named after the service (unquoted PostgreSQL names take no dash).
    db_name = definition.service.replace("-", "_")
    database = DatabaseCredentials(db_name, db_name, cfg.db_password) if cfg.db_password is not None else None
    namespace = AppNamespace(f"{name}-ns", AppNamespaceArgs(ns, stack, database, cfg.redis_password))
    in_namespace = pulumi.ResourceOptions(depends_on=[namespace])
    workers = [worker.name for worker in definition.workers]
    NetworkPolicies(
        f"{name}-netpol",
        NetworkPoliciesArgs(
            namespace=ns,
            stack=stack,
            app_components=[WEB, *workers, "migrate"],
            web_port=definition.web.port,
            worker_ports={worker.name: worker.health.port for worker in definition.workers if worker.health},
            data_services=data_services,
        ),
        in_namespace,
    )
    data: list[pulumi.Resource] = []
    postgres_endpoint = redis_endpoint = None
    if database is not None:
        data.append(
            Postgres(
                f"{name}-postgres",
                PostgresArgs(
                    ns, stack, cfg.postgres_image, database.name, database.user, cfg.db_storage_gb, cfg.storage_class
                ),
                in_namespace,
            )
        )
        postgres_endpoint = Endpoint(
            postgres_module.SERVICE_NAME, postgres_module.PORT, database.user, database.password, database.name
        )
    if cfg.redis_password is not None:
        data.append(Redis(f"{name}-redis", RedisArgs(ns, stack, cfg.redis_image, cfg.storage_class), in_namespace))
        redis_endpoint = Endpoint(redis_module.SERVICE_NAME, redis_module.PORT, "default", cfg.redis_password)
    release_state = ReleaseState(
        f"{name}-release-state",
        ReleaseStateArgs(ns, stack, cfg.release_state_image or settings.first_image, cfg.storage_class),
        in_namespace,
    )
    environment = resolve(
        definition,
        Platform(
            stack=stack,
            web_port=definition.web.port,
            postgres=postgres_endpoint,
            redis=redis_endpoint,
            secrets=cfg.app_secrets,
            extra=cfg.extra_environment,
        ),
    )
    app = App(
        f"{name}-app",
        AppArgs(
            namespace=ns,
            stack=stack,
            image=settings.image,
            version=settings.app_image_tag,
            definition=definition,
            environment=environment,
            web_min_replicas=settings.app_count,
            web_max_replicas=cfg.api_max_replicas,
            worker_min_replicas=cfg.worker_min_replicas,
            worker_max_replicas=cfg.worker_max_replicas,
            volume_storage_gb=cfg.volume_storage_gb,
            storage_class=cfg.storage_class,
        ),
        pulumi.ResourceOptions(depends_on=[namespace, *data]),
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
            service=object_name(definition, WEB),
            max_body_mib=max_body_mib(definition),
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
            scraped=scraped(definition),
        ),
        in_namespace,
    )
    exported: dict[str, Any] = {
        outputs.NAMESPACE: namespace.namespace.metadata.name,
        outputs.API_DEPLOYMENT: app.api.metadata.name,
        outputs.DEPLOYMENTS: [app.api.metadata.name, *(d.metadata.name for d in app.workers.values())],
        outputs.IMAGE: settings.image,
        outputs.RELEASE_STATE: release_state.statefulset.metadata.name,
        outputs.URL: f"https://{settings.domain}",
    }
    # Only for an app that has them; DEPLOYMENTS names every Deployment a release waits for.
    if app.workers:
        exported[outputs.WORKER_DEPLOYMENT] = next(iter(app.workers.values())).metadata.name
    if app.migration is not None:
        exported[outputs.MIGRATION_JOB] = app.migration.metadata.name
    return exported
