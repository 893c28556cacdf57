"""Redis as a one-replica StatefulSet (AOF on a persistent volume) with a metrics exporter sidecar."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.kubernetes.namespace import REDIS_SECRET
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

REDIS_UID = 999  # the redis user of the Debian-based official image
EXPORTER_UID = 59000  # the redis_exporter image's user
EXPORTER_IMAGE = "oliver006/redis_exporter:v1.67.0"
PORT = 6379
METRICS_PORT = 9121
SERVICE_NAME = "redis"
STORAGE = "2Gi"


@dataclass(frozen=True)
class RedisArgs:
    namespace: str
    stack: str
    image: str
    storage_class: str


class Redis(pulumi.ComponentResource):
    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:redis:Redis", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pods = selector(args.stack, "redis")
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=metadata(
                SERVICE_NAME, args.namespace, args.stack, "redis", extra_labels={"slipway.dev/job": "redis"}
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=pods,
                ports=[
                    k8s.core.v1.ServicePortArgs(name="redis", port=PORT, target_port="redis"),
                    k8s.core.v1.ServicePortArgs(name="metrics", port=METRICS_PORT, target_port="metrics"),
                ],
            ),
            opts=child,
        )
        # The password reaches redis-cli through REDISCLI_AUTH, never its command line.
        ping = k8s.core.v1.ProbeArgs(
            exec_=k8s.core.v1.ExecActionArgs(command=["sh", "-c", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping']),
            period_seconds=10,
            failure_threshold=3,
        )
        redis = k8s.core.v1.ContainerArgs(
            name="redis",
            image=args.image,
            image_pull_policy="IfNotPresent",
            command=["redis-server", "/etc/redis/redis.conf"],
            ports=[k8s.core.v1.ContainerPortArgs(name="redis", container_port=PORT)],
            env=[secret_env("REDIS_PASSWORD", REDIS_SECRET, "password")],
            readiness_probe=ping,
            liveness_probe=ping,
            resources=resources("100m", "256Mi", "500m"),
            security_context=container_security(REDIS_UID),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="data", mount_path="/data"),
                k8s.core.v1.VolumeMountArgs(name="config", mount_path="/etc/redis", read_only=True),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),  # noqa: S108 - an emptyDir
            ],
        )
        exporter = k8s.core.v1.ContainerArgs(
            name="exporter",
            image=EXPORTER_IMAGE,
            image_pull_policy="IfNotPresent",
            ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=METRICS_PORT)],
            env=[
                k8s.core.v1.EnvVarArgs(name="REDIS_ADDR", value=f"redis://127.0.0.1:{PORT}"),
                secret_env("REDIS_PASSWORD", REDIS_SECRET, "password"),
            ],
            readiness_probe=k8s.core.v1.ProbeArgs(
                http_get=k8s.core.v1.HTTPGetActionArgs(path="/metrics", port="metrics"), period_seconds=30
            ),
            liveness_probe=k8s.core.v1.ProbeArgs(
                http_get=k8s.core.v1.HTTPGetActionArgs(path="/metrics", port="metrics"), period_seconds=30
            ),
            resources=resources("10m", "64Mi", "100m"),
            security_context=container_security(EXPORTER_UID),
        )
        self.statefulset = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=metadata("redis", args.namespace, args.stack, "redis"),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name=SERVICE_NAME,
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pods),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(args.stack, "redis")),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        security_context=pod_security(REDIS_UID),
                        termination_grace_period_seconds=30,
                        containers=[redis, exporter],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="config",
                                secret=k8s.core.v1.SecretVolumeSourceArgs(
                                    secret_name=REDIS_SECRET,
                                    items=[k8s.core.v1.KeyToPathArgs(key="redis.conf", path="redis.conf")],
                                    default_mode=0o440,
                                ),
                            ),
                            empty_dir("tmp", "64Mi"),
                        ],
                    ),
                ),
                volume_claim_templates=[
                    k8s.core.v1.PersistentVolumeClaimArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(name="data"),
                        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                            access_modes=["ReadWriteOnce"],
                            storage_class_name=args.storage_class or None,
                            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": STORAGE}),
                        ),
                    )
                ],
            ),
            opts=child,
        )
        self.register_outputs({"service": self.service.metadata.name})
