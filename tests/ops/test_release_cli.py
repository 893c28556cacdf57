"""`./deploy.sh` release commands: parsing, dispatch by platform, clear errors, no stack traces."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ops.deploy.cli import build_parser, main, with_release_command
from ops.release.store import ReleaseStore
from ops.release.target import ReleaseTarget, resolve
from ops.release.transport import DirectoryAgent

REPO = Path(__file__).resolve().parents[2]


def test_env_alone_means_a_release() -> None:
    parser = build_parser()

    argv = with_release_command(["staging", "--version", "v2"], parser)

    args = parser.parse_args(argv)
    assert (args.command, args.env, args.version, args.serial) == ("release", "staging", "v2", "1")


@pytest.mark.parametrize("env", ["local", "e2e", "staging", "aws-prod"])
def test_every_environment_name_releases_with_env_and_version(env: str) -> None:
    parser = build_parser()

    args = parser.parse_args(with_release_command([env, "--version", "v2"], parser))

    assert (args.command, args.env, args.version) == ("release", env, "v2")


def test_bad_options_for_the_local_environment_are_refused_before_anything_is_built(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["local", "--version", "v2", "--serial", "half"]) == 1
    assert "neither a host count nor a percentage" in capsys.readouterr().err
    assert main(["local", "--version", "latest"]) == 1
    assert "not a release version" in capsys.readouterr().err


def test_known_commands_are_not_releases_and_kubernetes_stacks_are() -> None:
    parser = build_parser()

    assert with_release_command(["up", "x"], parser)[0] == "up"
    assert with_release_command(["k8s-dev", "--version", "1.2"], parser)[0] == "release"
    assert with_release_command(["history", "staging"], parser)[0] == "history"


def test_help_lists_the_release_commands() -> None:
    result = subprocess.run([str(REPO / "deploy.sh"), "--help"], capture_output=True, text=True, check=True)

    for command in ("rollback ENV", "status ENV", "resume ENV", "abort ENV", "history ENV", "plan ENV", "unlock ENV"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nosuchenv", "--version", "v2"], "has no inventory"),
        (["status", "nosuchenv"], "has no inventory"),
        (["rollback", "aws-staging"], "ops.stack_inventory --stack aws-staging"),
        (["plan", "k8s-dev"], "is a kubernetes stack"),
        (["history", "Bad_Env"], "invalid environment name"),
    ],
)
def test_bad_environment_is_a_clear_error_without_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1

    err = capsys.readouterr().err
    assert message in err
    assert "what to do:" in err
    assert "Traceback" not in err


def _fake_env(tmp_path: Path) -> Path:
    inventory = tmp_path / "staging" / "inventory" / "hosts.yml"
    inventory.parent.mkdir(parents=True)
    inventory.write_text("all:\n  children:\n    app:\n      hosts:\n        app1: {}\n        app2: {}\n")
    return tmp_path


def test_target_reads_app_hosts_from_the_inventory(tmp_path: Path) -> None:
    target = resolve("staging", _fake_env(tmp_path))

    assert target.app_hosts() == ["app1", "app2"]
    assert target.platform == "local"


def test_bad_version_and_serial_are_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ops.release.target.STATE_ROOT", _fake_env(tmp_path))

    assert main(["staging", "--version", "latest"]) == 1
    assert "not a release version" in capsys.readouterr().err
    assert main(["staging", "--version", "v2", "--serial", "half"]) == 1
    assert "neither a host count nor a percentage" in capsys.readouterr().err


def test_lock_then_second_lock_is_refused_and_unlock_is_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _fake_env(tmp_path)
    monkeypatch.setattr("ops.release.target.STATE_ROOT", root)
    monkeypatch.setenv("SLIPWAY_ACTOR", "ana@ci")
    # The state agent in a folder instead of on the lb host: the same code, no SSH.
    store = ReleaseStore(DirectoryAgent(tmp_path / "state"), "staging")
    monkeypatch.setattr(ReleaseTarget, "store", lambda _: store)

    assert main(["lock", "staging", "--reason", "db maintenance"]) == 0
    assert main(["lock", "staging"]) == 1
    refused = capsys.readouterr().err
    assert "locked by ana@ci" in refused
    assert "db maintenance" in refused
    assert main(["unlock", "staging"]) == 0
    assert store.snapshot().lock is None
    assert main(["history", "staging"]) == 0
    assert "lock-broken" in capsys.readouterr().out
