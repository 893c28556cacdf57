"""`python -m dashboards generate|check`: the committed files are exactly what the code generates."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from dashboards import generate
from dashboards.__main__ import main
from tests.dashboards.tools import REPO_ROOT, run


def test_committed_files_match_a_fresh_generation() -> None:
    files = generate.expected_files(generate.DEFAULT_RUNBOOK_BASE_URL)

    assert generate.differences(files) == []


def test_check_command_passes_on_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_reports_edited_missing_and_stray_files(tmp_path: Path) -> None:
    files = generate.expected_files(generate.DEFAULT_RUNBOOK_BASE_URL)
    generate.write(files, root=tmp_path)
    (tmp_path / "rules" / "redis.rules.yml").write_text("groups: []\n")
    (tmp_path / "grafana" / "dashboards" / "slipway-nginx.json").unlink()
    (tmp_path / "rules" / "old.rules.yml").write_text("groups: []\n")

    assert generate.differences(files, root=tmp_path) == [
        "out of date: dashboards/rules/redis.rules.yml",
        "missing: dashboards/grafana/dashboards/slipway-nginx.json",
        "not generated any more: dashboards/rules/old.rules.yml",
    ]


def test_generate_writes_only_what_changed(tmp_path: Path) -> None:
    files = generate.expected_files(generate.DEFAULT_RUNBOOK_BASE_URL)

    assert len(generate.write(files, root=tmp_path)) == len(files)
    assert generate.write(files, root=tmp_path) == []


def test_runbook_base_url_changes_every_runbook_link() -> None:
    files = generate.expected_files("https://git.example.org/ops/slipway/-/blob/main")
    rules = "".join(text for path, text in files.items() if path.parts[0] == "rules")

    assert "https://git.example.org/ops/slipway/-/blob/main/ops/runbooks/RedisDown.md" in rules
    assert generate.DEFAULT_RUNBOOK_BASE_URL not in rules


def test_bad_runbook_base_url_is_refused_with_what_to_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--runbook-base-url", "github.com/x"]) == 2
    assert "give the http(s) URL of the repository" in capsys.readouterr().err


def test_cli_runs_as_a_module(tmp_path: Path) -> None:
    # A copy of the package, so `generate` never touches the working tree's files.
    shutil.copytree(REPO_ROOT / "dashboards", tmp_path / "dashboards")
    (tmp_path / "dashboards" / "rules" / "slo.rules.yml").write_text("stale\n")
    python = sys.executable

    stale = run([python, "-m", "dashboards", "check"], cwd=tmp_path)
    generated = run([python, "-m", "dashboards", "generate"], cwd=tmp_path)
    fresh = run([python, "-m", "dashboards", "check"], cwd=tmp_path)

    assert stale.returncode == 1
    assert "out of date: dashboards/rules/slo.rules.yml" in stale.stderr
    assert generated.returncode == 0
    assert "dashboards/rules/slo.rules.yml" in generated.stdout
    assert fresh.returncode == 0, fresh.stderr
