"""`./deploy.sh`: help without side effects, and bad input refused with a usage message."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ops.deploy.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]


def test_deploy_sh_help_lists_up_and_destroy() -> None:
    result = subprocess.run([str(REPO / "deploy.sh"), "--help"], capture_output=True, text=True, check=True)

    assert "up [ENV]" in result.stdout
    assert "destroy ENV" in result.stdout


def test_up_and_destroy_options_parse() -> None:
    up = build_parser().parse_args(["up", "e2e", "--skip-smoke"])
    destroy = build_parser().parse_args(["destroy", "e2e"])

    assert (up.command, up.env, up.skip_smoke) == ("up", "e2e", True)
    assert (destroy.command, destroy.env) == ("destroy", "e2e")
    assert build_parser().parse_args(["up"]).env == "local"


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--nonsense"])

    assert caught.value.code == 2
    assert "the following arguments are required" in capsys.readouterr().err


def test_unknown_environment_says_how_to_create_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nonsense"]) == 1  # `./deploy.sh ENV` releases to ENV, which does not exist
    assert "./deploy.sh up nonsense" in capsys.readouterr().err


def test_bad_env_name_is_refused_with_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["destroy", "Bad_Name"]) == 1
    assert "lowercase letter" in capsys.readouterr().err


@pytest.mark.parametrize("word", ["status", "up", "resume", "abort", "release"])
def test_a_command_word_cannot_name_an_environment(word: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up", word]) == 1
    assert "cannot name an environment" in capsys.readouterr().err


def test_kubernetes_stack_release_needs_a_tag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["k8s-dev"]) == 1
    err = capsys.readouterr().err
    assert "name the image tag to release" in err
    assert "./deploy.sh k8s-dev --version TAG" in err


def test_rollback_of_an_aws_stack_without_inventory_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    from ops.deploy.cli import main as deploy_main  # noqa: PLC0415

    assert deploy_main(["rollback", "aws-staging"]) == 1
    err = capsys.readouterr().err
    assert "has no inventory" in err
    assert "what to do:" in err
