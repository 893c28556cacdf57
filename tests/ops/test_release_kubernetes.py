"""Kubernetes releases go through the one engine: the same lock, journal, history and audit log.

The Pulumi CLI and a cluster cannot run here; the driver's commands go to a recording runner that
answers as `pulumi` and `kubectl` would, and the state agent runs in a folder, as it runs in the
release-state pod through `kubectl exec`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from infra import outputs
from infra.config import RELEASE_TAG_VARIABLE
from ops.deploy.cli import main
from ops.errors import OpsError
from ops.pulumi_cli import ToolError, require_pulumi
from ops.release.engine import ReleaseOptions, Releaser
from ops.release.environments import is_kubernetes_stack
from ops.release.kubernetes_driver import WORKLOAD, KubernetesDriver, rollout_command, up_command
from ops.release.store import ReleaseStore
from ops.release.transport import STATE_ROOT, DirectoryAgent, KubectlAgent

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = {
    outputs.NAMESPACE: "slipway-dev", outputs.DEPLOYMENTS: ["slipway-api", "slipway-worker"],
    outputs.IMAGE: "reg.example/slipway/app:0.1.0",
    outputs.RELEASE_STATE: "slipway-release-state",
}  # fmt: skip


class RecordingCli:
    """Answers `pulumi` and `kubectl`; `failing` names the tags whose rollout fails."""

    def __init__(
        self, failing: Sequence[str] = (), deployments: Sequence[str] = ("slipway-api", "slipway-worker")
    ) -> None:
        self.failing = set(failing)
        self.commands: list[list[str]] = []
        self.image = OUTPUTS[outputs.IMAGE]
        self.outputs = OUTPUTS | {outputs.DEPLOYMENTS: list(deployments)}

    def __call__(self, command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(command))
        if command[0] == "env" and "up" in command:
            tag = command[1].split("=", 1)[1]
            self.image = f"reg.example/slipway/app:{tag}"
            return subprocess.CompletedProcess(command, 0, "", "")
        if command[:3] == ["pulumi", "stack", "output"]:
            return subprocess.CompletedProcess(command, 0, json.dumps(self.outputs), "")
        if command[:2] == ["kubectl", "get"]:
            return subprocess.CompletedProcess(command, 0, self.image, "")
        failed = self.image.rsplit(":", 1)[1] in self.failing
        return subprocess.CompletedProcess(command, int(failed), "", "progress deadline exceeded" if failed else "")

    @property
    def applied(self) -> list[str]:
        return [command[1].split("=", 1)[1] for command in self.commands if command[0] == "env"]


@pytest.fixture(autouse=True)
def tools_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLIs the driver checks for answer as if installed (the recording runner stands in)."""
    monkeypatch.setattr("ops.release.kubernetes_driver.require_pulumi", lambda: "/usr/bin/pulumi")
    monkeypatch.setattr("ops.release.kubernetes_driver.require_tool", lambda name, _fix: f"/usr/bin/{name}")
    monkeypatch.setattr("ops.pulumi_cli.require_pulumi", lambda: "/usr/bin/pulumi")


def _releaser(cli: RecordingCli, tmp_path: Path) -> tuple[Releaser, ReleaseStore]:
    store = ReleaseStore(DirectoryAgent(tmp_path / "state"), "k8s-dev")
    return Releaser("k8s-dev", store, KubernetesDriver("k8s-dev", runner=cli), say=lambda _: None), store


def test_command_lines() -> None:
    assert up_command("k8s-dev", "1.4.2") == [
        "env", f"{RELEASE_TAG_VARIABLE}=1.4.2", "pulumi", "up", "--stack", "k8s-dev", "--yes", "--non-interactive",
    ]  # fmt: skip
    assert rollout_command("slipway-dev", "slipway-api", 300) == [
        "kubectl", "rollout", "status", "deployment/slipway-api", "--namespace", "slipway-dev", "--timeout=300s",
    ]  # fmt: skip
    assert KubectlAgent("slipway-dev", "slipway-release-state").argv("read")[:7] == [
        "kubectl", "exec", "-i", "--namespace", "slipway-dev", "statefulset/slipway-release-state", "--",
    ]  # fmt: skip
    assert KubectlAgent("slipway-dev", "slipway-release-state").argv("read")[-2:] == ["read", STATE_ROOT]


