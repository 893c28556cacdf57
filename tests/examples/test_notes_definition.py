"""The notes app definition: valid, and true to what the app and its image do."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess

from packaging.requirements import Requirement

from ops.service.definition import PostgresRef, SecretRef
from ops.service.load import load
from tests.examples.conftest import NOTES_ROOT, TOKEN, app_client, pins

from notes import app as notes_app  # isort: skip - on the path the conftest gives it
from notes.settings import Settings, from_environment  # isort: skip

REPO_ROOT = NOTES_ROOT.parents[1]
DEFINITION = NOTES_ROOT / "slipway.yml"


def test_the_definition_loads() -> None:
    definition = load(DEFINITION)

    assert definition.service == "notes"
    assert definition.web.port == 9000
    assert (definition.web.health.live, definition.web.health.ready) == (notes_app.LIVE, notes_app.READY)
    assert definition.web.metrics == notes_app.METRICS
    assert definition.workers == []
    assert definition.data.names() == ["postgres"]
    assert definition.migrate is not None
    assert definition.migrate.command == ["migrate"]
    assert definition.secret_names() == ["notes_token"]
    assert definition.environment["NOTES_DATABASE_URL"] == PostgresRef(postgres="url")
    assert definition.environment["NOTES_TOKEN"] == SecretRef(secret="notes_token")
    assert definition.image.dockerfile == "examples/notes/Dockerfile"
    assert (REPO_ROOT / definition.image.dockerfile).is_file()


def test_deploy_check_accepts_it() -> None:
    result = subprocess.run(
        [str(REPO_ROOT / "deploy.sh"), "check", str(DEFINITION)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "service notes is a valid app definition" in result.stdout


def test_the_app_reads_every_variable_the_definition_sets_and_needs_no_other() -> None:
    definition = load(DEFINITION)
    source = "\n".join(path.read_text() for path in (NOTES_ROOT / "notes").glob("*.py"))
    given = dict.fromkeys(definition.environment, TOKEN)

    assert [name for name in definition.environment if f'"{name}"' not in source] == []
    # Settings start from the definition's variables alone (values stand in for the platform's).
    assert from_environment(given | {"NOTES_POOL_SIZE": "10", "NOTES_DRAIN_SECONDS": "2", "NOTES_GRACE_SECONDS": "10"})


def test_the_stop_time_covers_drain_and_grace() -> None:
    definition = load(DEFINITION)
    drain = float(definition.environment["NOTES_DRAIN_SECONDS"])  # type: ignore[arg-type]
    grace = float(definition.environment["NOTES_GRACE_SECONDS"])  # type: ignore[arg-type]

    assert definition.web.stop_seconds > drain + grace


def test_the_slo_routes_are_route_templates_the_app_serves() -> None:
    routes = notes_app.create_app(_settings()).routes
    templates = {notes_app.route_template(getattr(route, "path", "")) for route in routes}

    assert set(load(DEFINITION).slo.routes) <= templates


def _settings() -> Settings:
    return Settings(database_url="postgresql://nobody@127.0.0.1:1/none", token=TOKEN)


async def test_the_smoke_checks_pass_against_the_app(notes_settings: Settings) -> None:
    """Through nginx the smoke checks carry no token; in-process they must get the status they expect."""
    async for client in app_client(notes_settings):
        for check in load(DEFINITION).smoke:
            response = await client.get(check.path)
            assert response.status_code == check.status, (check.path, response.text)


def test_requirements_are_pins_of_the_app_lock_file() -> None:
    ours, locked = pins(NOTES_ROOT / "requirements.txt"), pins(REPO_ROOT / "requirements" / "app.txt")

    assert ours
    assert {name: locked.get(name) for name in ours} == ours


def test_requirements_hold_everything_their_packages_need() -> None:
    """The image installs from the wheelhouse only: a dependency left out would fail its build."""
    ours = pins(NOTES_ROOT / "requirements.txt")
    missing = set()
    for name in ours:
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                needed = requirement.name.lower().replace("_", "-")
                if needed not in ours:
                    missing.add(f"{name} needs {needed}")

    assert sorted(missing) == []


def test_the_image_installs_these_requirements_and_runs_the_notes_module() -> None:
    dockerfile = (NOTES_ROOT / "Dockerfile").read_text()

    assert "COPY examples/notes/requirements.txt" in dockerfile
    assert "--only-binary=:all:" in dockerfile
    assert 'ENTRYPOINT ["python", "-m", "notes"]' in dockerfile
    assert re.search(r"^USER \d+:\d+$", dockerfile, flags=re.MULTILINE)


async def test_the_metrics_path_serves_prometheus_text(notes_settings: Settings) -> None:
    async for client in app_client(notes_settings):
        response = await client.get(load(DEFINITION).web.metrics or "")
        assert response.status_code == 200
        assert "# TYPE http_requests_total counter" in response.text


def test_the_slo_latency_is_a_histogram_bucket_edge() -> None:
    """The SLO counts requests under its threshold from the bucket of that bound: it must be one."""
    assert load(DEFINITION).slo.latency_seconds in notes_app.LATENCY_BUCKETS


def test_the_image_listens_where_the_definition_says() -> None:
    port = load(DEFINITION).web.port
    dockerfile = (NOTES_ROOT / "Dockerfile").read_text()

    assert f"EXPOSE {port}\n" in dockerfile
    assert f"PORT={port}" in dockerfile
    assert Settings(database_url="", token="").port == port
