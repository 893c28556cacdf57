"""`./deploy.sh`: help without side effects, and bad input refused with a usage message."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ops.deploy.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]


def test_deploy_sh_help_lists_the_local_command() -> None:
    result = subprocess.run([str(REPO / "deploy.sh"), "--help"], capture_output=True, text=True, check=True)

    assert "local --destroy" in result.stdout


def test_local_options_parse() -> None:
    args = build_parser().parse_args(["local", "--destroy", "--env", "e2e"])

    assert (args.command, args.destroy, args.env) == ("local", True, "e2e")


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--nonsense"])

    assert caught.value.code == 2
    assert "the following arguments are required" in capsys.readouterr().err


def test_unknown_environment_says_how_to_create_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nonsense"]) == 1  # `./deploy.sh ENV` releases to ENV, which does not exist
    assert "./deploy.sh local --env nonsense" in capsys.readouterr().err


def test_bad_env_name_is_refused_with_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "--destroy", "--env", "Bad_Name"]) == 1
    assert "lowercase letter" in capsys.readouterr().err


def test_kubernetes_stacks_get_release_and_rollback_commands(capsys: pytest.CaptureFixture[str]) -> None:
    from ops.deploy.cli import main as deploy_main  # noqa: PLC0415
    from ops.deploy.kubernetes import kubernetes_stacks  # noqa: PLC0415

    assert kubernetes_stacks() == ["k8s-dev"]
    with pytest.raises(SystemExit):
        deploy_main(["k8s-dev", "--help"])
    assert "--version" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        deploy_main(["k8s-dev"])  # no version: argparse names the missing option
    assert refused.value.code == 2
    assert "--version" in capsys.readouterr().err


def test_rollback_of_an_aws_stack_without_inventory_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    from ops.deploy.cli import main as deploy_main  # noqa: PLC0415

    assert deploy_main(["rollback", "aws-staging"]) == 1
    err = capsys.readouterr().err
    assert "has no inventory" in err
    assert "what to do:" in err
