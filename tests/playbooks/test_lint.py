"""Static checks of playbooks/: yamllint, ansible-lint (production profile) and a syntax check.

These run in `make test-fast`; the end-to-end runs of site.yml against the fleet are in tests/e2e.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
BIN = Path(sys.executable).parent
PLAYBOOK_FILES = sorted(p.name for p in PLAYBOOKS.glob("*.yml"))


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def test_yamllint_passes_on_playbooks() -> None:
    result = _run([str(BIN / "yamllint"), "-s", "playbooks"], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ansible_lint_passes_with_production_profile() -> None:
    result = _run([str(BIN / "ansible-lint"), "--nocolor", "-f", "pep8"], cwd=PLAYBOOKS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("playbook", PLAYBOOK_FILES)
def test_syntax_check_passes(playbook: str) -> None:
    inventory = "lb,app1,app2,db,cache,mon,"
    result = _run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", inventory, playbook], cwd=PLAYBOOKS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_role_has_an_argument_spec_matching_its_defaults() -> None:
    import yaml  # noqa: PLC0415 - only this test reads YAML

    for role in sorted((PLAYBOOKS / "roles").iterdir()):
        defaults = yaml.safe_load((role / "defaults/main.yml").read_text()) or {}
        specs = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]
        documented = set(specs["options"])
        assert set(defaults) == documented, f"{role.name}: defaults and argument_specs differ"
        assert all(name.startswith(f"{role.name}_") for name in defaults), f"{role.name}: unprefixed variable"
