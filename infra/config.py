"""Every config read of the program, validated before any resource is declared.

A bad or missing value stops `pulumi up` with a `ConfigError` that names the key and says what to set;
it is a `pulumi.RunError`, which the CLI prints without a stack trace.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pulumi
from pulumi.runtime import get_config
from pydantic import BaseModel

from ops.errors import OpsError
from ops.service.definition import ENV_NAME, SECRET_LOOKING, Definition
from ops.service.load import DefinitionError, shown
from ops.service.load import load as load_definition

PROJECT: Final = "slipway"
PLATFORMS: Final = ("aws", "kubernetes")
ENVIRONMENTS: Final = ("development", "staging", "production")
# The repository: `appDefinition` is relative to it.
REPOSITORY: Final = Path(__file__).resolve().parents[1]

# Defaults of every non-secret key. Pulumi.yaml declares the same keys with the same defaults (a test
# holds them equal); keys without an entry here are required.
DEFAULTS: Final[dict[str, str | int | bool | dict[str, str]]] = {
    "appImage": "slipway/app",
    "appImageTag": "0.1.0",
    "appDefinition": "app/slipway.yml",
    "appPort": 8000,
    "workerMetricsPort": 9200,
    "appCount": 2,
    "tags": {},
    "vpcCidr": "10.40.0.0/16",
    "availabilityZones": 2,
    "natGatewayPerAz": False,
    "lbInstanceType": "t3.small",
    "appInstanceType": "t3.medium",
    "monInstanceType": "t3.medium",
    "rootVolumeGb": 20,
    "amiOwner": "136693071363",
    "amiNameFilter": "debian-12-amd64-*",
    "sshCidr": "",
    "sshPublicKey": "",
    "dbInstanceClass": "db.t4g.small",
    "dbEngineVersion": "15",
    "dbAllocatedStorageGb": 20,
    "dbMaxAllocatedStorageGb": 100,
    "dbBackupRetentionDays": 7,
    "dbMultiAz": False,
    "deletionProtection": False,
    "dbName": "slipway",
    "dbUsername": "slipway",
    "cacheNodeType": "cache.t4g.small",
    "cacheNodes": 2,
    "alarmEmail": "",
    "namespace": "slipway",
    "apiMaxReplicas": 6,
    "workerMinReplicas": 1,
    "workerMaxReplicas": 4,
    "storageClass": "",
    "dbStorageGb": 10,
    "volumeStorageGb": 20,
    "extraEnvironment": {},
    "tlsSecretName": "slipway-tls",
    "certManagerIssuer": "",
    "ingressChartVersion": "2.3.1",
    "monitoringStack": True,
    "monitoringChartVersion": "88.5.3",
    "postgresImage": "postgres:15.10-bookworm",
    "redisImage": "redis:7.4.2-bookworm",
    "releaseStateImage": "",
}
REQUIRED_KEYS: Final = ("platform", "environment", "domain")
# Secrets: never defaulted, never declared in Pulumi.yaml (see the comment there), set per stack
# with `pulumi config set --secret`.
# On kubernetes each is needed only when the app definition or the stack uses what it protects,
# and each `{secret: NAME}` of the definition adds one more (see `app_secret_key`).
SECRET_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "aws": ("cacheAuthToken",),
    "kubernetes": ("dbPassword", "redisPassword", "grafanaAdminPassword"),
}
# Components the kubernetes program names itself; a worker may not take one of these names.
KUBERNETES_COMPONENTS: Final = ("api", "migrate", "postgres", "redis", "release-state", "config", "secrets")
PLACEHOLDERS: Final = ("change_me", "changeme", "change-me", "placeholder")

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_IMAGE_REPO = re.compile(r"^[a-z0-9]+([._/:-][a-z0-9]+)*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(pulumi.RunError):
    """A config value the program refuses, with the key and what to set."""

    def __init__(self, key: str, problem: str, fix: str) -> None:
        self.key = f"{PROJECT}:{key}" if ":" not in key else key
        super().__init__(f"config {self.key}: {problem}; {fix}")


@dataclass(frozen=True)
class AwsSettings:
    region: str
    vpc_cidr: str
    availability_zones: int
    nat_gateway_per_az: bool
    lb_instance_type: str
    app_instance_type: str
    mon_instance_type: str
    root_volume_gb: int
    ami_owner: str
    ami_name_filter: str
    ssh_cidr: str
    ssh_public_key: str
    db_instance_class: str
    db_engine_version: str
    db_allocated_storage_gb: int
    db_max_allocated_storage_gb: int
    db_backup_retention_days: int
    db_multi_az: bool
    deletion_protection: bool
    db_name: str
    db_username: str
    cache_node_type: str
    cache_nodes: int
    alarm_email: str
    cache_auth_token: pulumi.Output[str]


@dataclass(frozen=True)
class KubernetesSettings:
    namespace: str
    api_max_replicas: int
    worker_min_replicas: int
    worker_max_replicas: int
    storage_class: str
    db_storage_gb: int
    volume_storage_gb: int
    tls_secret_name: str
    cert_manager_issuer: str
    ingress_chart_version: str
    monitoring_stack: bool
    monitoring_chart_version: str
    postgres_image: str
    redis_image: str
    release_state_image: str  # an image with python3; empty: the app image of the first deploy
    # Plain variables of this stack only, over the definition's plain values.
    extra_environment: dict[str, str]
    db_password: pulumi.Output[str] | None  # only when the definition needs PostgreSQL
    redis_password: pulumi.Output[str] | None  # only when it needs Redis
    app_secrets: dict[str, pulumi.Output[str]]  # by the definition's secret name
    grafana_admin_password: pulumi.Output[str] | None


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one stack."""

    stack: str
    platform: str
    environment: str
    domain: str
    app_image: str
    app_image_tag: str  # what this update deploys: the release's tag, else first_image_tag
    first_image_tag: str  # `appImageTag`: the stack's first deploy (and its release-state pod)
    definition: Definition
    app_port: int
    worker_metrics_port: int
    app_count: int
    tags: dict[str, str] = field(default_factory=dict)
    aws: AwsSettings | None = None
    kubernetes: KubernetesSettings | None = None

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def name(self) -> str:
        """Prefix of every resource name: slipway-<stack>."""
        return f"{PROJECT}-{self.stack}"

    @property
    def image(self) -> str:
        return f"{self.app_image}:{self.app_image_tag}"

    @property
    def first_image(self) -> str:
        return f"{self.app_image}:{self.first_image_tag}"


