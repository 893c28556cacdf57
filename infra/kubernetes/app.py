"""The app of the definition: its ConfigMap and Secret, a volume per `volumes` entry, the migration
Job (when it has `migrate`), the web Deployment and one per worker, their Services, HPAs and PDBs.

A release is a new `appImageTag`: the Job named after the tag runs the definition's migrate command
(expand only, safe while the old version serves) and the Deployments roll only once it has succeeded.
Commands are arguments to the image's entrypoint, as the definition writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.kubernetes.environment import Environment
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
from ops.service.definition import Definition, Resources, Worker

WEB = "api"  # the web process's component and scrape job, the name the shared rules use
MIGRATE = "migrate"
PRE_STOP_SECONDS = 5  # endpoints drop the pod before SIGTERM arrives
MAX_NAME = 63  # a DNS label: Service names, label values


@dataclass(frozen=True)
class AppArgs:
    namespace: str
    stack: str
    image: str
    version: str
    definition: Definition
    environment: Environment
    web_min_replicas: int
    web_max_replicas: int
    worker_min_replicas: int
    worker_max_replicas: int
    volume_storage_gb: int
    storage_class: str


def object_name(definition: Definition, component: str) -> str:
    return f"{definition.service}-{component}"


def config_name(definition: Definition) -> str:
    """The ConfigMap and the Secret the app's pods read their environment from."""
    return object_name(definition, "app")


def job_name(definition: Definition, version: str) -> str:
    """A DNS-label name per release, so each tag gets its own (immutable) migration Job."""
    prefix = object_name(definition, MIGRATE) + "-"
    slug = re.sub(r"[^a-z0-9-]+", "-", version.lower()).strip("-")[: MAX_NAME - len(prefix)].strip("-")
    return prefix + (slug or "release")


def compute(wanted: Resources) -> k8s.core.v1.ResourceRequirementsArgs:
    """The definition's memory and CPU as the limit; a quarter of the CPU as the request."""
    memory = wanted.memory[:-1] + {"k": "Ki", "m": "Mi", "g": "Gi"}[wanted.memory[-1]]
    millicores = round(wanted.cpus * 1000)
    return resources(f"{max(10, millicores // 4)}m", memory, f"{millicores}m")


def worker_port_name(worker: Worker) -> str:
    return "metrics" if worker.health is not None and worker.health.metrics else "health"


