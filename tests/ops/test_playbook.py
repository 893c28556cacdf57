"""Reading ansible-playbook's output: progress, failures (host and task) and the recap."""

from __future__ import annotations

from pathlib import Path

from ops.playbook import PlaybookRun, failure_error, parse_line

TRANSCRIPT = """\
PLAY [Baseline, hardening and firewall on every host] **************************

TASK [common : Install the base packages] **************************************
ok: [lb]
fatal: [db]: FAILED! => {"changed": false, "msg": "No package matching 'cron' is available"}
fatal: [cache]: UNREACHABLE! => {"changed": false, "msg": "ssh: connect to host 127.0.0.1 port 4: refused"}

TASK [common : Probe something optional] ***************************************
fatal: [lb]: FAILED! => {"changed": false, "msg": "optional"}
...ignoring

PLAY RECAP *********************************************************************
cache                      : ok=1    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0
db                         : ok=3    changed=2    unreachable=0    failed=1    skipped=4    rescued=0    ignored=0
lb                         : ok=9    changed=0    unreachable=0    failed=0    skipped=1    rescued=0    ignored=1
"""


def _parse(text: str) -> PlaybookRun:
    run = PlaybookRun(log=Path("site.log"), recap={}, failures=[], returncode=2, seconds=1.0)
    task = ""
    for line in text.splitlines():
        task = parse_line(line, task, run)
    return run


def test_parse_line_reads_the_recap_per_host() -> None:
    run = _parse(TRANSCRIPT)

    assert run.changed == {"cache": 0, "db": 2, "lb": 0}
    assert run.recap["db"].failed == 1
    assert run.recap["cache"].unreachable == 1


def test_parse_line_records_failures_with_their_task_but_not_ignored_ones() -> None:
    run = _parse(TRANSCRIPT)

    assert [(f.host, f.task) for f in run.failures] == [
        ("db", "common : Install the base packages"),
        ("cache", "common : Install the base packages"),
    ]
    assert run.failures[0].message == "No package matching 'cron' is available"


def test_failure_error_names_host_task_message_and_log() -> None:
    rendered = failure_error(_parse(TRANSCRIPT), "site.yml").render()

    assert rendered.splitlines()[0] == (
        "error: site.yml failed at task 'common : Install the base packages' (host db, site.yml)"
    )
    assert "No package matching 'cron'" in rendered
    assert "also failed: cache" in rendered
    assert "site.log" in rendered
