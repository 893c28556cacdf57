"""The image of a release: built once, tagged `<version>-<commit>`, pushed to the fleet's registry.

The version is stamped into the image (APP_VERSION, an OCI label) by a one-line derived image, so
a release of an already built image (`--from-image`, or the same code under a new version) costs
a metadata layer, not a rebuild.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ops import images
from ops.docker_cli import docker, exists, inspect
from ops.errors import OpsError
from ops.fleet import registry
from ops.fleet.state import FleetState

REVISION_LABEL = "org.opencontainers.image.revision"
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_version(version: str) -> str:
    if version == "latest" or not VERSION_PATTERN.match(version):
        raise OpsError(
            f"{version!r} is not a release version",
            step="check the version",
            fix="use letters, digits, '.', '_' or '-' (at most 64, never `latest`), e.g. 1.4.2 or v3",
        )
    return version


@dataclass(frozen=True)
class ReleaseImage:
    version: str
    commit: str
    local_tag: str  # slipway/app:<version>-<commit> on this machine
    pull_name: str  # what the hosts pull
    # The content released: the ID (a digest of its layers and config) of the image the version was
    # stamped on. The same version name is never released again with another one.
    content: str = ""


def stamp_version(base: str, version: str, commit: str) -> str:
    """Build `slipway/app:<version>-<commit>` FROM `base` with APP_VERSION=version; return the tag."""
    tag = f"{images.APP_REPOSITORY}:{version}-{commit}"
    dockerfile = (
        f"FROM {base}\n"
        f"ENV APP_VERSION={version}\n"
        f'LABEL org.opencontainers.image.version="{version}" {REVISION_LABEL}="{commit}"\n'
    )
    docker("build", "-q", "-t", tag, "-", input_bytes=dockerfile.encode(), step=f"stamp version {version}")
    return tag


def prepare(version: str, state: FleetState, *, from_image: str = "") -> ReleaseImage:
    """Build (or reuse `from_image`), stamp `version`, push to the environment's registry."""
    check_version(version)
    if from_image:
        if not exists("image", from_image):
            raise OpsError(
                f"image {from_image} is not on this machine",
                step="find the image to release",
                fix="build it first (`python -m ops.images app`) or drop --from-image to build the current code",
            )
        labels = inspect("image", from_image).get("Config", {}).get("Labels") or {}
        # The image's own commit (the app build labels it), not this checkout's.
        base, commit = from_image, labels.get(REVISION_LABEL) or images.git_commit()
    else:
        built = images.build_app_image()
        base, commit = built.tag, built.commit
    content = str(inspect("image", base).get("Id", ""))
    local_tag = stamp_version(base, version, commit)
    pull_name = registry.push_image(state, local_tag)
    return ReleaseImage(version, commit, local_tag, pull_name, content)
