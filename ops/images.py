"""The kit's images: the Debian base, the fleet host, and the app (the image its definition builds).

`python -m ops.images base|host|app|all` builds what is missing and prints how long each took.
Builds reuse Docker's cache, so asking again for an image that is up to date costs seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ops import apt_sources
from ops.docker_cli import docker, exists
from ops.docker_engine import ensure_engine
from ops.errors import OpsError
from ops.service.load import load as load_definition

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = REPO_ROOT / "ops" / "images"
WHEELHOUSE = IMAGES_DIR / "wheelhouse"
APP_REQUIREMENTS = REPO_ROOT / "requirements" / "app.txt"

DEBIAN_RELEASE = "bookworm"
BASE_IMAGE = "debian:bookworm-slim"
HOST_IMAGE = "slipway/host:bookworm"
APP_REPOSITORY = "slipway/app"

# What Debian's official slim images configure: no docs or man pages, apt caches cleaned.
_SLIM_DPKG_EXCLUDES = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""
_APT_DOCKER_CLEAN = """\
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
"""


def _pull(image: str) -> bool:
    result = docker("pull", "-q", image, step=f"pull {image}", check=False, timeout=600)
    return result.returncode == 0


def _debootstrap(root: Path, mirror: str) -> None:
    if shutil.which("debootstrap") is None:
        raise OpsError(
            "debootstrap is not installed",
            step="build the Debian base image",
            fix="run ./ops/install-packages.sh (ops/packages/fleet.txt lists debootstrap)",
        )
    result = subprocess.run(
        ["debootstrap", "--variant=minbase", DEBIAN_RELEASE, str(root), mirror],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log = root / "debootstrap" / "debootstrap.log"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else result.stderr[-2000:]
        raise OpsError(
            f"debootstrap of {DEBIAN_RELEASE} from {mirror} failed",
            step="build the Debian base image",
            detail=detail,
            fix="check that the mirror in /etc/apt/sources.list.d answers (`apt-get update`)",
        )


def _slim_down(root: Path) -> None:
    (root / "etc/dpkg/dpkg.cfg.d/docker").write_text(_SLIM_DPKG_EXCLUDES)
    (root / "etc/apt/apt.conf.d/docker-clean").write_text(_APT_DOCKER_CLEAN)
    sources = apt_sources.debian_sources(DEBIAN_RELEASE) or [
        apt_sources.AptSource(apt_sources.DEFAULT_MIRROR, (DEBIAN_RELEASE,), ("main",))
    ]
    (root / "etc/apt/sources.list.d/debian.sources").write_text(apt_sources.render_deb822(sources))
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    for junk in (
        "var/lib/apt/lists",
        "var/cache/apt/archives",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/info",
    ):
        for child in (root / junk).glob("*"):
            if child.is_dir() and child.name != "partial":
                shutil.rmtree(child)
            elif child.is_file() and not child.name.endswith("copyright"):
                child.unlink()


def ensure_base_image(*, rebuild: bool = False) -> str:
    """`debian:bookworm-slim`: present, pulled, or made with debootstrap from the machine's mirror."""
    if not rebuild and exists("image", BASE_IMAGE):
        return "present"
    if not rebuild and _pull(BASE_IMAGE):
        return "pulled"
    mirror = apt_sources.debian_mirror(DEBIAN_RELEASE)
    with tempfile.TemporaryDirectory(prefix="slipway-debootstrap-", dir="/var/tmp") as tmp:
        root = Path(tmp) / "rootfs"
        _debootstrap(root, mirror)
        _slim_down(root)
        # The context manager closes tar's pipe and waits for it, even when the import fails.
        with subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE) as tar:
            imported = subprocess.run(
                ["docker", "import", "--change", 'CMD ["bash"]', "-", BASE_IMAGE],
                stdin=tar.stdout,
                capture_output=True,
                text=True,
                check=False,
            )
    if imported.returncode != 0 or tar.returncode != 0:
        raise OpsError(
            "importing the debootstrapped root filesystem into Docker failed",
            step="build the Debian base image",
            detail=imported.stderr[-2000:],
            fix="check the Docker engine (`docker info`) and free disk space, then run again",
        )
    return f"built with debootstrap from {mirror}"


