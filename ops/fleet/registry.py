"""The environment's image registry: a container on the private network, published on 127.0.0.1.

The operator pushes to `127.0.0.1:<port>` (Docker allows loopback registries without trusting
their certificate); the app hosts pull from `<address>:5000` and trust the environment's CA.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.request

from ops.docker_cli import docker, exists, inspect
from ops.errors import OpsError
from ops.fleet import model
from ops.fleet.state import EnvPaths, FleetState
from ops.images import IMAGES_DIR

REGISTRY_IMAGE = "slipway/registry:bookworm"
REGISTRY_UID = 10002


def ensure_registry_image() -> None:
    docker(
        "build",
        "-q",
        "-t",
        REGISTRY_IMAGE,
        str(IMAGES_DIR / "registry"),
        step="build the registry image",
    )


def _stage_tls(paths: EnvPaths) -> None:
    """Copy the registry's certificate and key where its uid can read them, and only it."""
    target = paths.registry_tls_dir
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name in ("registry.crt", "registry.key"):
        shutil.copyfile(paths.certs_dir / name, target / name)
        (target / name).chmod(0o400)
        os.chown(target / name, REGISTRY_UID, REGISTRY_UID)
    target.chmod(0o500)
    os.chown(target, REGISTRY_UID, REGISTRY_UID)


def ensure_registry(paths: EnvPaths, state: FleetState) -> str:
    name = model.registry_name(state.env)
    if exists("container", name):
        if not inspect("container", name)["State"]["Running"]:
            docker("start", name, step="start the registry", host="registry")
            return "started"
        return "running"
    _stage_tls(paths)
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--label",
        f"{model.LABEL}={state.env}",
        "--label",
        "slipway.host=registry",
        "--network",
        state.network,
        "--ip",
        state.registry_address,
        "--network-alias",
        "registry",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--restart",
        "unless-stopped",
        "-v",
        f"{model.registry_volume(state.env)}:/var/lib/docker-registry",
        "-v",
        f"{paths.registry_tls_dir}:/etc/docker/registry/tls:ro",
        "-p",
        f"127.0.0.1:{state.registry_port}:5000",
        REGISTRY_IMAGE,
        step="create the registry",
        host="registry",
    )
    return "created"


def wait_for_registry(state: FleetState, ca_file: str, timeout: float = 30.0) -> None:
    """The registry answers its API on the published port with the environment's certificate."""
    import ssl  # noqa: PLC0415 - only needed here

    context = ssl.create_default_context(cafile=ca_file)
    url = f"https://127.0.0.1:{state.registry_port}/v2/"
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, context=context, timeout=3) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as error:
            last = str(error)
        time.sleep(0.5)
    raise OpsError(
        f"the registry does not answer on {url}",
        host="registry",
        step="start the registry",
        detail=last,
        fix=f"read `docker logs {model.registry_name(state.env)}`",
    )


def push_image(state: FleetState, image: str) -> str:
    """Push a local image into the environment's registry; return the name the hosts pull."""
    local_name = f"127.0.0.1:{state.registry_port}/{image}"
    docker("tag", image, local_name, step="tag the image for the registry")
    docker("push", local_name, step="push the image to the registry", host="registry", timeout=1800)
    return f"{state.registry_address}:{model.REGISTRY_PORT}/{image}"