class _Reader:
    """Typed reads of `slipway:*` keys with the defaults above and errors that name the key."""

    def __init__(self) -> None:
        self._config = pulumi.Config(PROJECT)

    def raw(self, key: str) -> str | None:
        value = self._config.get(key)
        if value is not None:
            return value
        default = DEFAULTS.get(key)
        if default is None:
            return None
        if isinstance(default, dict):
            return json.dumps(default)
        if isinstance(default, bool):
            return "true" if default else "false"
        return str(default)

    def string(self, key: str) -> str:
        value = self.raw(key)
        if value is None or not value.strip():
            raise ConfigError(key, "is required and not set", f"run `pulumi config set {key} VALUE`")
        return value.strip()

    def explicit(self, key: str) -> str:
        """The stack's own value, without the default ("" when the stack does not set it)."""
        return (self._config.get(key) or "").strip()

    def optional_string(self, key: str) -> str:
        return (self.raw(key) or "").strip()

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.string(key)
        if value not in choices:
            raise ConfigError(key, f"is {value!r}", f"set one of {', '.join(choices)}")
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        text = self.string(key)
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(key, f"is {text!r}, not a whole number", f"set a number from {low} to {high}") from None
        if not low <= value <= high:
            raise ConfigError(key, f"is {value}, out of range", f"set a number from {low} to {high}")
        return value

    def boolean(self, key: str) -> bool:
        text = self.string(key).lower()
        if text not in ("true", "false"):
            raise ConfigError(key, f"is {text!r}, not a boolean", "set true or false")
        return text == "true"

    def string_map(self, key: str) -> dict[str, str]:
        text = self.optional_string(key) or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise ConfigError(
                key, "is not a map of strings", f"set it with `pulumi config set --path {key}.NAME VALUE`"
            )
        return value

    def secret(self, key: str, min_length: int, max_length: int = 1024, forbidden: str = "") -> pulumi.Output[str]:
        # Read the plain value once to validate it before any resource exists (an error inside an
        # apply would surface late, after resources were declared), then hand it on only as a secret.
        plain = get_config(f"{PROJECT}:{key}")
        fix = f"run `pulumi config set --secret {key} VALUE`"
        if plain is None or not plain:
            raise ConfigError(key, "is required and not set", fix)
        if any(marker in plain.lower() for marker in PLACEHOLDERS):
            raise ConfigError(key, "is a placeholder", f"{fix} with a generated value (e.g. `openssl rand -hex 32`)")
        if not min_length <= len(plain) <= max_length:
            raise ConfigError(key, f"must have {min_length} to {max_length} characters", fix)
        bad = sorted({ch for ch in plain if ch in forbidden or ch.isspace() or not ch.isprintable()})
        if bad:
            raise ConfigError(key, f"contains characters it may not contain ({''.join(bad)!r})", fix)
        return pulumi.Output.secret(plain)