def _build(tag: str, dockerfile: Path, context: Path, build_args: dict[str, str], step: str) -> None:
    args = ["build", "-q", "-t", tag, "-f", str(dockerfile)]
    for key, value in build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    docker(*args, str(context), step=step, timeout=3600)


def ensure_host_image() -> str:
    """The fleet host image (systemd, sshd, python3, sudo) on top of the base image."""
    ensure_base_image()
    _build(HOST_IMAGE, IMAGES_DIR / "host" / "Dockerfile", IMAGES_DIR / "host", {}, "build the host image")
    return HOST_IMAGE


def _wheelhouse_stamp() -> Path:
    return WHEELHOUSE / ".requirements.sha256"


def build_wheelhouse() -> Path:
    """Download the app's pinned wheels for CPython 3.11 on manylinux x86_64, once per lock file."""
    digest = hashlib.sha256(APP_REQUIREMENTS.read_bytes()).hexdigest()
    stamp = _wheelhouse_stamp()
    if stamp.exists() and stamp.read_text() == digest:
        return WHEELHOUSE
    for old in WHEELHOUSE.glob("*.whl"):
        old.unlink()
    platforms = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 16, -1)] + ["manylinux2014_x86_64"]
    command = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check"]
    command += ["--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"]
    command += [arg for platform in platforms for arg in ("--platform", platform)]
    command += ["-d", str(WHEELHOUSE), "-r", str(APP_REQUIREMENTS)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise OpsError(
            "downloading the app's wheels failed",
            step="build the wheelhouse",
            detail=result.stderr.strip()[-2000:],
            fix="check that pip on this machine reaches PyPI (`pip download fastapi`), then run again",
        )
    stamp.write_text(digest)
    return WHEELHOUSE


@dataclass(frozen=True)
class AppImage:
    version: str
    commit: str

    @property
    def tag(self) -> str:
        return f"{APP_REPOSITORY}:{self.version}-{self.commit}"


def project_version() -> str:
    return str(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"])


def git_commit() -> str:
    """The short commit of the working tree, with `-dirty` when app code or its lock changed since."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "nogit"
    status = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "app", "requirements/app.txt"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return f"{head}-dirty" if status.strip() else head


def build_app_image(*, use_wheelhouse: bool = True) -> AppImage:
    """Build the app definition's image, tagged `slipway/app:<version>-<commit>` (and `:<version>`)."""
    source = load_definition().image
    if source.dockerfile is None:
        raise OpsError(
            f"the app definition pulls its image ({source.registry}); there is nothing to build",
            step="build the app image",
            fix="release an image of that registry with `./deploy.sh ENV --from-image IMAGE`",
        )
    ensure_base_image()
    image = AppImage(project_version(), git_commit())
    build_args = {"APP_VERSION": image.version, "GIT_COMMIT": image.commit}
    if use_wheelhouse:
        build_wheelhouse()
        build_args |= {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/wheels"}
    _build(image.tag, REPO_ROOT / source.dockerfile, REPO_ROOT / source.context, build_args, "build the app image")
    docker("tag", image.tag, f"{APP_REPOSITORY}:{image.version}", step="tag the app image")
    return image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.images", description=__doc__)
    parser.add_argument("which", choices=["base", "host", "app", "all"])
    parser.add_argument("--rebuild-base", action="store_true", help="debootstrap the base image again")
    parser.add_argument(
        "--from-pypi", action="store_true", help="let the app build install from PyPI (no local wheelhouse)"
    )
    args = parser.parse_args(argv)
    try:
        ensure_engine()
        if args.which in ("base", "all"):
            started = time.monotonic()
            how = ensure_base_image(rebuild=args.rebuild_base)
            print(f"{BASE_IMAGE}: {how} ({time.monotonic() - started:.0f}s)")
        if args.which in ("host", "all"):
            started = time.monotonic()
            print(f"{ensure_host_image()}: built ({time.monotonic() - started:.0f}s)")
        if args.which in ("app", "all"):
            started = time.monotonic()
            image = build_app_image(use_wheelhouse=not args.from_pypi and not os.environ.get("SLIPWAY_FROM_PYPI"))
            print(f"{image.tag}: built ({time.monotonic() - started:.0f}s)")
    except OpsError as error:
        print(error.render(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
