"""The Debian mirror this machine uses, read from its apt sources (deb822 and one-line formats).

The fleet's base image is built from the same mirror the operator's machine already reaches, so
an air-gapped network with a private mirror works the same way as this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

APT_DIR = Path("/etc/apt")
DEFAULT_MIRROR = "http://deb.debian.org/debian"


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def _deb822_sources(text: str) -> list[AptSource]:
    sources = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes") == "no":
            continue
        for uri in fields.get("uris", "").split():
            sources.append(
                AptSource(uri, tuple(fields.get("suites", "").split()), tuple(fields.get("components", "").split()))
            )
    return sources


def _one_line_sources(text: str) -> list[AptSource]:
    sources = []
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = [word for word in words[1:] if not word.startswith("[")]  # drop [options]
        if len(words) >= 3:
            sources.append(AptSource(words[0], (words[1],), tuple(words[2:])))
    return sources


def machine_sources(apt_dir: Path = APT_DIR) -> list[AptSource]:
    """Every enabled `deb` source of the machine, in apt's file order."""
    sources: list[AptSource] = []
    main_list = apt_dir / "sources.list"
    if main_list.is_file():
        sources += _one_line_sources(main_list.read_text())
    parts = apt_dir / "sources.list.d"
    for path in sorted(parts.glob("*")) if parts.is_dir() else []:
        if path.suffix == ".sources":
            sources += _deb822_sources(path.read_text())
        elif path.suffix == ".list":
            sources += _one_line_sources(path.read_text())
    return sources


def debian_sources(release: str, apt_dir: Path = APT_DIR) -> list[AptSource]:
    """The sources that serve Debian `release` itself (main archive, updates, security)."""
    return [
        source
        for source in machine_sources(apt_dir)
        if "main" in source.components
        and source.suites
        and all(suite.split("/")[0].startswith(release) for suite in source.suites)
    ]


def debian_mirror(release: str, apt_dir: Path = APT_DIR) -> str:
    """The mirror URI to debootstrap `release` from (the first one carrying the release suite)."""
    for source in debian_sources(release, apt_dir):
        if release in source.suites:
            return source.uri
    return DEFAULT_MIRROR


def render_deb822(sources: list[AptSource]) -> str:
    """Sources as a deb822 file for the image (signed by the keyring debootstrap installs)."""
    stanzas = [
        "\n".join(
            [
                "Types: deb",
                f"URIs: {source.uri}",
                f"Suites: {' '.join(source.suites)}",
                f"Components: {' '.join(source.components)}",
                "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
            ]
        )
        for source in sources
    ]
    return "\n\n".join(stanzas) + "\n"