def _check_hostname(key: str, value: str) -> str:
    if not _HOSTNAME.match(value):
        raise ConfigError(key, f"is {value!r}, not a DNS host name", "set a name like api.example.org")
    return value


def _check_cidr(key: str, value: str, *, smallest_prefix: int, largest_prefix: int) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ConfigError(key, f"is {value!r}, not an IPv4 network", "set a CIDR such as 10.40.0.0/16") from None
    if not smallest_prefix <= network.prefixlen <= largest_prefix:
        raise ConfigError(
            key,
            f"has prefix /{network.prefixlen}",
            f"use a prefix from /{smallest_prefix} to /{largest_prefix}",
        )
    return value


def _read_aws(read: _Reader, production: bool) -> AwsSettings:
    region = pulumi.Config("aws").get("region")
    if not region:
        raise ConfigError("aws:region", "is required for the aws platform", "run `pulumi config set aws:region REGION`")
    ssh_cidr = read.optional_string("sshCidr")
    ssh_public_key = read.optional_string("sshPublicKey")
    if ssh_cidr:
        _check_cidr("sshCidr", ssh_cidr, smallest_prefix=8, largest_prefix=32)
        if not ssh_public_key.startswith(("ssh-ed25519 ", "ssh-rsa ", "ecdsa-sha2-")):
            raise ConfigError(
                "sshPublicKey",
                "must be an OpenSSH public key when sshCidr is set",
                'run `pulumi config set sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"`',
            )
    settings = AwsSettings(
        region=region,
        vpc_cidr=_check_cidr("vpcCidr", read.string("vpcCidr"), smallest_prefix=16, largest_prefix=20),
        availability_zones=read.integer("availabilityZones", 2, 4),
        nat_gateway_per_az=read.boolean("natGatewayPerAz"),
        lb_instance_type=read.string("lbInstanceType"),
        app_instance_type=read.string("appInstanceType"),
        mon_instance_type=read.string("monInstanceType"),
        root_volume_gb=read.integer("rootVolumeGb", 8, 1024),
        ami_owner=read.string("amiOwner"),
        ami_name_filter=read.string("amiNameFilter"),
        ssh_cidr=ssh_cidr,
        ssh_public_key=ssh_public_key,
        db_instance_class=read.string("dbInstanceClass"),
        db_engine_version=read.string("dbEngineVersion"),
        db_allocated_storage_gb=read.integer("dbAllocatedStorageGb", 20, 65536),
        db_max_allocated_storage_gb=read.integer("dbMaxAllocatedStorageGb", 20, 65536),
        db_backup_retention_days=read.integer("dbBackupRetentionDays", 1, 35),
        db_multi_az=read.boolean("dbMultiAz"),
        deletion_protection=read.boolean("deletionProtection"),
        db_name=read.string("dbName"),
        db_username=read.string("dbUsername"),
        cache_node_type=read.string("cacheNodeType"),
        cache_nodes=read.integer("cacheNodes", 1, 6),
        alarm_email=read.optional_string("alarmEmail"),
        cache_auth_token=read.secret("cacheAuthToken", 16, 128, forbidden='@"/'),
    )
    if settings.db_max_allocated_storage_gb < settings.db_allocated_storage_gb:
        raise ConfigError("dbMaxAllocatedStorageGb", "is below dbAllocatedStorageGb", "raise it")
    if settings.alarm_email and not _EMAIL.match(settings.alarm_email):
        raise ConfigError(
            "alarmEmail", f"is {settings.alarm_email!r}, not an e-mail address", "set one or leave it empty"
        )
    if production:
        for key, ok, fix in (
            ("dbMultiAz", settings.db_multi_az, "set it to true"),
            ("deletionProtection", settings.deletion_protection, "set it to true"),
            ("dbBackupRetentionDays", settings.db_backup_retention_days >= 7, "keep at least 7 days"),
            ("cacheNodes", settings.cache_nodes >= 2, "use at least 2 nodes so Redis can fail over"),
        ):
            if not ok:
                raise ConfigError(key, "is not allowed in production", fix)
    return settings


