"""IMG: the API image, inspected where it runs: the image of the API
containers on each app host, so the same check holds for any registry and platform."""

from __future__ import annotations

import pytest

from tests.compliance.checklist import control
from tests.compliance.target import Target

GROUP = "app"

SECRET_WORDS = ("SECRET", "PASSWORD", "PASSWD", "TOKEN", "API_KEY", "PRIVATE_KEY", "DATABASE_URL", "REDIS_URL")


def _run_in_image(target: Target, script: str) -> str:
    image = target.api_image["Id"]
    return target.output("docker", "run", "--rm", "--network=none", "--user=0", "--entrypoint=sh", image, "-c", script)


@control("IMG-01")
def test_image_user_numeric_non_root(target: Target) -> None:
    user = target.api_image["Config"]["User"].split(":")[0]
    assert user.isdigit()
    assert int(user) != 0


@control("IMG-03")
@pytest.mark.parametrize("tool", ["gcc", "cc", "make", "pip", "pip3", "git", "curl", "wget"])
def test_runtime_image_without_build_tools(target: Target, tool: str) -> None:
    assert _run_in_image(target, f"command -v {tool} || true").strip() == ""


@control("IMG-06")
def test_image_has_healthcheck(target: Target) -> None:
    assert (target.api_image["Config"].get("Healthcheck") or {}).get("Test")


@control("IMG-07")
def test_no_apt_update_only_layer(target: Target) -> None:
    history = target.output("docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", target.api_image["Id"])
    update_only = [line for line in history.splitlines() if "apt-get update" in line and "apt-get install" not in line]
    assert update_only == []


@control("IMG-08")
def test_no_setuid_or_setgid_files(target: Target) -> None:
    found = _run_in_image(target, "find / -xdev -perm /6000 -type f 2>/dev/null || true")
    assert found.split() == []


@control("IMG-09")
def test_no_add_of_local_content(target: Target) -> None:
    history = target.output("docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", target.api_image["Id"])
    adds = [line for line in history.splitlines() if line.lstrip().startswith("ADD ") and "file:" not in line]
    assert adds == []


@control("IMG-10")
def test_no_secrets_in_image_environment(target: Target) -> None:
    env = [e.split("=", 1)[0] for e in target.api_image["Config"].get("Env") or []]
    assert [name for name in env if any(word in name.upper() for word in SECRET_WORDS)] == []


@control("IMG-10")
def test_no_secret_files_in_image(target: Target) -> None:
    found = _run_in_image(
        target,
        "find / -xdev \\( -name '*.pem' -o -name '*.key' -o -name '.env' -o -name id_rsa -o -name id_ed25519 \\) "
        "-not -path '*/site-packages/*' -not -path '/usr/share/*' -not -path '/etc/ssl/*' -type f 2>/dev/null || true",
    )
    assert found.split() == []
