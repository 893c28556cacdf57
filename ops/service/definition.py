"""The app definition: what Slipway must know of a service to build, run, release and watch it.

A definition is a YAML file (the reference API's is `app/slipway.yml`). It names processes,
ports, health paths, the data services the app needs and how its environment is made from them;
it never holds a secret's value, only a reference that each environment fills with its own
generated secret. The models here are the schema; `ops.service.load` reads a file into them and
turns every mistake into a message that names the key and the fix.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

NAME = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
SECRET_NAME = r"^[a-z][a-z0-9_]{0,62}$"  # noqa: S105 - the form of a name, not a secret
HOSTNAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
MEMORY = r"^[1-9][0-9]*[kmg]$"
ABSOLUTE_PATH = r"^/[^\s]*$"

# Environment variables whose names say they hold a secret: a plain value there is refused.
SECRET_LOOKING = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEY$|API_KEY)")
# A URL with a password in it (scheme://user:password@host) is a secret given as a value.
URL_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]*:[^/@\s]+@", re.IGNORECASE)

DATA_SERVICES: tuple[str, ...] = ("postgres", "redis", "object_storage")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{value!r} is not a path: write it with a leading slash, e.g. '/{value}'")
    if any(ch.isspace() for ch in value) or "?" in value or "#" in value:
        raise ValueError(f"{value!r}: a path has no spaces, query or fragment")
    return value


HttpPath = Annotated[str, Field(min_length=1, max_length=200)]
Port = Annotated[int, Field(ge=1, le=65535)]
Command = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class Image(Model):
    """Where the image comes from: a build (Dockerfile and context, relative to the repository) or
    a registry reference the environment pulls."""

    dockerfile: str | None = None
    context: str = "."
    registry: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Image:
        if (self.dockerfile is None) == (self.registry is None):
            raise ValueError("give either dockerfile (a build) or registry (an image to pull), not both or neither")
        return self


class Health(Model):
    live: HttpPath
    ready: HttpPath

    _paths = field_validator("live", "ready")(_http_path)


class Resources(Model):
    memory: Annotated[str, Field(pattern=MEMORY)] = "512m"
    cpus: Annotated[float, Field(gt=0, le=64)] = 1.0


class Uploads(Model):
    """Requests with large bodies: nginx streams them to the app unbuffered, under their own rate
    limit, and refuses bodies over `max_bytes` itself."""

    path_pattern: Annotated[str, Field(min_length=2)]
    max_bytes: Annotated[int, Field(ge=1024)]

    @field_validator("path_pattern")
    @classmethod
    def _anchored_regex(cls, value: str) -> str:
        if not value.startswith("^/"):
            raise ValueError(f"{value!r}: write a regular expression anchored at the path's start, e.g. '^/upload$'")
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"{value!r} is not a regular expression: {error}") from None
        if any(ch.isspace() or ch in "{};\"'" for ch in value):
            raise ValueError(f"{value!r}: no spaces, braces, semicolons or quotes (nginx reads it unquoted)")
        return value


class Web(Model):
    """The HTTP process: blue/green slots behind nginx run it."""

    command: Command
    port: Port
    health: Health
    metrics: HttpPath | None = "/metrics"
    stop_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    resources: Resources = Resources()
    uploads: Uploads | None = None

    _metrics = field_validator("metrics")(lambda value: None if value is None else _http_path(value))


class WorkerHealth(Model):
    """An HTTP port the worker opens once it works (and its metrics, when it has any)."""

    port: Port
    path: HttpPath = "/metrics"
    metrics: bool = True

    _path = field_validator("path")(_http_path)


class Worker(Model):
    """A background process; no traffic reaches it, so its health is the port it opens."""

    name: Annotated[str, Field(pattern=NAME)]
    command: Command
    health: WorkerHealth | None = None
    stop_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    resources: Resources = Resources()


class Migrate(Model):
    """Run once per new image, on one host, before any slot switches (expand-only migrations)."""

    command: Command


class Postgres(Model):
    """A PostgreSQL database of its own, with an owner role (migrations) and an app role."""

    url_scheme: str = "postgresql"
    url_query: str = ""


class Redis(Model):
    url_scheme: Literal["redis", "rediss"] = "redis"
    database: Annotated[int, Field(ge=0, le=15)] = 0


class ObjectStorage(Model):
    """A bucket on aws; on hosts, the volume named here stands in for it."""

    volume: str


class Data(Model):
    postgres: Postgres | None = None
    redis: Redis | None = None
    object_storage: ObjectStorage | None = None

    def names(self) -> list[str]:
        return [name for name in DATA_SERVICES if getattr(self, name) is not None]


class Volume(Model):
    """Shared storage mounted into every process at `path` (the same files on every host)."""

    path: Annotated[str, Field(pattern=ABSOLUTE_PATH)]


# How a variable gets its value: a plain value, a secret made for each environment, or a value
# of a data service or of the platform.
class SecretRef(Model):
    secret: Annotated[str, Field(pattern=SECRET_NAME)]


class PostgresRef(Model):
    postgres: Literal["url", "host", "port", "database", "user", "password"]


class RedisRef(Model):
    redis: Literal["url", "host", "port", "user", "password"]


class VolumeRef(Model):
    volume: str


class PlatformRef(Model):
    """Facts of the environment: the proxies in front (for X-Forwarded-For), its name."""

    platform: Literal["proxies", "environment"]


REFERENCES: dict[str, type[Model]] = {
    "secret": SecretRef,
    "postgres": PostgresRef,
    "redis": RedisRef,
    "volume": VolumeRef,
    "platform": PlatformRef,
}


def _value_kind(value: object) -> str:
    """Which member of EnvValue a raw value is meant as: the reference's key, or a plain value."""
    if isinstance(value, dict):
        keys = [key for key in value if key in REFERENCES]
        return keys[0] if len(keys) == 1 and len(value) == 1 else "reference"
    return "plain"


