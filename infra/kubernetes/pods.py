"""Labels and the pod security settings every workload of the kubernetes platform uses.

They satisfy the Pod Security Standard `restricted`, which the namespace enforces.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

MONITORING_NAMESPACE = "monitoring"
INGRESS_NAMESPACE = "nginx-ingress"
APP_UID = 10001  # the app image's user (app contract)


def selector(stack: str, component: str) -> dict[str, str]:
    """The labels that select one component's pods."""
    return {
        "app.kubernetes.io/name": "slipway",
        "app.kubernetes.io/instance": stack,
        "app.kubernetes.io/component": component,
    }


def labels(stack: str, component: str, version: str = "") -> dict[str, str]:
    """Recommended labels: the selector plus part-of, managed-by and (for the app) version."""
    extra = {"app.kubernetes.io/part-of": "slipway", "app.kubernetes.io/managed-by": "pulumi"}
    if version:
        extra["app.kubernetes.io/version"] = version
    return selector(stack, component) | extra


def metadata(
    name: str,
    namespace: str,
    stack: str,
    component: str,
    *,
    extra_labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    """Name, namespace, recommended labels (plus `extra_labels`) and annotations of one object."""
    return k8s.meta.v1.ObjectMetaArgs(
        name=name,
        namespace=namespace,
        labels=labels(stack, component) | (extra_labels or {}),
        annotations=annotations,
    )


def pod_security(uid: int) -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        fs_group=uid,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security(uid: int | None = None) -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        privileged=False,
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def resources(cpu_request: str, memory: str, cpu_limit: str) -> k8s.core.v1.ResourceRequirementsArgs:
    """Requests and limits; memory request equals its limit so the pod is never OOM-killed for others."""
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": cpu_request, "memory": memory},
        limits={"cpu": cpu_limit, "memory": memory},
    )


def empty_dir(name: str, size: str = "256Mi") -> k8s.core.v1.VolumeArgs:
    return k8s.core.v1.VolumeArgs(name=name, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=size))


def secret_env(name: str, secret: str, key: str) -> k8s.core.v1.EnvVarArgs:
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=key)),
    )
