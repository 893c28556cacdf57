"""The app's namespace, enforcing Pod Security `restricted`, and the Secrets of its data services."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.kubernetes.pods import labels, metadata

POSTGRES_SECRET = "slipway-postgres"  # noqa: S105 - a Secret object name; holds password, exporter DSN
REDIS_SECRET = "slipway-redis"  # noqa: S105 - a Secret object name; holds password, redis.conf


@dataclass(frozen=True)
class DatabaseCredentials:
    name: str
    user: str
    password: pulumi.Output[str]


@dataclass(frozen=True)
class AppNamespaceArgs:
    namespace: str
    stack: str
    database: DatabaseCredentials | None  # only when the app needs PostgreSQL
    redis_password: pulumi.Output[str] | None  # only when it needs Redis


class AppNamespace(pulumi.ComponentResource):
    def __init__(self, name: str, args: AppNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:namespace:AppNamespace", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.namespace,
                labels=labels(args.stack, "namespace")
                | {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        ns = args.namespace
        contents: dict[str, dict[str, pulumi.Output[str]]] = {}
        if args.database is not None:
            db = args.database
            exporter_dsn = pulumi.Output.format(
                "postgresql://{0}:{1}@127.0.0.1:5432/{2}?sslmode=disable", db.user, db.password, db.name
            )
            contents[POSTGRES_SECRET] = {"password": db.password, "exporter-dsn": exporter_dsn}
        if args.redis_password is not None:
            redis_conf = pulumi.Output.format(
                "port 6379\nbind 0.0.0.0\nprotected-mode yes\nrequirepass {0}\ndir /data\nappendonly yes\n"
                # A job queue may live here: refuse writes rather than silently evict jobs.
                "maxmemory-policy noeviction\n",
                args.redis_password,
            )
            contents[REDIS_SECRET] = {"password": args.redis_password, "redis.conf": redis_conf}
        self.secrets = [
            k8s.core.v1.Secret(
                f"{name}-{secret_name}",
                metadata=metadata(secret_name, ns, args.stack, "secrets"),
                type="Opaque",
                # Output.secret keeps every value encrypted in the state, even those only derived
                # from a secret.
                string_data={key: value.apply(pulumi.Output.secret) for key, value in data.items()},
                opts=child,
            )
            for secret_name, data in contents.items()
        ]
        self.register_outputs({"namespace": self.namespace.metadata.name})
