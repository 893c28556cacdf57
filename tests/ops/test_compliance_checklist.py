"""The checklist data (ops/compliance/checklist.yml) against everything that names a control:
the tests' @control markers, the waivers, the roles' comments and the docs. A control or a
deviation that exists in one place only fails here, and so does a stale generated document."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ops.compliance import checklist_doc
from ops.compliance.checklist import CHECKLIST_FILE, GROUPS, ChecklistError, checklist, load
from ops.compliance.cli import main
from ops.compliance.run import REPO_ROOT, SUITE
from tests.compliance.checklist import ChecklistDataError, control

# An id, then any continuation: a range (CTR-11..13) or a list (ALL-72/73, CTR-01, 03, 04).
CONTROL_REF = re.compile(rf"\b((?:{'|'.join(GROUPS)})-)(\d\d)((?:(?:\.\.|/|, )\d\d\b)*)")
DEVIATION_REF = re.compile(r"\bC-(\d{1,2})\b")
MARKER = re.compile(r'@control\("([^"]+)"\)')
TEXT_SUFFIXES = {".py", ".yml", ".yaml", ".md", ".j2", ".cfg", ".sh", ".toml", ".txt", ".ini", ".json", ""}
# The data itself, what is generated from it, and these tests' own examples.
NOT_SCANNED = {
    CHECKLIST_FILE.relative_to(REPO_ROOT).as_posix(),
    checklist_doc.DOC_PATH,
    "tests/ops/test_compliance_checklist.py",
}


def control_refs(text: str) -> set[str]:
    found: set[str] = set()
    for prefix, first, rest in CONTROL_REF.findall(text):
        found.add(prefix + first)
        previous = int(first)
        for separator, number in re.findall(r"(\.\.|/|, )(\d\d)", rest):
            if separator == "..":
                found |= {f"{prefix}{n:02d}" for n in range(previous, int(number) + 1)}
            found.add(prefix + number)
            previous = int(number)
    return found


def _repository_files() -> list[Path]:
    """Tracked files and new ones not ignored, so a colleague's uncommitted file counts too."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    paths = [REPO_ROOT / name for name in listed if name and name not in NOT_SCANNED]
    return [p for p in paths if p.is_file() and (p.suffix in TEXT_SUFFIXES or p.name == "Dockerfile")]


def _references(pattern: str) -> dict[str, set[str]]:
    """id -> the files that name it."""
    found: dict[str, set[str]] = {}
    for path in _repository_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        ids = control_refs(text) if pattern == "control" else {f"C-{n}" for n in DEVIATION_REF.findall(text)}
        for found_id in ids:
            found.setdefault(found_id, set()).add(path.relative_to(REPO_ROOT).as_posix())
    return found


def _markers() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for module in sorted(SUITE.glob("test_*.py")):
        for control_id in MARKER.findall(module.read_text(encoding="utf-8")):
            found.setdefault(control_id, set()).add(module.name)
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(CTR-11..13)", {"CTR-11", "CTR-12", "CTR-13"}),
        ("ALL-72/73, DB-27", {"ALL-72", "ALL-73", "DB-27"}),
        ("CTR-01, 03, 04, 05)", {"CTR-01", "CTR-03", "CTR-04", "CTR-05"}),
        ("ALL-52 and SSH-01", {"ALL-52", "SSH-01"}),
        ("XALL-01 or ALL-1 or FOO-01", set()),
    ],
)
def test_control_refs_reads_ids_ranges_and_lists(text: str, expected: set[str]) -> None:
    assert control_refs(text) == expected


def test_checklist_has_every_group() -> None:
    assert {group: bool(checklist().in_group(group)) for group in GROUPS} == dict.fromkeys(GROUPS, True)


def test_every_control_named_in_the_repository_is_in_the_checklist() -> None:
    missing = {ref: sorted(files) for ref, files in _references("control").items() if ref not in checklist().controls}

    assert missing == {}, f"add these controls to {CHECKLIST_FILE.name} (id: files naming it)"


