"""The Pulumi CLI as the kit's tools call it: found on PATH, run without prompts, JSON read back."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ops.errors import OpsError

REPOSITORY = Path(__file__).resolve().parents[1]
INSTALL_URL = "https://www.pulumi.com/docs/iac/download-install/"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class ToolError(OpsError):
    """A failure of the Pulumi or kubectl tooling: what failed and what to do (never a traceback)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message, fix=fix)


def require_tool(name: str, fix: str) -> str:
    """The tool's path, or a ToolError saying how to install it."""
    path = shutil.which(name)
    if path is None:
        raise ToolError(f"the {name} command is not installed (not found on PATH)", fix)
    return path


def require_pulumi() -> str:
    return require_tool(
        "pulumi", f"install the Pulumi CLI ({INSTALL_URL}), log in with `pulumi login`, and run this again"
    )


def run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a command in the repository, output captured, never raising on a non-zero exit."""
    return subprocess.run(list(command), cwd=REPOSITORY, capture_output=True, text=True, check=False)


def stack_output_command(stack: str) -> list[str]:
    # --show-secrets is left out on purpose: the kit's outputs hold ARNs, never secret values.
    return ["pulumi", "stack", "output", "--stack", stack, "--json"]


def stack_outputs(stack: str, runner: Runner = run) -> dict[str, Any]:
    """The stack's outputs, read through the CLI."""
    require_pulumi()
    done = runner(stack_output_command(stack))
    if done.returncode != 0:
        raise ToolError(
            f"`pulumi stack output` failed for stack {stack}: {done.stderr.strip() or done.stdout.strip()}",
            f"check that the stack exists (`pulumi stack ls`) and that `pulumi up --stack {stack}` has run",
        )
    try:
        outputs = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise ToolError("`pulumi stack output --json` did not print JSON", "run it by hand to see why") from None
    if not isinstance(outputs, dict):
        raise ToolError("`pulumi stack output --json` did not print an object", "run it by hand to see why")
    return outputs
