"""Errors the operator can act on: what failed, where, and what to do (never a stack trace)."""

from __future__ import annotations


class OpsError(Exception):
    """A failure of the kit's tooling, told as the host, the step and what to do about it."""

    def __init__(self, message: str, *, fix: str, host: str = "", step: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.host = host
        self.step = step
        self.detail = detail

    def render(self) -> str:
        """The error as lines for a terminal: the failure, its context, then the fix."""
        where = ", ".join(part for part in (f"host {self.host}" if self.host else "", self.step) if part)
        lines = [f"error: {self.message}" + (f" ({where})" if where else "")]
        if self.detail:
            lines += ["  " + line for line in self.detail.splitlines()]
        lines.append(f"what to do: {self.fix}")
        return "\n".join(lines)
