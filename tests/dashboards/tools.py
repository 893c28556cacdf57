"""Finding the Prometheus tools the dashboard tests run (Debian's prometheus and alertmanager)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = REPO_ROOT / "dashboards" / "rules"
PROMTOOL_TESTS_DIR = Path(__file__).parent / "promtool"
RUNBOOKS_DIR = REPO_ROOT / "ops" / "runbooks"


def debian_tool(name: str, package: str) -> str:
    """The tool on PATH or where Debian installs it; fails with what to install otherwise."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if found is None:
        pytest.fail(f"{name} not found: install the Debian package {package} (make system-packages does)")
    return found


def run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd, timeout=240)
