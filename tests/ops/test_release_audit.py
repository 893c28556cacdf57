"""Audit records: started as `running`, finished with a result, rendered for `deploy.sh history`."""

from __future__ import annotations

import json

from ops.release.audit import AuditRecord, render


def test_record_round_trips_and_ignores_unknown_fields() -> None:
    record = AuditRecord("staging", "release", "ana@ci", "v1", "v2", failed_requests=0)
    record.finish("released")

    data = json.loads(json.dumps(record.to_dict())) | {"added_later": 1}

    assert AuditRecord.from_dict(data) == record
    assert AuditRecord.from_dict("torn") is None


def test_a_record_starts_running_and_finishes_with_its_result() -> None:
    record = AuditRecord("staging", "release", "ana@ci", "v1", "v2")
    assert (record.result, record.finished_at) == ("running", 0.0)

    record.finish("rolled-back", "interrupted by SIGTERM")

    assert record.result == "rolled-back"
    assert record.reason == "interrupted by SIGTERM"
    assert record.finished_at >= record.started_at


def test_render_shows_who_what_result_and_why() -> None:
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
