"""Kubernetes releases: the stack file edit, the command lines, the history, and what happens on failure.

The Pulumi CLI cannot run here; the commands go to a recording runner that answers as the CLI would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from ops import k8s_release
from ops.k8s_release import (
    Release,
    Releaser,
    StackFile,
    check_tag,
    is_kubernetes_stack,
    rollout_commands,
    up_command,
)
from ops.pulumi_cli import ToolError, require_pulumi, stack_output_command

REPOSITORY = Path(__file__).resolve().parents[2]
OUTPUTS = {"namespace": "slipway-dev", "apiDeployment": "slipway-api", "workerDeployment": "slipway-worker"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the committed k8s-dev stack file, comments and all."""
    shutil.copy(REPOSITORY / "Pulumi.k8s-dev.yaml", tmp_path / "Pulumi.k8s-dev.yaml")
    shutil.copy(REPOSITORY / "Pulumi.aws-staging.yaml", tmp_path / "Pulumi.aws-staging.yaml")
    return tmp_path


class RecordingCli:
    """Answers `pulumi` and `kubectl` command lines; `failing` names the tags whose `pulumi up` fails."""

    def __init__(self, root: Path, failing: Sequence[str] = ()) -> None:
        self.root = root
        self.failing = set(failing)
        self.commands: list[list[str]] = []
        self.applied: list[str] = []

    def __call__(self, command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(command))
        if command[:2] == ["pulumi", "up"]:
            tag = StackFile("k8s-dev", self.root).tag()
            self.applied.append(tag)
            failed = tag in self.failing
            return subprocess.CompletedProcess(command, 1 if failed else 0, "", "error: Job failed" if failed else "")
        if command[:3] == ["pulumi", "stack", "output"]:
            return subprocess.CompletedProcess(command, 0, json.dumps(OUTPUTS), "")
        return subprocess.CompletedProcess(command, 0, "deployment successfully rolled out", "")


@pytest.fixture
def tools_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(k8s_release, "require_pulumi", lambda: "/usr/bin/pulumi")
    monkeypatch.setattr(k8s_release, "require_tool", lambda name, _fix: f"/usr/bin/{name}")
    monkeypatch.setattr("ops.pulumi_cli.require_pulumi", lambda: "/usr/bin/pulumi")


def test_set_tag_edits_only_that_line(root: Path) -> None:
    before = (root / "Pulumi.k8s-dev.yaml").read_text()
    assert StackFile("k8s-dev", root).set_tag("1.4.2") == "0.1.0"
    after = (root / "Pulumi.k8s-dev.yaml").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [("  slipway:appImageTag: 0.1.0", "  slipway:appImageTag: 1.4.2")]


def test_set_tag_adds_the_key_when_the_stack_uses_the_default(root: Path) -> None:
    path = root / "Pulumi.k8s-dev.yaml"
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True) if "appImageTag" not in line))
    assert StackFile("k8s-dev", root).set_tag("2.0.0") == ""
    config = yaml.safe_load(path.read_text())["config"]
    assert config["slipway:appImageTag"] == "2.0.0"
    assert config["slipway:platform"] == "kubernetes"


def test_set_tag_quotes_a_tag_yaml_would_read_as_a_number(root: Path) -> None:
    stack = StackFile("k8s-dev", root)
    stack.set_tag("1.10")
    assert stack.tag() == "1.10"
    assert '  slipway:appImageTag: "1.10"\n' in (root / "Pulumi.k8s-dev.yaml").read_text()


@pytest.mark.parametrize("tag", ["latest", "", "has space", "-leading-dash", "x" * 129])
def test_refuses_tags_that_are_not_release_tags(tag: str) -> None:
    with pytest.raises(ToolError, match="not a release tag"):
        check_tag(tag)


