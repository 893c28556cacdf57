"""Operator-facing errors name the host, the step and what to do."""

from __future__ import annotations

from ops.errors import OpsError


def test_render_names_host_step_and_fix() -> None:
    error = OpsError("sshd did not start", host="db", step="boot the host", detail="a\nb", fix="run up again")

    assert error.render().splitlines() == [
        "error: sshd did not start (host db, boot the host)",
        "  a",
        "  b",
        "what to do: run up again",
    ]


def test_render_without_context_has_message_and_fix_only() -> None:
    assert OpsError("bad env", fix="rename it").render() == "error: bad env\nwhat to do: rename it"
