"""Configuration: Pulumi.yaml describes every key, stacks commit no secret, bad values name their key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from infra.config import (
    DEFAULTS,
    PLACEHOLDERS,
    REQUIRED_KEYS,
    SECRET_KEYS,
    ConfigError,
    app_secret_key,
    registry_repository,
)
from ops.service.load import DEFAULT_DEFINITION, parse
from tests.infra.pulumi_mocks import ROOT, Recorder, config_with_secrets, run_program
from tests.infra.stacks import SECOND_APP, write_definition

PROJECT_FILE = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))


def test_project_runs_python_from_the_repository_virtualenv() -> None:
    assert PROJECT_FILE["name"] == "slipway"
    assert PROJECT_FILE["main"] == "infra/"
    assert PROJECT_FILE["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": ".venv"},
    }


# Pulumi.yaml config schemas know these types only; a map-valued key is described in a comment.
SCHEMA_TYPES = {"string": str, "boolean": bool, "integer": int, "array": list}
MAP_KEYS = {"tags", "extraEnvironment"}


def test_project_declares_every_key_with_the_program_defaults() -> None:
    declared: dict[str, Any] = PROJECT_FILE["config"]
    assert set(declared) == (set(DEFAULTS) | set(REQUIRED_KEYS)) - MAP_KEYS
    for key, spec in declared.items():
        assert spec["description"], key
        assert spec["type"] in SCHEMA_TYPES, key
        if key in REQUIRED_KEYS:
            assert "default" not in spec, key
        else:
            assert spec["default"] == DEFAULTS[key], key
            assert isinstance(spec["default"], SCHEMA_TYPES[spec["type"]]), key


def test_project_file_describes_every_secret() -> None:
    text = (ROOT / "Pulumi.yaml").read_text()
    for key in {k for keys in SECRET_KEYS.values() for k in keys} | MAP_KEYS:
        assert re.search(rf"^#\s+slipway:{key}\s", text, re.MULTILINE), key


def test_default_definition_is_the_one_every_command_reads() -> None:
    assert ROOT / str(DEFAULTS["appDefinition"]) == DEFAULT_DEFINITION


def test_app_secrets_are_read_from_camel_case_keys() -> None:
    assert app_secret_key("secret_key") == "secretKey"
    assert app_secret_key("session_signing_key") == "sessionSigningKey"
    assert app_secret_key("token") == "token"


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_stack_files_commit_no_secret(path: Path) -> None:
    config = yaml.safe_load(path.read_text())["config"]
    secret_keys = {f"slipway:{k}" for keys in SECRET_KEYS.values() for k in keys} | {"slipway:secretKey"}
    assert not secret_keys & set(config)
    assert "secure:" not in path.read_text()
    for key in config:
        project, name = key.split(":")
        assert project in ("slipway", "aws", "kubernetes")
        if project == "slipway":
            assert name in DEFAULTS or name in REQUIRED_KEYS, key


def test_example_stacks_are_the_three_of_the_issue() -> None:
    assert [p.name for p in STACK_FILES] == [
        "Pulumi.aws-prod.yaml",
        "Pulumi.aws-staging.yaml",
        "Pulumi.k8s-dev.yaml",
    ]


def _fails(stack: str, changes: dict[str, str | None]) -> ConfigError:
    config, secret_keys = config_with_secrets(stack)
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    recorder = Recorder()
    with pytest.raises(ConfigError) as caught:
        run_program(stack, config, [k for k in secret_keys if k in config], recorder)
    # Validation happens before any resource is declared: nothing is half-applied.
    assert recorder.resources == []
    return caught.value


BAD_CONFIG = [
    ("aws-staging", {"slipway:appCount": "0"}, "slipway:appCount", "out of range"),
    ("aws-prod", {"slipway:appCount": "1"}, "slipway:appCount", "production"),
    ("aws-prod", {"slipway:cacheAuthToken": None}, "slipway:cacheAuthToken", "pulumi config set --secret"),
    ("aws-prod", {"slipway:dbMultiAz": "false"}, "slipway:dbMultiAz", "production"),
    ("aws-prod", {"slipway:deletionProtection": None}, "slipway:deletionProtection", "production"),
    ("aws-prod", {"slipway:dbBackupRetentionDays": "3"}, "slipway:dbBackupRetentionDays", "production"),
    ("aws-prod", {"slipway:cacheNodes": "1"}, "slipway:cacheNodes", "fail over"),
    (
        "aws-prod",
        {"slipway:cacheAuthToken": "has@at-sign-0123456789"},
        "slipway:cacheAuthToken",
        "characters",
    ),
    ("aws-staging", {"slipway:sshCidr": "0.0.0.0/0"}, "slipway:sshCidr", "prefix /0"),
    ("aws-staging", {"slipway:sshCidr": "not-a-network"}, "slipway:sshCidr", "not an IPv4 network"),
    ("aws-staging", {"slipway:sshPublicKey": None}, "slipway:sshPublicKey", "OpenSSH public key"),
    ("aws-staging", {"aws:region": None}, "aws:region", "pulumi config set aws:region"),
    ("aws-staging", {"slipway:vpcCidr": "10.0.0.0/8"}, "slipway:vpcCidr", "prefix /8"),
    ("aws-staging", {"slipway:availabilityZones": "two"}, "slipway:availabilityZones", "not a whole number"),
    ("aws-staging", {"slipway:natGatewayPerAz": "yes"}, "slipway:natGatewayPerAz", "not a boolean"),
    ("aws-staging", {"slipway:alarmEmail": "oncall"}, "slipway:alarmEmail", "e-mail"),
    ("aws-staging", {"slipway:tags": '["not", "a", "map"]'}, "slipway:tags", "map of strings"),
    ("k8s-dev", {"slipway:dbPassword": None}, "slipway:dbPassword", "is required"),
    ("k8s-dev", {"slipway:dbPassword": "CHANGE_ME-0123456789"}, "slipway:dbPassword", "placeholder"),
    ("k8s-dev", {"slipway:secretKey": "too-short-0123456789"}, "slipway:secretKey", "32 to"),
    ("k8s-dev", {"slipway:grafanaAdminPassword": None}, "slipway:grafanaAdminPassword", "is required"),
    ("k8s-dev", {"slipway:appImageTag": "latest"}, "slipway:appImageTag", "never latest"),
    ("k8s-dev", {"slipway:namespace": "Slipway_Dev"}, "slipway:namespace", "DNS label"),
    ("k8s-dev", {"slipway:apiMaxReplicas": "0"}, "slipway:apiMaxReplicas", "out of range"),
    (
        "k8s-dev",
        {"slipway:workerMaxReplicas": "1", "slipway:workerMinReplicas": "2"},
        "slipway:workerMaxReplicas",
        "below",
    ),
    ("k8s-dev", {"slipway:platform": "gcp"}, "slipway:platform", "aws, kubernetes"),
    ("k8s-dev", {"slipway:environment": None}, "slipway:environment", "is required"),
    ("k8s-dev", {"slipway:domain": "not a host"}, "slipway:domain", "DNS host name"),
    # The reference API's {secret: secret_key}.
    ("k8s-dev", {"slipway:secretKey": None}, "slipway:secretKey", "is required"),
    ("k8s-dev", {"slipway:appDefinition": "app/missing.yml"}, "slipway:appDefinition", "cannot read"),
    ("k8s-dev", {"slipway:extraEnvironment": '{"API_TOKEN": "x"}'}, "slipway:extraEnvironment", "secret"),
    ("k8s-dev", {"slipway:extraEnvironment": '{"PORT": "1"}'}, "slipway:extraEnvironment", "made by the kit"),
    ("k8s-dev", {"slipway:extraEnvironment": '{"lower": "1"}'}, "slipway:extraEnvironment", "variable name"),
    ("k8s-dev", {"slipway:releaseStateImage": "python:latest"}, "slipway:releaseStateImage", "pinned image"),
]


@pytest.mark.parametrize(("stack", "changes", "key", "says"), BAD_CONFIG, ids=[f"{c[2]}-{c[3]}" for c in BAD_CONFIG])
def test_bad_config_fails_naming_the_key(stack: str, changes: dict[str, str | None], key: str, says: str) -> None:
    error = _fails(stack, changes)
    message = str(error)
    assert message.startswith(f"config {key}: "), message
    assert says in message
    assert error.key == key


def _definition(name: str, old: str, new: str) -> str:
    assert old in SECOND_APP
    return str(write_definition(SECOND_APP.replace(old, new), name))


BAD_DEFINITIONS = [
    ("no-port", "  port: 9000\n", "", "web.port"),
    ("worker-named-api", "migrate:", "workers:\n  - {name: api, command: [run]}\nmigrate:", "worker 'api'"),
    ("kit-secret", "{secret: session_key}", "{secret: db_password}", "slipway:dbPassword"),
    ("tmp-volume", "data:", "volumes:\n  tmp: {path: /tmp}\ndata:", "/tmp"),
    (
        "long-name",
        "service: notes\n",
        f"service: {'n' * 32}\nvolumes:\n  {'v' * 31}: {{path: /srv/v}}\n",
        "over 63 characters",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "says"), BAD_DEFINITIONS, ids=[c[0] for c in BAD_DEFINITIONS])
def test_bad_definition_fails_naming_the_key(name: str, old: str, new: str, says: str) -> None:
    error = _fails("k8s-dev", {"slipway:appDefinition": _definition(name, old, new)})
    assert error.key == "slipway:appDefinition"
    assert says in str(error)


@pytest.mark.parametrize(
    ("registry", "repository"),
    [
        ("registry.example.org/notes/api", "registry.example.org/notes/api"),
        ("reg.example:5000/team/api:1.2", "reg.example:5000/team/api"),
    ],
)
def test_a_pulled_image_gives_its_repository_without_the_tag(registry: str, repository: str) -> None:
    text = SECOND_APP.replace("registry.example.org/notes/api", registry)
    assert registry_repository(parse(text, Path("pulled.yml"))) == repository


def test_release_state_may_run_an_image_of_its_own() -> None:
    config, secret_keys = config_with_secrets("k8s-dev")
    config["slipway:releaseStateImage"] = "python:3.11.11-slim-bookworm"
    run = run_program("k8s-dev", config, secret_keys)
    spec = run.one("kubernetes:apps/v1:StatefulSet", "-release-state-").plain["spec"]["template"]["spec"]
    assert spec["containers"][0]["image"] == "python:3.11.11-slim-bookworm"


def test_extra_environment_is_set_over_the_definition() -> None:
    config, secret_keys = config_with_secrets("k8s-dev")
    config["slipway:extraEnvironment"] = '{"LOG_LEVEL": "DEBUG", "FEATURE_X": "on"}'
    run = run_program("k8s-dev", config, secret_keys)
    data = run.one("kubernetes:core/v1:ConfigMap", "-app-config").plain["data"]
    assert (data["LOG_LEVEL"], data["FEATURE_X"]) == ("DEBUG", "on")


def test_config_errors_print_without_a_stack_trace() -> None:
    # The Pulumi CLI prints a RunError's message alone.
    assert issubclass(ConfigError, pulumi.RunError)


def test_placeholder_list_covers_common_spellings() -> None:
    assert {"change_me", "changeme", "placeholder"} <= set(PLACEHOLDERS)


def test_monitoring_off_needs_no_grafana_password() -> None:
    config, secret_keys = config_with_secrets("k8s-dev")
    config["slipway:monitoringStack"] = "false"
    del config["slipway:grafanaAdminPassword"]
    run = run_program("k8s-dev", config, [k for k in secret_keys if k in config])
    assert not [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if "monitoring" in r.name]
    assert run.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