class _NoReference(Model):
    """Stands for a mapping that is no known reference, so the error says what the forms are."""

    @model_validator(mode="before")
    @classmethod
    def _refuse(cls, _value: object) -> object:
        forms = ", ".join(f"{{{key}: ...}}" for key in REFERENCES)
        raise ValueError(f"a reference is one of {forms}; anything else is written as a plain value")


def plain_text(value: str | float | bool) -> str:
    """A plain value as an environment holds it (YAML's booleans as the words apps parse)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


EnvValue = Annotated[
    Annotated[str | int | float | bool, Tag("plain")]
    | Annotated[SecretRef, Tag("secret")]
    | Annotated[PostgresRef, Tag("postgres")]
    | Annotated[RedisRef, Tag("redis")]
    | Annotated[VolumeRef, Tag("volume")]
    | Annotated[PlatformRef, Tag("platform")]
    | Annotated[_NoReference, Tag("reference")],
    Discriminator(_value_kind),
]


class Slo(Model):
    availability_percent: Annotated[float, Field(gt=50, lt=100)] = 99.5
    latency_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5
    latency_percent: Annotated[float, Field(gt=50, lt=100)] = 99.0
    # Route templates that count; empty: every route but the health and metrics paths.
    routes: list[HttpPath] = []

    _routes = field_validator("routes")(lambda routes: [_http_path(route) for route in routes])


class SmokeCheck(Model):
    path: HttpPath
    status: Annotated[int, Field(ge=100, le=599)] = 200

    _path = field_validator("path")(_http_path)


class Definition(Model):
    service: Annotated[str, Field(pattern=NAME)]
    image: Image
    web: Web
    workers: list[Worker] = []
    migrate: Migrate | None = None
    environment: dict[Annotated[str, Field(pattern=ENV_NAME)], EnvValue] = {}
    data: Data = Data()
    volumes: dict[Annotated[str, Field(pattern=NAME)], Volume] = {}
    slo: Slo = Slo()
    smoke: list[SmokeCheck] = []
    hostname: Annotated[str, Field(pattern=HOSTNAME, max_length=253)] | None = None

    @field_validator("environment")
    @classmethod
    def _no_secret_values(cls, environment: dict[str, EnvValue]) -> dict[str, EnvValue]:
        for name, value in environment.items():
            if isinstance(value, str) and URL_WITH_PASSWORD.match(value):
                raise ValueError(
                    f"environment.{name} holds a URL with a password: never write a credential here; use a "
                    "reference, e.g. {postgres: url}, {redis: url} or {secret: NAME}"
                )
            if isinstance(value, str | int | float) and not isinstance(value, bool) and SECRET_LOOKING.search(name):
                raise ValueError(
                    f"environment.{name} looks like a secret and is given as a value: write {{secret: "
                    f"{name.lower()}}} instead, and each environment generates its own"
                )
        return environment

    @model_validator(mode="after")
    def _consistent(self) -> Definition:
        names = [worker.name for worker in self.workers]
        if duplicates := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(f"workers: the name {duplicates[0]!r} is used twice; give each worker its own name")
        if self.migrate is not None and self.data.postgres is None:
            raise ValueError("migrate needs a database: add data.postgres, or remove migrate")
        if self.data.object_storage is not None and self.data.object_storage.volume not in self.volumes:
            raise ValueError(
                f"data.object_storage.volume names {self.data.object_storage.volume!r}, which volumes does not "
                "define: add it under volumes"
            )
        for name, value in self.environment.items():
            if isinstance(value, PostgresRef) and self.data.postgres is None:
                raise ValueError(f"environment.{name} reads postgres, which data does not list: add data.postgres")
            if isinstance(value, RedisRef) and self.data.redis is None:
                raise ValueError(f"environment.{name} reads redis, which data does not list: add data.redis")
            if isinstance(value, VolumeRef) and value.volume not in self.volumes:
                raise ValueError(
                    f"environment.{name} reads volume {value.volume!r}, which volumes does not define: add it"
                )
        return self

    def secret_names(self) -> list[str]:
        return sorted({value.secret for value in self.environment.values() if isinstance(value, SecretRef)})
