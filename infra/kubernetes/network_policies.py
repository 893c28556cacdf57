"""NetworkPolicies: deny by default; the data services reachable only from the app's pods.

Allowed: DNS for every pod; the ingress controller to the web process; Prometheus to the web and
worker health ports and the exporters; the web, worker and migration pods to the data services
the app definition lists (PostgreSQL, Redis), and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.kubernetes import postgres, redis
from infra.kubernetes.pods import INGRESS_NAMESPACE, MONITORING_NAMESPACE, metadata, selector

DATA_PORTS = {"postgres": (postgres.PORT, postgres.METRICS_PORT), "redis": (redis.PORT, redis.METRICS_PORT)}


@dataclass(frozen=True)
class NetworkPoliciesArgs:
    namespace: str
    stack: str
    app_components: list[str]  # the web process, the workers, the migration
    web_port: int
    worker_ports: dict[str, int]  # a worker's health port, by its component
    data_services: list[str]  # of DATA_PORTS: the ones the stack runs


def _namespace(name: str) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": name})
    )


def _ports(*ports: int, protocol: str = "TCP") -> list[k8s.networking.v1.NetworkPolicyPortArgs]:
    return [k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol=protocol) for port in ports]


class NetworkPolicies(pulumi.ComponentResource):
    def __init__(self, name: str, args: NetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:network-policies:NetworkPolicies", name, None, opts)
        self._name = name
        self._args = args
        self.policies: list[Any] = []
        app_pods = k8s.meta.v1.LabelSelectorArgs(
            match_labels={"app.kubernetes.io/instance": args.stack},
            match_expressions=[
                k8s.meta.v1.LabelSelectorRequirementArgs(
                    key="app.kubernetes.io/component", operator="In", values=args.app_components
                )
            ],
        )
        from_app = k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=app_pods)
        self._policy(
            "default-deny",
            k8s.meta.v1.LabelSelectorArgs(),
            ingress=[],
            egress=[],
        )
        self._policy(
            "allow-dns",
            k8s.meta.v1.LabelSelectorArgs(),
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[_namespace("kube-system")], ports=_ports(53, protocol="UDP") + _ports(53)
                )
            ],
        )
        self._policy(
            "api-ingress",
            k8s.meta.v1.LabelSelectorArgs(match_labels=selector(args.stack, "api")),
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[_namespace(INGRESS_NAMESPACE), _namespace(MONITORING_NAMESPACE)],
                    ports=_ports(args.web_port),
                )
            ],
        )
        for worker, port in args.worker_ports.items():
            self._policy(
                f"{worker}-metrics",
                k8s.meta.v1.LabelSelectorArgs(match_labels=selector(args.stack, worker)),
                ingress=[
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=[_namespace(MONITORING_NAMESPACE)], ports=_ports(port)
                    )
                ],
            )
        if args.data_services:
            self._policy(
                "app-to-data",
                app_pods,
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector(args.stack, component))
                            )
                        ],
                        ports=_ports(DATA_PORTS[component][0]),
                    )
                    for component in args.data_services
                ],
            )
        for component in args.data_services:
            port, metrics_port = DATA_PORTS[component]
            self._policy(
                f"{component}-ingress",
                k8s.meta.v1.LabelSelectorArgs(match_labels=selector(args.stack, component)),
                ingress=[
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=[from_app], ports=_ports(port)),
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=[_namespace(MONITORING_NAMESPACE)], ports=_ports(metrics_port)
                    ),
                ],
            )
        self.register_outputs({"count": len(self.policies)})

    def _policy(
        self,
        policy_name: str,
        pods: k8s.meta.v1.LabelSelectorArgs,
        *,
        ingress: list[k8s.networking.v1.NetworkPolicyIngressRuleArgs] | None = None,
        egress: list[k8s.networking.v1.NetworkPolicyEgressRuleArgs] | None = None,
    ) -> None:
        types = [kind for kind, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
        self.policies.append(
            k8s.networking.v1.NetworkPolicy(
                f"{self._name}-{policy_name}",
                metadata=metadata(f"slipway-{policy_name}", self._args.namespace, self._args.stack, "network-policy"),
                spec=k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=pods, policy_types=types, ingress=ingress, egress=egress
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        )
