"""The Debian mirror is read from the machine's apt sources in both formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import apt_sources

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main
"""

NODESOURCE = """\
Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
"""


@pytest.fixture
def apt_dir(tmp_path: Path) -> Path:
    (tmp_path / "sources.list.d").mkdir()
    return tmp_path


def test_debian_mirror_reads_deb822_sources(apt_dir: Path) -> None:
    (apt_dir / "sources.list.d" / "debian.sources").write_text(DEB822)
    (apt_dir / "sources.list.d" / "nodesource.sources").write_text(NODESOURCE)

    assert apt_sources.debian_mirror("bookworm", apt_dir) == "http://mirror.example/debian"
    uris = [source.uri for source in apt_sources.debian_sources("bookworm", apt_dir)]
    assert uris == ["http://mirror.example/debian", "http://mirror.example/debian-security"]


def test_debian_mirror_reads_one_line_sources(apt_dir: Path) -> None:
    (apt_dir / "sources.list").write_text(
        "# comment\ndeb [arch=amd64] http://old.example/debian bookworm main contrib\n"
        "deb-src http://old.example/debian bookworm main\n"
    )

    assert apt_sources.debian_mirror("bookworm", apt_dir) == "http://old.example/debian"


def test_debian_mirror_ignores_disabled_files_and_other_releases(apt_dir: Path) -> None:
    (apt_dir / "sources.list.d" / "debian.sources.disabled").write_text(DEB822)
    (apt_dir / "sources.list.d" / "trixie.list").write_text("deb http://t.example/debian trixie main\n")

    assert apt_sources.debian_mirror("bookworm", apt_dir) == apt_sources.DEFAULT_MIRROR


def test_render_deb822_round_trips(apt_dir: Path) -> None:
    (apt_dir / "sources.list.d" / "debian.sources").write_text(DEB822)
    sources = apt_sources.debian_sources("bookworm", apt_dir)
    (apt_dir / "sources.list.d" / "debian.sources").write_text(apt_sources.render_deb822(sources))

    assert apt_sources.debian_sources("bookworm", apt_dir) == sources
