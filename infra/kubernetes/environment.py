"""The app's environment on kubernetes, made from its definition's `environment`.

Plain values, volume paths and facts of the platform go to the ConfigMap; anything that holds a
credential (a `{secret: NAME}`, a data service's url or password) goes to the Secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import pulumi

from ops.service.definition import (
    Definition,
    PlatformRef,
    PostgresRef,
    RedisRef,
    SecretRef,
    VolumeRef,
    plain_text,
)

# The in-cluster PostgreSQL and Redis speak plain TCP inside the namespace, reachable only from the
# app's pods (NetworkPolicies): a TLS option of the definition's URL would make the app refuse them.
TLS_QUERY_KEYS = frozenset({"ssl", "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl"})
# Who may send X-Forwarded-For: only the ingress controller and Prometheus reach the web port
# (NetworkPolicies), and the controller's pod addresses change, so any peer that gets through.
PROXIES = "*"


@dataclass(frozen=True)
class Endpoint:
    """How the app reaches one in-cluster data service."""

    host: str
    port: int
    user: str
    password: pulumi.Output[str]
    database: str = ""


@dataclass(frozen=True)
class Platform:
    stack: str
    web_port: int
    postgres: Endpoint | None = None
    redis: Endpoint | None = None
    secrets: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Environment:
    plain: dict[str, str]
    secret: dict[str, pulumi.Output[str]]


def without_tls(query: str) -> str:
    return urlencode([(key, value) for key, value in parse_qsl(query) if key.lower() not in TLS_QUERY_KEYS])


def postgres_url(definition: Definition, endpoint: Endpoint) -> pulumi.Output[str]:
    assert definition.data.postgres is not None
    query = without_tls(definition.data.postgres.url_query)
    return pulumi.Output.format(
        "{0}://{1}:{2}@{3}:{4}/{5}{6}",
        definition.data.postgres.url_scheme,
        endpoint.user,
        endpoint.password,
        endpoint.host,
        endpoint.port,
        endpoint.database,
        f"?{query}" if query else "",
    )


def redis_url(definition: Definition, endpoint: Endpoint) -> pulumi.Output[str]:
    assert definition.data.redis is not None
    # rediss is Redis over TLS, which the in-cluster Redis does not speak (see TLS_QUERY_KEYS).
    return pulumi.Output.format(
        "redis://:{0}@{1}:{2}/{3}", endpoint.password, endpoint.host, endpoint.port, definition.data.redis.database
    )


def _data_value(
    name: str, field_name: str, endpoint: Endpoint | None, url: pulumi.Output[str] | None
) -> str | pulumi.Output[str]:
    if endpoint is None or url is None:
        raise ValueError(f"environment.{name} reads a data service this stack does not run")
    if field_name == "url":
        return url
    if field_name == "password":
        return endpoint.password
    return {"host": endpoint.host, "port": str(endpoint.port), "database": endpoint.database, "user": endpoint.user}[
        field_name
    ]


def resolve(definition: Definition, platform: Platform) -> Environment:
    """Every variable of the definition with its value on this stack, plus PORT (the kit sets it)."""
    plain: dict[str, str] = {}
    secret: dict[str, pulumi.Output[str]] = {}
    database = postgres_url(definition, platform.postgres) if platform.postgres and definition.data.postgres else None
    cache = redis_url(definition, platform.redis) if platform.redis and definition.data.redis else None
    for name, value in definition.environment.items():
        resolved: str | pulumi.Output[str]
        if isinstance(value, SecretRef):
            resolved = platform.secrets[value.secret]
        elif isinstance(value, PostgresRef):
            resolved = _data_value(name, value.postgres, platform.postgres, database)
        elif isinstance(value, RedisRef):
            resolved = _data_value(name, value.redis, platform.redis, cache)
        elif isinstance(value, VolumeRef):
            resolved = definition.volumes[value.volume].path
        elif isinstance(value, PlatformRef):
            resolved = PROXIES if value.platform == "proxies" else platform.stack
        elif isinstance(value, str | int | float | bool):
            resolved = plain_text(value)
        else:  # the schema refuses any other mapping
            raise TypeError(f"environment.{name}: {value!r}")
        if isinstance(resolved, str):
            plain[name] = resolved
        else:
            secret[name] = resolved
    plain |= platform.extra
    plain["PORT"] = str(platform.web_port)
    return Environment(plain, secret)