def test_release_passes_the_tag_in_the_environment_and_records_it_in_the_cluster(tmp_path: Path) -> None:
    cli = RecordingCli()
    releaser, store = _releaser(cli, tmp_path)

    done = releaser.release("1.4.2", ReleaseOptions())

    snapshot = store.snapshot()
    assert (done.result, done.previous) == ("released", "0.1.0")
    assert cli.applied == ["1.4.2"]
    assert [c for c in cli.commands if c[:2] == ["kubectl", "rollout"]] == [
        rollout_command("slipway-dev", "slipway-api"),
        rollout_command("slipway-dev", "slipway-worker"),
    ]
    assert snapshot.history.current == "1.4.2"
    assert snapshot.lock is None
    assert [(r.action, r.to_version, r.result) for r in snapshot.audit] == [("release", "1.4.2", "released")]
    assert (REPO / "Pulumi.k8s-dev.yaml").read_text().count("appImageTag: 0.1.0") == 1


def test_release_waits_for_every_deployment_the_app_has(tmp_path: Path) -> None:
    """An app without a worker has one Deployment; one with two workers has three."""
    for deployments in (["notes-api"], ["shop-api", "shop-mailer", "shop-indexer"]):
        cli = RecordingCli(deployments=deployments)
        releaser, _ = _releaser(cli, tmp_path / deployments[0])

        releaser.release("1.4.2", ReleaseOptions())

        waited = [c[3] for c in cli.commands if c[:2] == ["kubectl", "rollout"]]
        assert waited == [f"deployment/{name}" for name in deployments]


def test_failed_rollout_applies_the_previous_tag_again(tmp_path: Path) -> None:
    cli = RecordingCli(failing=["1.5.0"])
    releaser, store = _releaser(cli, tmp_path)

    with pytest.raises(OpsError, match=r"back on 0\.1\.0"):
        releaser.release("1.5.0", ReleaseOptions())

    assert cli.applied == ["1.5.0", "0.1.0"]
    assert store.snapshot().audit[-1].result == "rolled-back"
    assert releaser.driver.read() == ({WORKLOAD: "reg.example/slipway/app:0.1.0"}, [])


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        (ReleaseOptions(canary=(5, 50)), "canary releases are for environments of hosts"),
        (ReleaseOptions(config_only=True), "config-only releases are for environments of hosts"),
    ],
    ids=["canary", "config-only"],
)
def test_host_only_release_kinds_are_refused_before_anything_runs(
    options: ReleaseOptions, refusal: str, tmp_path: Path
) -> None:
    cli = RecordingCli()
    releaser, store = _releaser(cli, tmp_path)

    with pytest.raises(OpsError, match=refusal):
        releaser.release("1.5.0", options)

    assert cli.applied == []
    assert store.snapshot().lock is None


def test_rollback_goes_to_the_last_known_good_tag(tmp_path: Path) -> None:
    cli = RecordingCli()
    releaser, store = _releaser(cli, tmp_path)
    releaser.release("1.4.2", ReleaseOptions())
    releaser.release("1.5.0", ReleaseOptions())

    done = releaser.rollback(None)

    assert (done.version, done.previous) == ("1.4.2", "1.5.0")
    assert cli.applied[-1] == "1.4.2"
    assert store.snapshot().history.current == "1.4.2"


def test_from_image_is_refused_on_kubernetes_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["k8s-dev", "--version", "1.4.2", "--from-image", "slipway/app:dev"]) == 1

    assert "--from-image is for local fleets" in capsys.readouterr().err


def test_missing_pulumi_cli_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolError) as caught:
        require_pulumi()
    assert "pulumi command is not installed" in caught.value.message
    assert "pulumi.com" in caught.value.fix


def test_tells_kubernetes_stacks_from_the_others() -> None:
    assert is_kubernetes_stack("k8s-dev")
    assert not is_kubernetes_stack("aws-staging")
    assert not is_kubernetes_stack("local")
