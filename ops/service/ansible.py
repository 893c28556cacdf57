"""The app definition as Ansible variables: one plain mapping, `slipway_service`, that the
playbooks' group_vars map onto the roles (the vars plugin in playbooks/vars_plugins/ provides it)."""

from __future__ import annotations

from typing import Any

from ops.service.definition import (
    Definition,
    PlatformRef,
    PostgresRef,
    RedisRef,
    Resources,
    SecretRef,
    VolumeRef,
    plain_text,
)


def _variable(name: str, value: object) -> dict[str, str]:
    """One environment variable: its name, where its value comes from (kind) and which one (key)."""
    match value:
        case SecretRef(secret=secret):
            return {"name": name, "kind": "secret", "key": secret}
        case PostgresRef(postgres=field):
            return {"name": name, "kind": "postgres", "key": field}
        case RedisRef(redis=field):
            return {"name": name, "kind": "redis", "key": field}
        case VolumeRef(volume=volume):
            return {"name": name, "kind": "volume", "key": volume}
        case PlatformRef(platform=fact):
            return {"name": name, "kind": "platform", "key": fact}
        case str() | int() | float() | bool():
            return {"name": name, "kind": "plain", "value": plain_text(value)}
    raise TypeError(f"unexpected value of {name}: {value!r}")


def _resources(resources: Resources) -> dict[str, Any]:
    return {"memory": resources.memory, "cpus": f"{resources.cpus:g}"}


def service_vars(definition: Definition) -> dict[str, Any]:
    web = definition.web
    return {
        "name": definition.service,
        "web": {
            "command": list(web.command),
            "port": web.port,
            "live": web.health.live,
            "ready": web.health.ready,
            "metrics": web.metrics,
            "stop_seconds": web.stop_seconds,
            "uploads": web.uploads.model_dump() if web.uploads else None,
            **_resources(web.resources),
        },
        "workers": [
            {
                "name": worker.name,
                "command": list(worker.command),
                "health_port": worker.health.port if worker.health else None,
                "health_path": worker.health.path if worker.health else None,
                "metrics": bool(worker.health and worker.health.metrics),
                "stop_seconds": worker.stop_seconds,
                **_resources(worker.resources),
            }
            for worker in definition.workers
        ],
        "migrate": list(definition.migrate.command) if definition.migrate else None,
        "environment": [_variable(name, value) for name, value in definition.environment.items()],
        "secrets": definition.secret_names(),
        "data": definition.data.names(),
        "postgres": definition.data.postgres.model_dump() if definition.data.postgres else None,
        "redis": definition.data.redis.model_dump() if definition.data.redis else None,
        "volumes": {name: volume.path for name, volume in definition.volumes.items()},
        "smoke": [check.model_dump() for check in definition.smoke],
        "hostname": definition.hostname,
    }