class App(pulumi.ComponentResource):
    def __init__(self, name: str, args: AppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:app:App", name, None, opts)
        self._args = args
        definition = args.definition
        child = pulumi.ResourceOptions(parent=self)
        ns, stack = args.namespace, args.stack
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=metadata(config_name(definition), ns, stack, "config"),
            data=args.environment.plain,
            opts=child,
        )
        prerequisites: list[pulumi.Resource] = [config]
        self._secret_env = bool(args.environment.secret)
        if self._secret_env:
            prerequisites.append(
                k8s.core.v1.Secret(
                    f"{name}-secret",
                    metadata=metadata(config_name(definition), ns, stack, "secrets"),
                    type="Opaque",
                    # Output.secret keeps every value encrypted in the state, even those only derived
                    # from a secret (a URL with a password in it).
                    string_data={
                        key: value.apply(pulumi.Output.secret) for key, value in args.environment.secret.items()
                    },
                    opts=child,
                )
            )
        for volume_name in definition.volumes:
            prerequisites.append(
                k8s.core.v1.PersistentVolumeClaim(
                    f"{name}-{volume_name}",
                    metadata=metadata(object_name(definition, volume_name), ns, stack, "storage"),
                    spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                        # Every process mounts it, from pods on any node.
                        access_modes=["ReadWriteMany"],
                        storage_class_name=args.storage_class or None,
                        resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                            requests={"storage": f"{args.volume_storage_gb}Gi"}
                        ),
                    ),
                    opts=child,
                )
            )
        self.migration: k8s.batch.v1.Job | None = None
        if definition.migrate is not None:
            self.migration = k8s.batch.v1.Job(
                f"{name}-migrate",
                metadata=metadata(job_name(definition, args.version), ns, stack, MIGRATE),
                spec=k8s.batch.v1.JobSpecArgs(
                    backoff_limit=2,
                    active_deadline_seconds=900,
                    template=k8s.core.v1.PodTemplateSpecArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(stack, MIGRATE, args.version)),
                        spec=self._pod_spec(
                            [
                                self._container(
                                    MIGRATE, definition.migrate.command, ports=[], sized=definition.web.resources
                                )
                            ],
                            restart_policy="Never",
                            grace=30,
                        ),
                    ),
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=prerequisites),
            )
            prerequisites = [*prerequisites, self.migration]
        after = pulumi.ResourceOptions(parent=self, depends_on=prerequisites)
        web = definition.web
        web_probes = {"startup": web.health.live, "readiness": web.health.ready, "liveness": web.health.live}
        self.api = self._deployment(
            f"{name}-api",
            WEB,
            self._container(
                WEB,
                web.command,
                ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=web.port)],
                probes=web_probes,
                probe_port="http",
                lifecycle=k8s.core.v1.LifecycleArgs(
                    pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                        sleep=k8s.core.v1.SleepActionArgs(seconds=PRE_STOP_SECONDS)
                    )
                ),
                sized=web.resources,
            ),
            # The pause before SIGTERM counts against the grace period.
            grace=web.stop_seconds + PRE_STOP_SECONDS,
            opts=after,
        )
        self._service(name, WEB, "http", 80)
        self._autoscale(
            name, component=WEB, deployment=self.api, low=args.web_min_replicas, high=args.web_max_replicas, cpu=70
        )
        self.workers: dict[str, k8s.apps.v1.Deployment] = {}
        for worker in definition.workers:
            port_name = worker_port_name(worker)
            ports, probes = [], {}
            if worker.health is not None:
                ports = [k8s.core.v1.ContainerPortArgs(name=port_name, container_port=worker.health.port)]
                probes = dict.fromkeys(("startup", "readiness", "liveness"), worker.health.path)
            deployment = self._deployment(
                f"{name}-{worker.name}",
                worker.name,
                self._container(
                    worker.name,
                    worker.command,
                    ports=ports,
                    probes=probes,
                    probe_port=port_name,
                    sized=worker.resources,
                ),
                grace=worker.stop_seconds,
                opts=after,
            )
            self.workers[worker.name] = deployment
            if worker.health is not None and worker.health.metrics:
                self._service(name, worker.name, port_name, worker.health.port)
            self._autoscale(
                name,
                component=worker.name,
                deployment=deployment,
                low=args.worker_min_replicas,
                high=args.worker_max_replicas,
                cpu=75,
            )
        self.register_outputs(
            {
                "api": self.api.metadata.name,
                "workers": [deployment.metadata.name for deployment in self.workers.values()],
                "migration": self.migration.metadata.name if self.migration else None,
            }
        )

    def _service(self, name: str, component: str, port_name: str, port: int) -> None:
        args = self._args
        k8s.core.v1.Service(
            f"{name}-{component}-service",
            metadata=metadata(
                object_name(args.definition, component),
                args.namespace,
                args.stack,
                component,
                extra_labels={"slipway.dev/job": component},
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector(args.stack, component),
                ports=[k8s.core.v1.ServicePortArgs(name=port_name, port=port, target_port=port_name)],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _container(
        self,
        name: str,
        command: list[str],
        *,
        ports: list[k8s.core.v1.ContainerPortArgs],
        sized: Resources,
        probes: dict[str, str] | None = None,
        probe_port: str = "",
        lifecycle: k8s.core.v1.LifecycleArgs | None = None,
    ) -> k8s.core.v1.ContainerArgs:
        paths = probes or {}
        timing = {"startup": (2, 30), "readiness": (5, 2), "liveness": (10, 3)}

        def probe(kind: str) -> k8s.core.v1.ProbeArgs | None:
            if kind not in paths:
                return None
            period, failures = timing[kind]
            return k8s.core.v1.ProbeArgs(
                http_get=k8s.core.v1.HTTPGetActionArgs(path=paths[kind], port=probe_port),
                period_seconds=period,
                timeout_seconds=2,
                failure_threshold=failures,
            )

        definition = self._args.definition
        env_from = [
            k8s.core.v1.EnvFromSourceArgs(
                config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=config_name(definition))
            )
        ]
        if self._secret_env:
            env_from.append(
                k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=config_name(definition)))
            )
        mounts = [
            k8s.core.v1.VolumeMountArgs(name=volume_name, mount_path=volume.path)
            for volume_name, volume in definition.volumes.items()
        ]
        return k8s.core.v1.ContainerArgs(
            name=name,
            image=self._args.image,
            image_pull_policy="IfNotPresent",
            args=command,
            ports=ports,
            env_from=env_from,
            startup_probe=probe("startup"),
            readiness_probe=probe("readiness"),
            liveness_probe=probe("liveness"),
            lifecycle=lifecycle,
            resources=compute(sized),
            security_context=container_security(APP_UID),
            volume_mounts=[
                *mounts,
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
                *(
                    k8s.core.v1.VolumeArgs(
                        name=volume_name,
                        persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                            claim_name=object_name(self._args.definition, volume_name)
                        ),
                    )
                    for volume_name in self._args.definition.volumes
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
            metadata=metadata(object_name(args.definition, component), args.namespace, args.stack, component),
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
            metadata=metadata(object_name(args.definition, component), args.namespace, args.stack, component),
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
            metadata=metadata(object_name(args.definition, component), args.namespace, args.stack, component),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector(args.stack, component)),
            ),
            opts=child,
        )