def app_secret_key(name: str) -> str:
    """The stack's secret that fills the definition's `{secret: NAME}`: secret_key -> secretKey."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def kubernetes_secret_keys(definition: Definition, *, monitoring_stack: bool = True) -> tuple[str, ...]:
    """The secrets a kubernetes stack must set for this definition, in the order they are read."""
    kit = [
        key
        for key, needed in (
            ("dbPassword", definition.data.postgres is not None),
            ("redisPassword", definition.data.redis is not None),
            ("grafanaAdminPassword", monitoring_stack),
        )
        if needed
    ]
    return (*kit, *(app_secret_key(name) for name in definition.secret_names()))


def _check_for_kubernetes(definition: Definition) -> None:
    for worker in definition.workers:
        if worker.name in KUBERNETES_COMPONENTS:
            raise ConfigError(
                "appDefinition",
                f"worker {worker.name!r} has the name of a component of the kubernetes platform",
                f"rename it (not one of {', '.join(KUBERNETES_COMPONENTS)})",
            )
    for name in definition.secret_names():
        key = app_secret_key(name)
        if key in DEFAULTS or key in REQUIRED_KEYS or key in SECRET_KEYS["kubernetes"]:
            raise ConfigError(
                "appDefinition", f"secret {name!r} would be read from slipway:{key}, a key of the kit", "rename it"
            )
    for name in [*(worker.name for worker in definition.workers), *definition.volumes]:
        # Services and claims are named <service>-<name>, a DNS label.
        if len(f"{definition.service}-{name}") > 63:
            raise ConfigError("appDefinition", f"{definition.service}-{name} is over 63 characters", "shorten it")
    for name, volume in definition.volumes.items():
        # The scratch emptyDir every app pod gets is `tmp` at /tmp.
        if name == "tmp" or volume.path == "/tmp":  # noqa: S108 - a path compared, not used
            raise ConfigError("appDefinition", f"volume {name!r} takes the pods' scratch space /tmp", "rename it")


def _extra_environment(read: _Reader, definition: Definition) -> dict[str, str]:
    extra = read.string_map("extraEnvironment")
    fix = "set only plain, non-secret variables that the definition does not make from a reference"
    for name in extra:
        if not re.match(ENV_NAME, name):
            raise ConfigError("extraEnvironment", f"{name!r} is not a variable name", fix)
        if SECRET_LOOKING.search(name):
            raise ConfigError("extraEnvironment", f"{name} looks like a secret", fix)
        value = definition.environment.get(name)
        if isinstance(value, BaseModel) or name == "PORT":
            raise ConfigError("extraEnvironment", f"{name} is made by the kit or from a reference", fix)
    return extra


def _release_state_image(read: _Reader) -> str:
    image = read.optional_string("releaseStateImage")
    if image:
        repository, _, tag = image.rpartition(":")
        if not _IMAGE_REPO.match(repository) or tag == "latest" or not _IMAGE_TAG.match(tag):
            raise ConfigError(
                "releaseStateImage",
                f"is {image!r}",
                "set a pinned image with python3, e.g. python:3.11.11-slim-bookworm",
            )
    return image


def _read_kubernetes(read: _Reader, definition: Definition) -> KubernetesSettings:
    namespace = read.string("namespace")
    if not _DNS_LABEL.match(namespace):
        raise ConfigError("namespace", f"is {namespace!r}, not a DNS label", "use lowercase letters, digits and -")
    _check_for_kubernetes(definition)
    monitoring_stack = read.boolean("monitoringStack")
    settings = KubernetesSettings(
        namespace=namespace,
        api_max_replicas=read.integer("apiMaxReplicas", 1, 100),
        worker_min_replicas=read.integer("workerMinReplicas", 1, 100),
        worker_max_replicas=read.integer("workerMaxReplicas", 1, 100),
        storage_class=read.optional_string("storageClass"),
        db_storage_gb=read.integer("dbStorageGb", 1, 16384),
        volume_storage_gb=read.integer("volumeStorageGb", 1, 65536),
        tls_secret_name=read.string("tlsSecretName"),
        cert_manager_issuer=read.optional_string("certManagerIssuer"),
        ingress_chart_version=read.string("ingressChartVersion"),
        monitoring_stack=monitoring_stack,
        monitoring_chart_version=read.string("monitoringChartVersion"),
        postgres_image=read.string("postgresImage"),
        redis_image=read.string("redisImage"),
        release_state_image=_release_state_image(read),
        extra_environment=_extra_environment(read, definition),
        # Both go into URLs (the data services' `url` references): no character URL syntax would read.
        db_password=read.secret("dbPassword", 16, forbidden="@/:?#%") if definition.data.postgres else None,
        redis_password=read.secret("redisPassword", 16, forbidden="@/:?#%") if definition.data.redis else None,
        app_secrets={name: read.secret(app_secret_key(name), 32) for name in definition.secret_names()},
        grafana_admin_password=read.secret("grafanaAdminPassword", 16) if monitoring_stack else None,
    )
    if settings.worker_max_replicas < settings.worker_min_replicas:
        raise ConfigError("workerMaxReplicas", "is below workerMinReplicas", "raise it")
    return settings


def registry_repository(definition: Definition) -> str:
    """The repository of an image the definition pulls, without a tag: releases choose the tag."""
    reference = definition.image.registry or ""
    head, slash, last = reference.rpartition("/")
    return f"{head}{slash}{last.split(':', 1)[0]}" if reference else ""


def _read_definition(read: _Reader) -> Definition:
    path = REPOSITORY / read.string("appDefinition")
    try:
        return load_definition(path)
    except DefinitionError as error:
        raise ConfigError(
            "appDefinition", f"{shown(path)} has mistakes: {'; '.join(error.problems)}", error.fix
        ) from None
    except OpsError as error:
        raise ConfigError("appDefinition", error.message, error.fix) from None


RELEASE_TAG_VARIABLE: Final = "SLIPWAY_RELEASE_TAG"


def _check_tag(key: str, tag: str) -> str:
    if tag == "latest" or not _IMAGE_TAG.match(tag):
        raise ConfigError(key, f"is {tag!r}", "set a release tag such as 1.4.2 (never latest)")
    return tag


def load() -> Settings:
    """Read and validate the stack's configuration; raise ConfigError naming the first bad key."""
    read = _Reader()
    platform = read.choice("platform", PLATFORMS)
    environment = read.choice("environment", ENVIRONMENTS)
    production = environment == "production"
    first_image_tag = _check_tag("appImageTag", read.string("appImageTag"))
    # A release's tag is stack state: `./deploy.sh STACK --version TAG` passes it to `pulumi up`
    # in the environment (kept in the release history in the cluster), never in the stack file.
    app_image_tag = _check_tag(RELEASE_TAG_VARIABLE, os.environ.get(RELEASE_TAG_VARIABLE) or first_image_tag)
    definition = _read_definition(read)
    app_image = read.explicit("appImage") or registry_repository(definition) or read.string("appImage")
    if not _IMAGE_REPO.match(app_image):
        raise ConfigError(
            "appImage", f"is {app_image!r}, not an image repository", "set e.g. registry.example/slipway/app"
        )
    app_count = read.integer("appCount", 1, 50)
    if production and app_count < 2:
        raise ConfigError("appCount", "is 1, a single point of failure in production", "set at least 2")
    settings = Settings(
        stack=pulumi.get_stack(),
        platform=platform,
        environment=environment,
        domain=_check_hostname("domain", read.string("domain").lower()),
        app_image=app_image,
        app_image_tag=app_image_tag,
        first_image_tag=first_image_tag,
        definition=definition,
        app_port=read.integer("appPort", 1024, 65535),
        worker_metrics_port=read.integer("workerMetricsPort", 1024, 65535),
        app_count=app_count,
        tags=read.string_map("tags"),
        aws=_read_aws(read, production) if platform == "aws" else None,
        kubernetes=_read_kubernetes(read, definition) if platform == "kubernetes" else None,
    )
    if settings.kubernetes and settings.kubernetes.api_max_replicas < settings.app_count:
        raise ConfigError("apiMaxReplicas", "is below appCount (the HPA's floor)", "raise it")
    return settings
