"""The kit names no part of the reference API: its commands, variables and routes live in `app/`
and its definition (`app/slipway.yml`), and the kit reads them from there.

The files that still name them are listed with the reason; the list may only shrink (a file that
no longer names them must leave it, so the list stays true).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The kit's code and configuration (docs and tests may speak of the reference API).
KIT = ("playbooks", "ops", "infra", "dashboards", "deploy.sh", "Makefile", "Pulumi.yaml")
REFERENCE_API = re.compile(
    r"create-key|python -m app\b|\b(DATABASE_URL|REDIS_URL|SECRET_KEY|STORAGE_PATH|STORAGE_BACKEND|MAX_UPLOAD_BYTES"
    r"|WORKER_METRICS_PORT|SHUTDOWN_GRACE_SECONDS|FORWARDED_ALLOW_IPS)\b|/api/v1/(projects|videos|sessions|stats)"
)
STILL_NAMING = {
    # The reference API's own end-to-end check and benchmarks: about that API by design.
    "ops/smoke.py": "the reference API's smoke path (upload, process, list)",
    "ops/bench/__main__.py": "benchmarks of the reference API's endpoints",
    "ops/bench/hostile.py": "benchmarks of the reference API's limits",
    # Not yet generated from the definition.
    "ops/runbooks/ApiLatencyErrorBudgetBurn.md": "runbooks name the reference API's routes",
    "ops/runbooks/WorkerJobsFailing.md": "runbooks name the reference API's worker",
    "ops/runbooks/WorkerQueueGrowing.md": "runbooks name the reference API's worker",
}


def _files() -> list[Path]:
    found: list[Path] = []
    for name in KIT:
        path = ROOT / name
        found += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return [p for p in found if "__pycache__" not in p.parts and p.suffix not in {".pyc", ".json"}]


def test_the_kit_names_no_part_of_the_reference_api_outside_the_known_files() -> None:
    naming = {
        str(path.relative_to(ROOT))
        for path in _files()
        if REFERENCE_API.search(path.read_text(encoding="utf-8", errors="replace"))
    }
    assert not naming - set(STILL_NAMING), "name them in app/slipway.yml and read them from the definition"
    assert not set(STILL_NAMING) - naming, "these no longer name the reference API: remove them from STILL_NAMING"
