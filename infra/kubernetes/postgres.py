"""PostgreSQL as a one-replica StatefulSet with a persistent volume and a metrics exporter sidecar."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.kubernetes.namespace import POSTGRES_SECRET
from infra.kubernetes.pods import (
    container_security,
    empty_dir,
    labels,
    metadata,
    pod_security,
    resources,
    secret_env,
    selector,
)

POSTGRES_UID = 999  # the postgres user of the Debian-based official image
EXPORTER_UID = 65534
EXPORTER_IMAGE = "quay.io/prometheuscommunity/postgres-exporter:v0.17.1"
PORT = 5432
METRICS_PORT = 9187
SERVICE_NAME = "postgres"


@dataclass(frozen=True)
class PostgresArgs:
    namespace: str
    stack: str
    image: str
    db_name: str
    db_user: str
    storage_gb: int
    storage_class: str


class Postgres(pulumi.ComponentResource):
    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:postgres:Postgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pods = selector(args.stack, "postgres")
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=metadata(
                SERVICE_NAME,
                args.namespace,
                args.stack,
                "postgres",
                extra_labels={"slipway.dev/job": "postgres"},
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=pods,
                ports=[
                    k8s.core.v1.ServicePortArgs(name="postgres", port=PORT, target_port="postgres"),
                    k8s.core.v1.ServicePortArgs(name="metrics", port=METRICS_PORT, target_port="metrics"),
                ],
            ),
            opts=child,
        )
        ready = k8s.core.v1.ProbeArgs(
            exec_=k8s.core.v1.ExecActionArgs(
                command=["pg_isready", "-h", "127.0.0.1", "-U", args.db_user, "-d", args.db_name]
            ),
            period_seconds=10,
            failure_threshold=3,
        )
        postgres = k8s.core.v1.ContainerArgs(
            name="postgres",
            image=args.image,
            image_pull_policy="IfNotPresent",
            ports=[k8s.core.v1.ContainerPortArgs(name="postgres", container_port=PORT)],
            env=[
                k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=args.db_user),
                k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=args.db_name),
                k8s.core.v1.EnvVarArgs(name="PGDATA", value="/var/lib/postgresql/data/pgdata"),
                secret_env("POSTGRES_PASSWORD", POSTGRES_SECRET, "password"),
            ],
            readiness_probe=ready,
            liveness_probe=ready,
            resources=resources("250m", "512Mi", "1"),
            security_context=container_security(POSTGRES_UID),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="data", mount_path="/var/lib/postgresql/data"),
                k8s.core.v1.VolumeMountArgs(name="run", mount_path="/var/run/postgresql"),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),  # noqa: S108 - an emptyDir
            ],
        )
        exporter = k8s.core.v1.ContainerArgs(
            name="exporter",
            image=EXPORTER_IMAGE,
            image_pull_policy="IfNotPresent",
            ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=METRICS_PORT)],
            env=[secret_env("DATA_SOURCE_NAME", POSTGRES_SECRET, "exporter-dsn")],
            readiness_probe=k8s.core.v1.ProbeArgs(
                http_get=k8s.core.v1.HTTPGetActionArgs(path="/metrics", port="metrics"), period_seconds=30
            ),
            liveness_probe=k8s.core.v1.ProbeArgs(
                http_get=k8s.core.v1.HTTPGetActionArgs(path="/metrics", port="metrics"), period_seconds=30
            ),
            resources=resources("10m", "64Mi", "100m"),
            security_context=container_security(EXPORTER_UID),
        )
        claim = k8s.core.v1.PersistentVolumeClaimArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(name="data"),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteOnce"],
                storage_class_name=args.storage_class or None,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": f"{args.storage_gb}Gi"}),
            ),
        )
        self.statefulset = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=metadata("postgres", args.namespace, args.stack, "postgres"),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name=SERVICE_NAME,
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pods),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(args.stack, "postgres")),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        security_context=pod_security(POSTGRES_UID),
                        # Postgres needs time for a clean shutdown checkpoint.
                        termination_grace_period_seconds=60,
                        containers=[postgres, exporter],
                        volumes=[empty_dir("run", "16Mi"), empty_dir("tmp")],
                    ),
                ),
                volume_claim_templates=[claim],
            ),
            opts=child,
        )
        self.register_outputs({"service": self.service.metadata.name})
