"""The audit log: one JSON object per line, readable back, rendered for `deploy.sh history`."""

from __future__ import annotations

import json
from pathlib import Path

from ops.release.audit import AuditLog, AuditRecord, render


def test_append_writes_one_json_line_per_record(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")

    log.append(AuditRecord("staging", "release", "ana@ci", "v1", "v2", "released", failed_requests=0))
    log.append(AuditRecord("staging", "auto-rollback", "ana@ci", "v2", "v3", "rolled-back", reason="gate failed"))

    lines = log.path.read_text().splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["release", "auto-rollback"]
    assert json.loads(lines[1])["reason"] == "gate failed"


def test_records_skip_a_torn_line_and_keep_the_rest(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(AuditRecord("staging", "release", "ana@ci", "v1", "v2", "released"))
    with log.path.open("a") as handle:
        handle.write('{"env": "staging", "act')
        handle.write("\n")
    log.append(AuditRecord("staging", "rollback", "ana@ci", "v2", "v1", "rolled-back"))

    assert [record.action for record in log.records()] == ["release", "rollback"]
    assert [record.action for record in log.records(last=1)] == ["rollback"]


def test_render_shows_who_what_result_and_why(tmp_path: Path) -> None:
    record = AuditRecord(
        "staging", "auto-rollback", "ana@ci", "v2", "v3", "rolled-back", reason="slot never ready",
        started_at=0.0, finished_at=42.0, failed_requests=3,
    )  # fmt: skip

    text = render([record])

    assert "v2 -> v3" in text
    assert "rolled-back" in text
    assert "42s" in text
    assert "ana@ci  (slot never ready)" in text


def test_render_of_an_empty_log_says_so() -> None:
    assert render([]) == "no releases recorded yet"
