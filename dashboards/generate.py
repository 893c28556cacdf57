"""Writing every generated file and comparing the committed ones with a fresh generation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dashboards import catalog
from dashboards.boards import provisioning, render_dashboards
from dashboards.yamlout import dump

PACKAGE_DIR = Path(__file__).parent

# runbook_url annotations point at the runbooks in the repository. Forks and mirrors set their own
# base with --runbook-base-url or SLIPWAY_RUNBOOK_BASE_URL; the committed files use the default.
DEFAULT_RUNBOOK_BASE_URL = "https://github.com/slipway-kit/slipway/blob/main"
RUNBOOK_BASE_ENV = "SLIPWAY_RUNBOOK_BASE_URL"

GRAFANA_DASHBOARDS = Path("grafana") / "dashboards"
GRAFANA_PROVISIONING = Path("grafana") / "provisioning"


def runbook_base_url(explicit: str | None = None) -> str:
    base = explicit or os.environ.get(RUNBOOK_BASE_ENV) or DEFAULT_RUNBOOK_BASE_URL
    if not base.startswith(("https://", "http://")):
        raise ValueError(
            f"runbook base URL {base!r}: give the http(s) URL of the repository, e.g. {DEFAULT_RUNBOOK_BASE_URL}"
        )
    return base


def expected_files(base_url: str) -> dict[Path, str]:
    """Path (relative to the dashboards package) -> content of every generated file."""
    files: dict[Path, str] = {}
    for name, text in catalog.render_rule_files(base_url).items():
        files[Path("rules") / name] = text
    for name, text in render_dashboards().items():
        files[GRAFANA_DASHBOARDS / name] = text
    files[GRAFANA_PROVISIONING / "datasources" / "slipway.yaml"] = dump(provisioning.datasources())
    files[GRAFANA_PROVISIONING / "dashboards" / "slipway.yaml"] = dump(provisioning.dashboard_provider())
    return files


def write(files: Mapping[Path, str], root: Path = PACKAGE_DIR) -> list[Path]:
    written = []
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(relative)
    return written


def differences(files: Mapping[Path, str], root: Path = PACKAGE_DIR) -> list[str]:
    """What differs between the generation and the files on disk, one line per file."""
    problems = []
    for relative, text in files.items():
        target = root / relative
        if not target.exists():
            problems.append(f"missing: dashboards/{relative}")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"out of date: dashboards/{relative}")
    for directory in {relative.parts[0] for relative in files}:
        for path in sorted((root / directory).rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and relative not in files and path.suffix in {".yml", ".yaml", ".json"}:
                problems.append(f"not generated any more: dashboards/{relative}")
    return problems