def test_every_deviation_cited_in_the_repository_is_in_the_checklist() -> None:
    missing = {
        ref: sorted(files) for ref, files in _references("deviation").items() if ref not in checklist().deviations
    }

    assert missing == {}, f"add these deviations to {CHECKLIST_FILE.name} (id: files citing it)"


def test_every_marker_names_a_control_of_the_checklist() -> None:
    assert {c: sorted(m) for c, m in _markers().items() if c not in checklist().controls} == {}


def test_every_implemented_control_has_a_test() -> None:
    untested = [c.id for c in checklist().controls.values() if c.implemented and c.id not in _markers()]

    assert untested == [], "write a test with @control(ID), or mark the control not_implemented with the reason"


def test_no_control_is_both_tested_and_marked_not_implemented() -> None:
    assert sorted(set(checklist().not_implemented) & set(_markers())) == []


def test_every_role_variable_a_fix_names_exists() -> None:
    roles = sorted(p.name for p in (REPO_ROOT / "playbooks" / "roles").iterdir() if p.is_dir())
    defined: set[str] = set()
    for role in roles:
        defaults = REPO_ROOT / "playbooks" / "roles" / role / "defaults" / "main.yml"
        if defaults.is_file():
            defined |= set(yaml.safe_load(defaults.read_text(encoding="utf-8")) or {})
    # `hardening_ssh_*` names a family of variables, not one.
    named = re.compile(rf"`((?:{'|'.join(roles)})_[a-z0-9_]*[a-z0-9])(?![a-z0-9_*])")
    unknown = {
        c.id: name for c in checklist().controls.values() for name in named.findall(c.fix) if name not in defined
    }

    assert unknown == {}, "a fix names a role variable that no role defines"


def test_generated_document_matches_the_data() -> None:
    committed = (REPO_ROOT / checklist_doc.DOC_PATH).read_text(encoding="utf-8")

    assert committed == checklist_doc.render(checklist()), "run: python -m ops.compliance checklist"


def test_generator_check_reports_a_current_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checklist", "--check"]) == 0
    assert "matches the checklist" in capsys.readouterr().out


def test_control_marker_refuses_an_id_missing_from_the_checklist() -> None:
    unknown = "MON-" + "99"

    with pytest.raises(ChecklistDataError, match=f"{unknown} is not in checklist.yml"):
        control(unknown)


def test_control_marker_refuses_a_control_marked_not_implemented() -> None:
    with pytest.raises(ChecklistDataError, match="marked not_implemented"):
        control(next(iter(checklist().not_implemented)))


GOOD = """
controls:
  ALL-01:
    title: t
    checks: c
    rationale: r
    severity: high
    sources: {cis_debian12: ["2.1.19"]}
    fix: f
deviations:
  C-1: {title: t, controls: [ALL-01], decision: d, reason: r}
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('["2.1.19"]', "[5.10]"), "list of quoted strings"),
        (("cis_debian12", "cis_windows"), "unknown source 'cis_windows'"),
        (("severity: high", "severity: dire"), "severity must be one of"),
        (("    fix: f\n", ""), r"missing \['fix'\]"),
        (("controls: [ALL-01]", "controls: [ALL-02]"), "names controls not in the checklist: ALL-02"),
        (("  ALL-01:", "  ALL-1:"), "the id must look like ALL-01"),
    ],
)
def test_loader_refuses_malformed_entries(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = tmp_path / "checklist.yml"
    path.write_text(GOOD.replace(*change), encoding="utf-8")

    with pytest.raises(ChecklistError, match=message):
        load(path)


def test_loader_reads_a_well_formed_file(tmp_path: Path) -> None:
    path = tmp_path / "checklist.yml"
    path.write_text(GOOD, encoding="utf-8")

    data = load(path)

    assert data.controls["ALL-01"].sources == {"cis_debian12": ("2.1.19",)}
    assert data.deviations["C-1"].controls == ("ALL-01",)
