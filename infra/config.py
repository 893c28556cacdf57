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
from typing import Final

import pulumi
from pulumi.runtime import get_config

PROJECT: Final = "slipway"
PLATFORMS: Final = ("aws", "kubernetes")
ENVIRONMENTS: Final = ("development", "staging", "production")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")

# Defaults of every non-secret key. Pulumi.yaml declares the same keys with the same defaults (a test
# holds them equal); keys without an entry here are required.
DEFAULTS: Final[dict[str, str | int | bool | dict[str, str]]] = {
    "appImage": "slipway/app",
    "appImageTag": "0.1.0",
    "appPort": 8000,
    "workerMetricsPort": 9200,
    "appCount": 2,
    "logLevel": "INFO",
    "maxUploadBytes": 524288000,
    "rateLimitPerMinute": 120,
    "shutdownGraceSeconds": 20,
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
    "videoStorageGb": 20,
    "tlsSecretName": "slipway-tls",
    "certManagerIssuer": "",
    "ingressChartVersion": "2.3.1",
    "monitoringStack": True,
    "monitoringChartVersion": "88.5.3",
    "postgresImage": "postgres:15.10-bookworm",
    "redisImage": "redis:7.4.2-bookworm",
}
REQUIRED_KEYS: Final = ("platform", "environment", "domain")
# Secrets: never defaulted, never declared in Pulumi.yaml (see the comment there), set per stack
# with `pulumi config set --secret`.
SECRET_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "aws": ("cacheAuthToken",),
    "kubernetes": ("dbPassword", "redisPassword", "secretKey", "grafanaAdminPassword"),
}
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
    video_storage_gb: int
    tls_secret_name: str
    cert_manager_issuer: str
    ingress_chart_version: str
    monitoring_stack: bool
    monitoring_chart_version: str
    postgres_image: str
    redis_image: str
    db_password: pulumi.Output[str]
    redis_password: pulumi.Output[str]
    secret_key: pulumi.Output[str]
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
    app_port: int
    worker_metrics_port: int
    app_count: int
    log_level: str
    max_upload_bytes: int
    rate_limit_per_minute: int
    shutdown_grace_seconds: int
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

    @property
    def app_env(self) -> str:
        """APP_ENV of the app, which knows development, test and production only."""
        return "development" if self.environment == "development" else "production"


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


def _read_kubernetes(read: _Reader) -> KubernetesSettings:
    namespace = read.string("namespace")
    if not _DNS_LABEL.match(namespace):
        raise ConfigError("namespace", f"is {namespace!r}, not a DNS label", "use lowercase letters, digits and -")
    monitoring_stack = read.boolean("monitoringStack")
    settings = KubernetesSettings(
        namespace=namespace,
        api_max_replicas=read.integer("apiMaxReplicas", 1, 100),
        worker_min_replicas=read.integer("workerMinReplicas", 1, 100),
        worker_max_replicas=read.integer("workerMaxReplicas", 1, 100),
        storage_class=read.optional_string("storageClass"),
        db_storage_gb=read.integer("dbStorageGb", 1, 16384),
        video_storage_gb=read.integer("videoStorageGb", 1, 65536),
        tls_secret_name=read.string("tlsSecretName"),
        cert_manager_issuer=read.optional_string("certManagerIssuer"),
        ingress_chart_version=read.string("ingressChartVersion"),
        monitoring_stack=monitoring_stack,
        monitoring_chart_version=read.string("monitoringChartVersion"),
        postgres_image=read.string("postgresImage"),
        redis_image=read.string("redisImage"),
        # Both go into URLs (DATABASE_URL, REDIS_URL): no character that URL syntax would read.
        db_password=read.secret("dbPassword", 16, forbidden="@/:?#%"),
        redis_password=read.secret("redisPassword", 16, forbidden="@/:?#%"),
        secret_key=read.secret("secretKey", 32),
        grafana_admin_password=read.secret("grafanaAdminPassword", 16) if monitoring_stack else None,
    )
    if settings.worker_max_replicas < settings.worker_min_replicas:
        raise ConfigError("workerMaxReplicas", "is below workerMinReplicas", "raise it")
    return settings


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
    app_image = read.string("appImage")
    if not _IMAGE_REPO.match(app_image):
        raise ConfigError(
            "appImage", f"is {app_image!r}, not an image repository", "set e.g. registry.example/slipway/app"
        )
    app_count = read.integer("appCount", 1, 50)
    if production and app_count < 2:
        raise ConfigError("appCount", "is 1, a single point of failure in production", "set at least 2")
    log_level = read.string("logLevel").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError("logLevel", f"is {log_level!r}", f"set one of {', '.join(LOG_LEVELS)}")
    settings = Settings(
        stack=pulumi.get_stack(),
        platform=platform,
        environment=environment,
        domain=_check_hostname("domain", read.string("domain").lower()),
        app_image=app_image,
        app_image_tag=app_image_tag,
        first_image_tag=first_image_tag,
        app_port=read.integer("appPort", 1024, 65535),
        worker_metrics_port=read.integer("workerMetricsPort", 1024, 65535),
        app_count=app_count,
        log_level=log_level,
        max_upload_bytes=read.integer("maxUploadBytes", 1, 10 * 1024**3),
        rate_limit_per_minute=read.integer("rateLimitPerMinute", 1, 100_000),
        shutdown_grace_seconds=read.integer("shutdownGraceSeconds", 1, 600),
        tags=read.string_map("tags"),
        aws=_read_aws(read, production) if platform == "aws" else None,
        kubernetes=_read_kubernetes(read) if platform == "kubernetes" else None,
    )
    if settings.kubernetes and settings.kubernetes.api_max_replicas < settings.app_count:
        raise ConfigError("apiMaxReplicas", "is below appCount (the HPA's floor)", "raise it")
    return settings
