"""F5 NGINX's nginx-ingress controller (Helm) and the app's TLS Ingress.

The community ingress-nginx controller is retired (no releases after March 2026); F5's chart from
https://helm.nginx.com/stable is the maintained NGINX controller.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.kubernetes.pods import INGRESS_NAMESPACE, metadata

CHART_REPOSITORY = "https://helm.nginx.com/stable"
INGRESS_CLASS = "nginx"


@dataclass(frozen=True)
class IngressArgs:
    namespace: str
    stack: str
    domain: str
    tls_secret_name: str
    cert_manager_issuer: str
    chart_version: str
    service: str  # the web process's Service, which takes every request
    max_body_mib: int
    controller_replicas: int


def controller_values(replicas: int) -> dict[str, object]:
    return {
        "controller": {
            "kind": "deployment",
            "replicaCount": replicas,
            "ingressClass": {"name": INGRESS_CLASS, "create": True, "setAsDefaultIngress": False},
            # VirtualServer CRDs and snippets are not used; snippets would let an Ingress inject
            # arbitrary nginx configuration.
            "enableCustomResources": False,
            "enableSnippets": False,
            "service": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"},
            "config": {
                "entries": {
                    "server-tokens": "False",
                    "ssl-protocols": "TLSv1.2 TLSv1.3",
                    "hsts": "True",
                    "hsts-include-subdomains": "True",
                }
            },
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        },
        "prometheus": {"create": True, "port": 9113},
    }


class Ingress(pulumi.ComponentResource):
    def __init__(self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:ingress:Ingress", name, None, opts)
        self.controller = k8s.helm.v3.Release(
            f"{name}-controller",
            name="nginx-ingress",
            chart="nginx-ingress",
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            namespace=INGRESS_NAMESPACE,
            create_namespace=True,
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            values=controller_values(args.controller_replicas),
            opts=pulumi.ResourceOptions(parent=self),
        )
        annotations = {
            "nginx.org/client-max-body-size": f"{args.max_body_mib}m",
            "nginx.org/proxy-read-timeout": "120s",
            "ingress.kubernetes.io/ssl-redirect": "true",
        }
        if args.cert_manager_issuer:
            annotations["cert-manager.io/cluster-issuer"] = args.cert_manager_issuer
        self.ingress = k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=metadata(args.service, args.namespace, args.stack, "api", annotations=annotations),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=INGRESS_CLASS,
                tls=[k8s.networking.v1.IngressTLSArgs(hosts=[args.domain], secret_name=args.tls_secret_name)],
                rules=[
                    k8s.networking.v1.IngressRuleArgs(
                        host=args.domain,
                        http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                            paths=[
                                k8s.networking.v1.HTTPIngressPathArgs(
                                    path="/",
                                    path_type="Prefix",
                                    backend=k8s.networking.v1.IngressBackendArgs(
                                        service=k8s.networking.v1.IngressServiceBackendArgs(
                                            name=args.service,
                                            port=k8s.networking.v1.ServiceBackendPortArgs(name="http"),
                                        )
                                    ),
                                )
                            ]
                        ),
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.controller]),
        )
        self.register_outputs({"url": f"https://{args.domain}"})
