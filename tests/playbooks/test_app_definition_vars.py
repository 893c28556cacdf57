"""What the playbooks make of an app definition: the app's environment files, nginx's upload route
and private paths, and what Prometheus watches, rendered by Ansible itself on the controller.

A second definition of another shape (no worker, no Redis, no uploads) checks that nothing of the
reference API is left in what the roles get.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
BIN = Path(sys.executable).parent

INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "slipway_env": "t"},
        "children": {
            "app": {"hosts": {"app1": {"slipway_private_ip": "10.0.0.11"}}},
            "db": {"hosts": {"db1": {"slipway_private_ip": "10.0.0.20"}}},
            "cache": {"hosts": {"cache1": {"slipway_private_ip": "10.0.0.30"}}},
            "lb": {"hosts": {"lb1": {"slipway_private_ip": "10.0.0.2"}}},
            "mon": {"hosts": {"mon1": {"slipway_private_ip": "10.0.0.40"}}},
        },
    }
}

NOTES = """
service: notes
image: {dockerfile: examples/notes/Dockerfile, context: examples/notes}
web:
  command: [notes-server]
  port: 9000
  health: {live: /livez, ready: /readyz}
  metrics: /internal/metrics
environment:
  NOTES_DSN: {postgres: url}
  NOTES_TOKEN_SALT: {secret: token_salt}
  NOTES_PROXIES: {platform: proxies}
  NOTES_DEBUG: false
data:
  postgres: {}
"""


def _ansible(tmp_path: Path, host: str, expression: str, definition: Path | None = None, **variables: object) -> object:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump(INVENTORY))
    env = os.environ | {"ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "json"}
    env.pop("SLIPWAY_APP_DEFINITION", None)
    if definition is not None:
        env["SLIPWAY_APP_DEFINITION"] = str(definition)
    args = {"msg": "{{ " + expression + " }}"}
    extra = {"slipway_state_dir": str(tmp_path / "state"), "app_environment_extra": {}, **variables}
    result = subprocess.run(
        [str(BIN / "ansible"), host, "-i", str(inventory), "--playbook-dir", str(PLAYBOOKS), "-m", "debug",
         "-a", json.dumps(args), "-e", json.dumps(extra), "--one-line"],
        cwd=PLAYBOOKS, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.split("=>", 1)[1])["msg"]


def _env_file(tmp_path: Path, template: str, definition: Path | None = None) -> dict[str, str]:
    path = PLAYBOOKS / "roles/app/templates" / template
    text = str(_ansible(tmp_path, "app1", f"lookup('ansible.builtin.template', '{path}')", definition))
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_the_reference_definition_gives_the_api_its_environment(tmp_path: Path) -> None:
    app = _env_file(tmp_path, "app.env.j2")
    migrate = _env_file(tmp_path, "migrate.env.j2")
    secret = (tmp_path / "state/secrets/app_secret_key").read_text().strip()

    assert app["DATABASE_URL"].startswith("postgresql+asyncpg://slipway_app:")
    assert app["DATABASE_URL"].endswith("@10.0.0.20:5432/slipway?ssl=require")
    assert migrate["DATABASE_URL"].startswith("postgresql+asyncpg://slipway_owner:")
    assert app["REDIS_URL"].startswith("redis://app:")
    assert app["REDIS_URL"].endswith("@10.0.0.30:6379/0")
    assert app["SECRET_KEY"] == migrate["SECRET_KEY"] == secret
    assert len(secret) == 64
    assert (app["STORAGE_PATH"], app["FORWARDED_ALLOW_IPS"], app["MAX_UPLOAD_BYTES"]) == (
        "/srv/videos",
        "10.0.0.2",
        "536870912",
    )


def test_a_definition_of_another_shape_gets_only_what_it_names(tmp_path: Path) -> None:
    definition = tmp_path / "notes.yml"
    definition.write_text(NOTES)

    app = _env_file(tmp_path, "app.env.j2", definition)
    assert set(app) == {"NOTES_DSN", "NOTES_TOKEN_SALT", "NOTES_PROXIES", "NOTES_DEBUG"}
    assert app["NOTES_DSN"].startswith("postgresql://slipway_app:")
    assert app["NOTES_DSN"].endswith("/slipway")
    assert app["NOTES_TOKEN_SALT"] == (tmp_path / "state/secrets/app_token_salt").read_text().strip()
    assert app["NOTES_DEBUG"] == "false"
    roles = _ansible(
        tmp_path, "app1",
        "[app_serve_command, app_container_port, app_health_live_path, app_health_ready_path, app_worker_enabled,"
        " app_migrate_enabled]",
        definition,
    )  # fmt: skip
    assert roles == [["notes-server"], 9000, "/livez", "/readyz", False, False]
    nginx = _ansible(tmp_path, "lb1", "[nginx_upload_location_regex, nginx_private_paths]", definition)
    assert nginx == ["", ["/internal/metrics"]]
    watched = _ansible(
        tmp_path, "mon1",
        "[monitoring_worker_enabled, monitoring_redis_exporter_enabled, monitoring_postgres_exporter_enabled,"
        " monitoring_blackbox_targets[0].url]",
        definition,
    )  # fmt: skip
    assert watched == [False, False, True, "https://10.0.0.2/livez"]


def test_a_secret_the_platform_provides_is_used_and_none_is_generated(tmp_path: Path) -> None:
    provided = "p" * 64
    values = _ansible(tmp_path, "app1", "app_secret_values", slipway_app_secret_key=provided)
    assert values == {"secret_key": provided}
    assert not (tmp_path / "state/secrets/app_secret_key").exists()


def test_a_broken_definition_stops_ansible_with_the_checks_message(tmp_path: Path) -> None:
    definition = tmp_path / "broken.yml"
    definition.write_text(NOTES.replace("port: 9000", "port: nine"))
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump(INVENTORY))
    env = os.environ | {"ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg"), "SLIPWAY_APP_DEFINITION": str(definition)}
    result = subprocess.run(
        [str(BIN / "ansible"), "app1", "-i", str(inventory), "--playbook-dir", str(PLAYBOOKS), "-m", "debug",
         "-a", "msg={{ slipway_service.name }}"],
        cwd=PLAYBOOKS, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "web.port: Input should be a valid integer" in result.stdout + result.stderr


@pytest.fixture(autouse=True)
def _no_ambient_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLIPWAY_APP_DEFINITION", raising=False)
