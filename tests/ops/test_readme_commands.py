"""The commands the README and the release docs show parse as written (no fleet needed to check),
and `./deploy.sh --help` runs; so the examples cannot drift from the command line."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from ops.deploy.cli import build_parser, with_release_command

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = ("README.md", "docs/releases.md", "docs/fleet.md")


def _examples() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        blocks = re.findall(r"```sh\n(.*?)```", (REPO / document).read_text(), flags=re.DOTALL)
        for block in blocks:
            for line in block.splitlines():
                command = line.split("#", 1)[0].strip()
                for part in command.split(";"):
                    if part.strip().startswith("./deploy.sh"):
                        found.append((document, part.strip()))
    return found


EXAMPLES = _examples()


def test_the_documents_show_deploy_sh_examples() -> None:
    assert len(EXAMPLES) >= 12


@pytest.mark.parametrize(("document", "example"), EXAMPLES, ids=[example for _, example in EXAMPLES])
def test_example_parses(document: str, example: str) -> None:
    argv = [word for word in shlex.split(example)[1:] if word != "[--to" and not word.endswith("]")]
    parser = build_parser()

    args = parser.parse_args(with_release_command(argv, parser))

    assert callable(args.run), f"{document}: {example}"


def test_help_runs_and_lists_every_command() -> None:
    result = subprocess.run([str(REPO / "deploy.sh"), "--help"], capture_output=True, text=True, check=True)

    for command in ("ENV [--version V]", "up [ENV]", "destroy ENV", "rollback ENV", "status ENV", "resume ENV",
                    "abort ENV", "history ENV", "plan ENV", "unlock ENV"):  # fmt: skip
        assert command in result.stdout