def test_command_lines() -> None:
    assert up_command("k8s-dev") == ["pulumi", "up", "--stack", "k8s-dev", "--yes", "--non-interactive", "--diff"]
    assert stack_output_command("k8s-dev") == ["pulumi", "stack", "output", "--stack", "k8s-dev", "--json"]
    assert rollout_commands("slipway-dev", ["slipway-api"], 300) == [
        ["kubectl", "rollout", "status", "deployment/slipway-api", "--namespace", "slipway-dev", "--timeout=300s"]
    ]


def test_missing_pulumi_cli_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolError) as caught:
        require_pulumi()
    assert "pulumi command is not installed" in caught.value.message
    assert "pulumi.com" in caught.value.fix


def test_release_without_the_cli_changes_nothing(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    before = (root / "Pulumi.k8s-dev.yaml").read_text()
    with pytest.raises(ToolError, match="pulumi command"):
        Releaser("k8s-dev", root=root, runner=RecordingCli(root)).release("1.4.2")
    assert (root / "Pulumi.k8s-dev.yaml").read_text() == before


def test_refuses_a_stack_that_is_not_kubernetes(root: Path) -> None:
    with pytest.raises(ToolError, match="not a kubernetes stack"):
        Releaser("aws-staging", root=root)


@pytest.mark.usefixtures("tools_on_path")
def test_release_sets_the_tag_applies_and_waits_for_both_deployments(root: Path) -> None:
    cli = RecordingCli(root)
    done = Releaser("k8s-dev", root=root, runner=cli).release("1.4.2")
    assert (done.tag, done.previous, done.result) == ("1.4.2", "0.1.0", "released")
    assert cli.commands == [
        up_command("k8s-dev"),
        stack_output_command("k8s-dev"),
        *rollout_commands("slipway-dev", ["slipway-api", "slipway-worker"]),
    ]
    assert StackFile("k8s-dev", root).tag() == "1.4.2"


@pytest.mark.usefixtures("tools_on_path")
def test_failed_release_puts_the_previous_tag_back(root: Path) -> None:
    cli = RecordingCli(root, failing=["1.5.0"])
    releaser = Releaser("k8s-dev", root=root, runner=cli)
    with pytest.raises(ToolError, match=r"release 1\.5\.0 failed and 0\.1\.0 is serving again"):
        releaser.release("1.5.0")
    assert cli.applied == ["1.5.0", "0.1.0"]
    assert StackFile("k8s-dev", root).tag() == "0.1.0"
    assert [(r.tag, r.result) for r in releaser.history.load()] == [("1.5.0", "failed"), ("0.1.0", "rolled-back")]


@pytest.mark.usefixtures("tools_on_path")
def test_rollback_returns_to_the_previous_good_release(root: Path) -> None:
    cli = RecordingCli(root)
    releaser = Releaser("k8s-dev", root=root, runner=cli)
    releaser.release("1.4.2")
    releaser.release("1.5.0")
    done = releaser.rollback()
    assert (done.tag, done.previous) == ("1.4.2", "1.5.0")
    assert StackFile("k8s-dev", root).tag() == "1.4.2"
    assert releaser.rollback(to="0.1.0").tag == "0.1.0"


def test_rollback_without_history_asks_for_a_tag(root: Path) -> None:
    releaser = Releaser("k8s-dev", root=root, runner=RecordingCli(root))
    with pytest.raises(ToolError, match="no earlier release"):
        releaser.rollback()


def test_history_survives_a_new_process(root: Path) -> None:
    first = Releaser("k8s-dev", root=root, runner=RecordingCli(root))
    first.history.append(Release("1.4.2", "0.1.0", "released", 1.0, "tester"))
    again = Releaser("k8s-dev", root=root, runner=RecordingCli(root))
    assert again.history.previous_good("1.5.0") == "1.4.2"
    assert (root / ".slipway" / "k8s-dev" / "k8s-releases.json").is_file()


def test_tells_kubernetes_stacks_from_the_others(root: Path) -> None:
    assert is_kubernetes_stack("k8s-dev", root)
    assert not is_kubernetes_stack("aws-staging", root)
    assert not is_kubernetes_stack("local", root)
