"""The app: migration Job, API and worker Deployments, their Services, HPAs and PDBs, the video volume.

A release is a new `appImageTag`: the Job named after the tag runs `python -m app migrate` (expand
only, safe while the old version serves) and the Deployments roll only once it has succeeded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.kubernetes.namespace import APP_SECRET
from infra.kubernetes.pods import (
    APP_UID,
    container_security,
    empty_dir,
    labels,
    metadata,
    pod_security,
    resources,
    selector,
)

CONFIG_MAP = "slipway-app"
VIDEO_CLAIM = "slipway-videos"
STORAGE_PATH = "/srv/videos"
API_SERVICE = "slipway-api"
WORKER_SERVICE = "slipway-worker"
PRE_STOP_SECONDS = 5  # endpoints drop the pod before SIGTERM arrives


@dataclass(frozen=True)
class AppArgs:
    namespace: str
    stack: str
    image: str
    version: str
    app_env: str
    domain: str
    app_port: int
    worker_metrics_port: int
    log_level: str
    max_upload_bytes: int
    rate_limit_per_minute: int
    shutdown_grace_seconds: int
    api_min_replicas: int
    api_max_replicas: int
    worker_min_replicas: int
    worker_max_replicas: int
    video_storage_gb: int
    storage_class: str


def job_name(version: str) -> str:
    """A DNS-label name per release, so each tag gets its own (immutable) migration Job."""
    slug = re.sub(r"[^a-z0-9-]+", "-", version.lower()).strip("-")[:40].strip("-")
    return f"slipway-migrate-{slug or 'release'}"


class App(pulumi.ComponentResource):
    def __init__(self, name: str, args: AppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:app:App", name, None, opts)
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        ns, stack = args.namespace, args.stack
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=metadata(CONFIG_MAP, ns, stack, "config"),
            data={
                "APP_ENV": args.app_env,
                "APP_VERSION": args.version,
                "PORT": str(args.app_port),
                "WORKER_METRICS_PORT": str(args.worker_metrics_port),
                "STORAGE_BACKEND": "filesystem",
                "STORAGE_PATH": STORAGE_PATH,
                "MAX_UPLOAD_BYTES": str(args.max_upload_bytes),
                "CORS_ORIGINS": json.dumps([f"https://{args.domain}"]),
                # The Ingress routes only the domain, so it is the host check here: kubelet probes
                # and Prometheus address pods by IP, which a host allow-list would refuse.
                "TRUSTED_HOSTS": json.dumps(["*"]),
                "RATE_LIMIT_PER_MINUTE": str(args.rate_limit_per_minute),
                "LOG_LEVEL": args.log_level,
                "SHUTDOWN_GRACE_SECONDS": str(args.shutdown_grace_seconds),
                "FAULT_INJECTION": "false",
            },
            opts=child,
        )
        videos = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-videos",
            metadata=metadata(VIDEO_CLAIM, ns, stack, "storage"),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                # API pods write uploads, worker pods read them, on any node.
                access_modes=["ReadWriteMany"],
                storage_class_name=args.storage_class or None,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                    requests={"storage": f"{args.video_storage_gb}Gi"}
                ),
            ),
            opts=child,
        )
        after_config = pulumi.ResourceOptions(parent=self, depends_on=[config, videos])
        self.migration = k8s.batch.v1.Job(
            f"{name}-migrate",
            metadata=metadata(job_name(args.version), ns, stack, "migrate"),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=2,
                active_deadline_seconds=900,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(stack, "migrate", args.version)),
                    spec=self._pod_spec(
                        [self._container("migrate", ["python", "-m", "app", "migrate"], ports=[])],
                        restart_policy="Never",
                        grace=30,
                    ),
                ),
            ),
            opts=after_config,
        )
        after_migration = pulumi.ResourceOptions(parent=self, depends_on=[config, videos, self.migration])
        self.api = self._deployment(
            f"{name}-api",
            "api",
            self._container(
                "api",
                ["python", "-m", "app", "serve"],
                ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=args.app_port)],
                probe_port="http",
                lifecycle=k8s.core.v1.LifecycleArgs(
                    pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                        sleep=k8s.core.v1.SleepActionArgs(seconds=PRE_STOP_SECONDS)
                    )
                ),
                compute=resources("250m", "512Mi", "1"),
            ),
            grace=args.shutdown_grace_seconds + PRE_STOP_SECONDS + 10,
            opts=after_migration,
        )
        self.worker = self._deployment(
            f"{name}-worker",
            "worker",
            self._container(
                "worker",
                ["python", "-m", "app", "worker"],
                ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=args.worker_metrics_port)],
                probe_port="metrics",
                compute=resources("500m", "1Gi", "2"),
            ),
            # A worker finishes or hands back its current video before it exits.
            grace=args.shutdown_grace_seconds + 60,
            opts=after_migration,
        )
        for component, service_name, port_name, port, target in (
            ("api", API_SERVICE, "http", 80, "http"),
            ("worker", WORKER_SERVICE, "metrics", args.worker_metrics_port, "metrics"),
        ):
            k8s.core.v1.Service(
                f"{name}-{component}-service",
                metadata=metadata(service_name, ns, stack, component, extra_labels={"slipway.dev/job": component}),
                spec=k8s.core.v1.ServiceSpecArgs(
                    type="ClusterIP",
                    selector=selector(stack, component),
                    ports=[k8s.core.v1.ServicePortArgs(name=port_name, port=port, target_port=target)],
                ),
                opts=child,
            )
        for component, deployment, low, high, cpu in (
            ("api", self.api, args.api_min_replicas, args.api_max_replicas, 70),
            ("worker", self.worker, args.worker_min_replicas, args.worker_max_replicas, 75),
        ):
            self._autoscale(name, component=component, deployment=deployment, low=low, high=high, cpu=cpu)
        self.register_outputs(
            {
                "api": self.api.metadata.name,
                "worker": self.worker.metadata.name,
                "migration": self.migration.metadata.name,
            }
        )

    def _container(
        self,
        name: str,
        command: list[str],
        *,
        ports: list[k8s.core.v1.ContainerPortArgs],
        probe_port: str | None = None,
        lifecycle: k8s.core.v1.LifecycleArgs | None = None,
        compute: k8s.core.v1.ResourceRequirementsArgs | None = None,
    ) -> k8s.core.v1.ContainerArgs:
        def probe(path: str, period: int, failures: int) -> k8s.core.v1.ProbeArgs | None:
            if probe_port is None:
                return None
            # The worker serves only metrics; the API answers the app contract's health paths.
            if probe_port == "metrics":
                path = "/metrics"
            return k8s.core.v1.ProbeArgs(
                http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=probe_port),
                period_seconds=period,
                timeout_seconds=2,
                failure_threshold=failures,
            )

        return k8s.core.v1.ContainerArgs(
            name=name,
            image=self._args.image,
            image_pull_policy="IfNotPresent",
            command=command,
            ports=ports,
            env_from=[
                k8s.core.v1.EnvFromSourceArgs(config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=CONFIG_MAP)),
                k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=APP_SECRET)),
            ],
            startup_probe=probe("/health/live", 2, 30),
            readiness_probe=probe("/health/ready", 5, 2),
            liveness_probe=probe("/health/live", 10, 3),
            lifecycle=lifecycle,
            resources=compute or resources("250m", "512Mi", "1"),
            security_context=container_security(APP_UID),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="videos", mount_path=STORAGE_PATH),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),  # noqa: S108 - an emptyDir
            ],
        )

    def _pod_spec(
        self,
        containers: list[k8s.core.v1.ContainerArgs],
        *,
        restart_policy: str,
        grace: int,
        component: str = "",
    ) -> k8s.core.v1.PodSpecArgs:
        spread = None
        if component:
            spread = [
                k8s.core.v1.TopologySpreadConstraintArgs(
                    max_skew=1,
                    topology_key=key,
                    when_unsatisfiable="ScheduleAnyway",
                    label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector(self._args.stack, component)),
                )
                for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
            ]
        return k8s.core.v1.PodSpecArgs(
            automount_service_account_token=False,
            security_context=pod_security(APP_UID),
            restart_policy=restart_policy,
            termination_grace_period_seconds=grace,
            topology_spread_constraints=spread,
            containers=containers,
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="videos",
                    persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=VIDEO_CLAIM),
                ),
                empty_dir("tmp", "1Gi"),
            ],
        )

    def _deployment(
        self,
        resource_name: str,
        component: str,
        container: k8s.core.v1.ContainerArgs,
        *,
        grace: int,
        opts: pulumi.ResourceOptions,
    ) -> k8s.apps.v1.Deployment:
        args = self._args
        return k8s.apps.v1.Deployment(
            resource_name,
            metadata=metadata(f"slipway-{component}", args.namespace, args.stack, component),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                # No replicas: the HPA owns the count, and `pulumi up` must not fight it.
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector(args.stack, component)),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
                ),
                min_ready_seconds=5,
                revision_history_limit=5,
                progress_deadline_seconds=600,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(args.stack, component, args.version)),
                    spec=self._pod_spec([container], restart_policy="Always", grace=grace, component=component),
                ),
            ),
            opts=opts,
        )

    def _autoscale(
        self, name: str, *, component: str, deployment: k8s.apps.v1.Deployment, low: int, high: int, cpu: int
    ) -> None:
        args = self._args
        child = pulumi.ResourceOptions(parent=self)
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-{component}-hpa",
            metadata=metadata(f"slipway-{component}", args.namespace, args.stack, component),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=deployment.metadata.name
                ),
                min_replicas=low,
                max_replicas=high,
                metrics=[
                    k8s.autoscaling.v2.MetricSpecArgs(
                        type="Resource",
                        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                            name="cpu",
                            target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=cpu),
                        ),
                    )
                ],
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(stabilization_window_seconds=300)
                ),
            ),
            opts=child,
        )
        # Voluntary disruptions (node drains) take one pod at a time, and never zero.
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-{component}-pdb",
            metadata=metadata(f"slipway-{component}", args.namespace, args.stack, component),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector(args.stack, component)),
            ),
            opts=child,
        )
