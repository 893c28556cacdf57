"""ops.compliance without a fleet: the waiver data, reading JUnit results and rendering the
report, and the CLI's errors. tests/ops/test_compliance_checklist.py covers the checklist data."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.compliance import report
from ops.compliance.checklist import checklist
from ops.compliance.cli import main, print_failures
from ops.compliance.results import Outcome, by_control, read_junit, totals
from tests.compliance.checklist import ChecklistDataError, platform


@pytest.mark.parametrize("name", ["local", "aws"])
def test_waivers_name_checklist_controls_with_reasons(name: str) -> None:
    data = platform(name)

    assert all(w.control in checklist().controls and len(w.reason) > 30 and w.platform == name for w in data.waivers)


def test_unknown_platform_is_refused_by_name() -> None:
    with pytest.raises(ChecklistDataError, match="no checklist data for platform 'moon'"):
        platform("moon")


def test_waiver_narrowed_to_app_hosts_spares_others() -> None:
    data = platform("local")

    assert data.waiver_for("ALL-31", "app1", ["app", "local_fleet"], "test_forwarding_off") is not None
    assert data.waiver_for("ALL-31", "db", ["db", "local_fleet"], "test_forwarding_off") is None


def test_waiver_narrowed_to_one_check_spares_the_others() -> None:
    data = platform("local")

    assert data.waiver_for("ALL-16", "db", ["db"], "test_suid_core_dumps_off") is not None
    assert data.waiver_for("ALL-16", "db", ["db"], "test_core_dumps_limited_to_zero") is None


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
<testcase classname="tests.compliance.test_ssh" name="test_root_login_refused[SSH-03-lb-permitrootlogin]">
 <properties><property name="control" value="SSH-03"/><property name="host" value="lb"/>
 <property name="check" value="test_root_login_refused"/></properties></testcase>
<testcase classname="tests.compliance.test_all" name="test_shadow_files[ALL-40-lb-/etc/shadow]">
 <properties><property name="control" value="ALL-40"/><property name="host" value="lb"/>
 <property name="check" value="test_shadow_files"/></properties>
 <failure message="assert (420, 'root', 'shadow') == (416, 'root', 'shadow')">detail</failure></testcase>
<testcase classname="tests.compliance.test_all" name="test_aslr_full[ALL-14-lb-kernel.randomize_va_space-2]">
 <properties><property name="control" value="ALL-14"/><property name="host" value="lb"/>
 <property name="check" value="test_aslr_full"/>
 <property name="waiver"
  value="{&quot;platform&quot;: &quot;local&quot;, &quot;reason&quot;: &quot;Kernel-global setting.&quot;}"/>
 </properties><skipped message="waived on local: Kernel-global setting."/></testcase>
<testcase classname="tests.compliance.test_all" name="test_shadow_backups[ALL-40-lb-/etc/shadow-]">
 <properties><property name="control" value="ALL-40"/><property name="host" value="lb"/>
 <property name="check" value="test_shadow_backups"/></properties></testcase>
</testsuite></testsuites>
"""


@pytest.fixture
def junit(tmp_path: Path) -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT, encoding="utf-8")
    return path


def test_control_fails_when_any_check_fails(junit: Path) -> None:
    grouped = by_control(read_junit(junit))

    assert grouped["lb"]["ALL-40"].outcome is Outcome.FAIL
    assert grouped["lb"]["SSH-03"].outcome is Outcome.PASS


def test_waived_check_is_counted_as_waived_never_passed(junit: Path) -> None:
    grouped = by_control(read_junit(junit))

    assert grouped["lb"]["ALL-14"].outcome is Outcome.WAIVED
    assert totals(grouped["lb"]) == {Outcome.PASS: 1, Outcome.FAIL: 1, Outcome.WAIVED: 1}


def test_report_gives_totals_failures_and_waiver_reasons(junit: Path) -> None:
    text = report.render(title="t", grouped=by_control(read_junit(junit)), checklist=checklist(), loose_failures=[])
    aslr = checklist().controls["ALL-14"].title
    backups = checklist().controls["DB-26"]

    assert "| lb | 3 | 1 | 1 | 1 | 4 |" in text
    assert "- lb ALL-40 `test_shadow_files[ALL-40-lb-/etc/shadow]`" in text
    assert f"| ALL-14 | {aslr} | lb | Kernel-global setting. |" in text
    assert f"| DB-26 | {backups.title} | {backups.not_implemented} |" in text


def test_report_names_each_failing_control_with_title_and_fix(junit: Path) -> None:
    text = report.render(title="t", grouped=by_control(read_junit(junit)), checklist=checklist(), loose_failures=[])
    shadow = checklist().controls["ALL-40"]
    failures = text[text.index("## Failures") : text.index("## Waivers")]

    assert f"### ALL-40: {shadow.title}" in failures
    assert f"- **Fix**: {shadow.fix}" in failures
    assert "- **Hosts**: lb\n" in failures
    assert "SSH-03" not in failures


def test_report_marks_a_control_missing_from_the_checklist(junit: Path) -> None:
    stray = "SSH-" + "99"
    junit.write_text(JUNIT.replace("ALL-40", stray), encoding="utf-8")

    text = report.render(title="t", grouped=by_control(read_junit(junit)), checklist=checklist(), loose_failures=[])

    assert f"### {stray}: {report.UNKNOWN_TITLE}" in text


def test_cli_prints_a_failing_control_with_title_and_fix(junit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grouped = by_control(read_junit(junit))
    shadow = checklist().controls["ALL-40"]

    print_failures([r for controls in grouped.values() for r in controls.values() if r.outcome is Outcome.FAIL])

    assert capsys.readouterr().out.splitlines() == [f"FAIL ALL-40 {shadow.title}: lb", f"     fix: {shadow.fix}"]


def test_cli_refuses_a_bad_environment_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env", "Not Valid"]) == 2
    assert "invalid environment name" in capsys.readouterr().err


def test_cli_names_a_missing_inventory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--inventory", str(tmp_path / "nowhere.yml")]) == 2
    err = capsys.readouterr().err
    assert "no inventory at" in err
    assert "what to do:" in err


def test_cli_requires_env_or_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
