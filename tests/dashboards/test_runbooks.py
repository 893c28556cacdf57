"""Every alert has a runbook in ops/runbooks/, and every runbook belongs to an alert."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards import catalog
from dashboards.generate import DEFAULT_RUNBOOK_BASE_URL
from dashboards.rulebook import runbook_url
from tests.dashboards.tools import RUNBOOKS_DIR

SECTIONS = ("## Meaning", "## Impact", "## Diagnosis", "## Fix")
RUNBOOKS = sorted(path for path in RUNBOOKS_DIR.glob("*.md") if path.name != "README.md")


@pytest.mark.parametrize("alert_name", catalog.alert_names())
def test_alert_has_runbook_with_every_section(alert_name: str) -> None:
    runbook = RUNBOOKS_DIR / f"{alert_name}.md"

    assert runbook.is_file(), f"write ops/runbooks/{alert_name}.md"
    text = runbook.read_text()
    assert text.startswith(f"# {alert_name}\n")
    missing = [section for section in SECTIONS if f"\n{section}\n" not in text]
    assert missing == [], f"{runbook.name} lacks {missing}"


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda p: p.name)
def test_runbook_belongs_to_alert(runbook: Path) -> None:
    assert runbook.stem in catalog.alert_names(), f"{runbook.name} documents no alert; remove or rename it"


def test_runbook_urls_point_at_runbook_files() -> None:
    for alert in catalog.all_alerts():
        url = alert.to_rule(DEFAULT_RUNBOOK_BASE_URL)["annotations"]["runbook_url"]

        assert url == runbook_url(DEFAULT_RUNBOOK_BASE_URL, alert.name)
        assert url.endswith(f"/ops/runbooks/{alert.name}.md")
