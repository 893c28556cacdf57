"""Where releases of a kubernetes stack keep their state: the deploy lock, the journal, the history
and the audit log, on a small volume in the cluster, so every controller sees the same truth.

A one-replica StatefulSet that only idles, of an image with python3: `releaseStateImage`, or the
app image of the stack's first deploy when that is a Python app's; `./deploy.sh` runs
ops/release/state_agent.py in it with `kubectl exec`, as it does over SSH on the lb host of a
VM-style environment. It needs no network: the default-deny policy covers it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.kubernetes.pods import (
    APP_UID,
    container_security,
    labels,
    metadata,
    pod_security,
    resources,
    selector,
)

NAME = "slipway-release-state"
STATE_PATH = "/var/lib/slipway/releases"  # the state agent's folder (ops/release/transport.py)
STORAGE = "1Gi"
# Waits for a signal and exits at once on SIGTERM; the agent runs beside it through `kubectl exec`.
IDLE = "import signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); signal.pause()"


@dataclass(frozen=True)
class ReleaseStateArgs:
    namespace: str
    stack: str
    image: str  # python3, run as a non-root user
    storage_class: str


class ReleaseState(pulumi.ComponentResource):
    def __init__(self, name: str, args: ReleaseStateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:release-state:ReleaseState", name, None, opts)
        pods = selector(args.stack, "release-state")
        writable = k8s.core.v1.ProbeArgs(
            exec_=k8s.core.v1.ExecActionArgs(command=["test", "-w", STATE_PATH]), period_seconds=30
        )
        idle = k8s.core.v1.ContainerArgs(
            name="state",
            image=args.image,
            command=["python", "-c", IDLE],
            security_context=container_security(APP_UID),
            resources=resources("10m", "64Mi", "200m"),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="state", mount_path=STATE_PATH)],
            readiness_probe=writable,
            liveness_probe=writable,
        )
        self.statefulset = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=metadata(NAME, args.namespace, args.stack, "release-state"),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name=NAME,
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pods),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(args.stack, "release-state")),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        security_context=pod_security(APP_UID),
                        termination_grace_period_seconds=5,
                        containers=[idle],
                    ),
                ),
                volume_claim_templates=[
                    k8s.core.v1.PersistentVolumeClaimArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(name="state"),
                        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                            access_modes=["ReadWriteOnce"],
                            storage_class_name=args.storage_class or None,
                            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": STORAGE}),
                        ),
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"statefulset": self.statefulset.metadata.name})
