"""The kubernetes program renders a second app, of another shape than the reference API, from its
definition alone: another port and health paths, no worker, no Redis, no volume, PostgreSQL only,
another migrate command (and none at all); and the notes example from examples/notes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import BaseModel

from infra import outputs
from infra.kubernetes.environment import PROXIES
from ops.service.definition import PlatformRef
from ops.service.load import load, parse
from tests.infra.pulumi_mocks import ROOT, TEST_SECRETS, StackRun, config_with_secrets, run_program, secret_paths
from tests.infra.schemas import CRD_SPECS
from tests.infra.stacks import NOTES_DEFINITION, NOTES_RUN, SECOND_APP, SECOND_APP_RUN, stack_run, write_definition

DEFINITION = parse(SECOND_APP, Path("second-app.yml"))
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@pytest.fixture
def run() -> StackRun:
    return stack_run(SECOND_APP_RUN)


def _web(run: StackRun) -> dict[str, Any]:
    return run.one(DEPLOYMENT, "-api").plain


def _container(run: StackRun) -> dict[str, Any]:
    container: dict[str, Any] = _web(run)["spec"]["template"]["spec"]["containers"][0]
    return container


def _named(run: StackRun, type_: str) -> set[str]:
    return {r.plain["metadata"]["name"] for r in run.of_type(type_)}


def test_builds_only_the_web_deployment(run: StackRun) -> None:
    assert _named(run, DEPLOYMENT) == {"notes-api"}
    assert _named(run, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler") == {"notes-api"}
    assert _named(run, "kubernetes:policy/v1:PodDisruptionBudget") == {"notes-api"}


def test_runs_no_redis(run: StackRun) -> None:
    assert _named(run, "kubernetes:apps/v1:StatefulSet") == {"postgres", "slipway-release-state"}
    assert "redis" not in _named(run, "kubernetes:core/v1:Service")
    assert "slipway-redis" not in _named(run, "kubernetes:core/v1:Secret")
    assert "slipway-redis-ingress" not in _named(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy")


def test_app_reaches_postgres_only(run: StackRun) -> None:
    policies = {
        p.plain["metadata"]["name"]: p.plain["spec"]
        for p in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    (egress,) = policies["slipway-app-to-data"]["egress"]
    assert egress["ports"] == [{"port": 5432, "protocol": "TCP"}]
    assert policies["slipway-api-ingress"]["ingress"][0]["ports"] == [{"port": 9000, "protocol": "TCP"}]
    assert not [name for name in policies if name.endswith("-metrics")]  # no worker port to open


def test_web_runs_the_definition_command_on_its_port(run: StackRun) -> None:
    container = _container(run)
    assert container["args"] == DEFINITION.web.command
    assert "command" not in container
    assert container["ports"] == [{"name": "http", "containerPort": 9000}]
    service = run.one("kubernetes:core/v1:Service", "-api-service").plain
    assert service["metadata"]["name"] == "notes-api"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    backend = run.one("kubernetes:networking.k8s.io/v1:Ingress").plain["spec"]["rules"][0]["http"]["paths"][0]
    assert backend["backend"]["service"] == {"name": "notes-api", "port": {"name": "http"}}


def test_probes_use_the_definition_health_paths(run: StackRun) -> None:
    container = _container(run)
    paths = {probe: container[probe]["httpGet"] for probe in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert paths == {
        "startupProbe": {"path": "/livez", "port": "http"},
        "readinessProbe": {"path": "/readyz", "port": "http"},
        "livenessProbe": {"path": "/livez", "port": "http"},
    }


def test_stop_time_and_resources_come_from_the_definition(run: StackRun) -> None:
    pod = _web(run)["spec"]["template"]["spec"]
    pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] == 15 + pre_stop
    assert pod["containers"][0]["resources"] == {
        "requests": {"cpu": "125m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }


def test_mounts_no_volume_but_scratch_space(run: StackRun) -> None:
    assert not run.of_type("kubernetes:core/v1:PersistentVolumeClaim")
    assert [mount["mountPath"] for mount in _container(run)["volumeMounts"]] == ["/tmp"]


def test_plain_environment_is_in_the_config_map(run: StackRun) -> None:
    config = run.one("kubernetes:core/v1:ConfigMap", "-app-config").plain
    assert config["metadata"]["name"] == "notes-app"
    assert config["data"] == {
        "NOTES_MODE": "compact",
        "NOTES_PAGE_SIZE": "50",
        "NOTES_DEBUG": "false",
        "DB_HOST": "postgres",
        "DEPLOY_ENV": "k8s-dev",
        "TRUST_PROXIES": PROXIES,
        "PORT": "9000",
    }


def test_credentials_are_in_the_secret_and_marked_secret(run: StackRun) -> None:
    secret = run.one("kubernetes:core/v1:Secret", "-app-secret")
    data = secret.plain["stringData"]
    password = TEST_SECRETS["dbPassword"]
    # The in-cluster PostgreSQL speaks no TLS: the definition's sslmode is left out, the rest kept.
    assert data == {
        "DB_DSN": f"postgresql://notes:{password}@postgres:5432/notes?application_name=notes",
        "DB_PASSWORD": password,
        "SESSION_KEY": TEST_SECRETS["sessionKey"],
    }
    covered = secret_paths(secret.inputs)
    assert all("stringData" in covered or f"stringData.{key}" in covered for key in data)
    env_from = _container(run)["envFrom"]
    assert env_from == [{"configMapRef": {"name": "notes-app"}}, {"secretRef": {"name": "notes-app"}}]


def test_database_is_named_after_the_service(run: StackRun) -> None:
    postgres = run.one("kubernetes:apps/v1:StatefulSet", "-postgres-").plain["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in postgres["containers"][0]["env"]}
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == ("notes", "notes")


def test_migration_job_runs_the_definition_command(run: StackRun) -> None:
    (job,) = run.of_type("kubernetes:batch/v1:Job")
    assert job.plain["metadata"]["name"] == "notes-migrate-0-1-0"
    assert job.plain["spec"]["template"]["spec"]["containers"][0]["args"] == ["notes-migrate", "--to", "head"]


def test_monitors_scrape_the_app_jobs_on_their_paths(run: StackRun) -> None:
    monitors = {
        m.plain["spec"]["selector"]["matchLabels"]["slipway.dev/job"]: m.plain["spec"]["endpoints"][0]
        for m in run.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    }
    assert set(monitors) == {"api", "postgres"}
    assert (monitors["api"]["port"], monitors["api"]["path"]) == ("http", "/internal/metrics")


def test_rules_watch_no_job_the_app_does_not_run(run: StackRun) -> None:
    rules = run.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    expressions = " ".join(str(r["expr"]) for p in rules for g in p.plain["spec"]["groups"] for r in g["rules"])
    assert 'job="redis"' not in expressions
    assert 'job="worker"' not in expressions


def test_exports_no_worker_but_every_deployment(run: StackRun) -> None:
    assert set(run.outputs) == set(outputs.KUBERNETES_OUTPUTS) - {outputs.WORKER_DEPLOYMENT}
    assert run.outputs[outputs.DEPLOYMENTS] == ["notes-api"]
    assert run.outputs[outputs.API_DEPLOYMENT] == "notes-api"


def test_needs_no_redis_password() -> None:
    config, secret_keys = config_with_secrets("k8s-dev", write_definition(SECOND_APP, "second-app"))
    assert "slipway:redisPassword" not in config
    assert {"slipway:dbPassword", "slipway:sessionKey"} <= set(secret_keys)


def test_an_app_without_migrate_gets_no_job() -> None:
    data = yaml.safe_load(SECOND_APP)
    del data["migrate"]
    path = write_definition(yaml.safe_dump(data), "second-app-no-migrate")
    config, secret_keys = config_with_secrets("k8s-dev", path)

    run = run_program("k8s-dev", config, secret_keys)

    assert not run.of_type("kubernetes:batch/v1:Job")
    assert outputs.MIGRATION_JOB not in run.outputs
    policies = {p.plain["metadata"]["name"] for p in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert "slipway-app-to-data" in policies
    assert run.one(DEPLOYMENT, "-api").plain["metadata"]["name"] == "notes-api"


def test_renders_the_notes_example_from_its_definition() -> None:
    run = stack_run(NOTES_RUN)
    notes = load(ROOT / NOTES_DEFINITION)

    container = _container(run)
    assert container["args"] == notes.web.command
    assert container["ports"] == [{"name": "http", "containerPort": notes.web.port}]
    assert container["readinessProbe"]["httpGet"]["path"] == notes.web.health.ready
    assert _named(run, DEPLOYMENT) == {f"{notes.service}-api"}
    assert "redis" not in _named(run, "kubernetes:core/v1:Service")
    secret = run.one("kubernetes:core/v1:Secret", "-app-secret").plain["stringData"]
    assert set(secret) == {name for name, value in notes.environment.items() if isinstance(value, BaseModel)} - {
        name for name, value in notes.environment.items() if isinstance(value, PlatformRef)
    }


def test_pulls_the_definition_image_when_the_stack_names_none() -> None:
    config, secret_keys = config_with_secrets("k8s-dev", write_definition(SECOND_APP, "second-app"))
    del config["slipway:appImage"]

    run = run_program("k8s-dev", config, secret_keys)

    assert _container(run)["image"] == "registry.example.org/notes/api:0.1.0"


WORKERS_AND_REDIS = """\
workers:
  - {name: mailer, command: [mail], health: {port: 9300, path: /ok, metrics: false}, stop_seconds: 40}
  - {name: cron, command: [cron, --every, 1m]}
migrate:"""


def test_workers_without_metrics_or_health_and_redis_over_tls() -> None:
    text = SECOND_APP.replace("migrate:", WORKERS_AND_REDIS, 1)
    text = text.replace("data:\n", "data:\n  redis: {url_scheme: rediss, database: 2}\n")
    text = text.replace("environment:\n", "environment:\n  CACHE: {redis: url}\n  FILES: {volume: files}\n")
    text += "volumes:\n  files: {path: /srv/files}\n"
    config, secret_keys = config_with_secrets("k8s-dev", write_definition(text, "second-app-workers"))

    run = run_program("k8s-dev", config, secret_keys)

    assert _named(run, DEPLOYMENT) == {"notes-api", "notes-mailer", "notes-cron"}
    assert run.outputs[outputs.DEPLOYMENTS] == ["notes-api", "notes-mailer", "notes-cron"]
    assert run.outputs[outputs.WORKER_DEPLOYMENT] == "notes-mailer"
    mailer = run.one(DEPLOYMENT, "-mailer").plain["spec"]["template"]["spec"]
    assert mailer["terminationGracePeriodSeconds"] == 40
    assert mailer["containers"][0]["readinessProbe"]["httpGet"] == {"path": "/ok", "port": "health"}
    cron = run.one(DEPLOYMENT, "-cron").plain["spec"]["template"]["spec"]["containers"][0]
    assert cron["args"] == ["cron", "--every", "1m"]
    assert not any(key.endswith("Probe") for key in cron)
    assert {"/srv/files", "/tmp"} == {mount["mountPath"] for mount in cron["volumeMounts"]}
    # Only a health port that serves metrics gets a Service and a ServiceMonitor.
    assert _named(run, "kubernetes:core/v1:Service") == {"notes-api", "postgres", "redis"}
    jobs = {
        m.plain["spec"]["selector"]["matchLabels"]["slipway.dev/job"]
        for m in run.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    }
    assert jobs == {"api", "postgres", "redis"}
    policies = {p.plain["metadata"]["name"] for p in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert {"slipway-mailer-metrics", "slipway-redis-ingress"} <= policies
    assert "slipway-cron-metrics" not in policies
    secret = run.one("kubernetes:core/v1:Secret", "-app-secret").plain["stringData"]
    # The in-cluster Redis speaks no TLS: rediss becomes redis.
    assert secret["CACHE"] == f"redis://:{TEST_SECRETS['redisPassword']}@redis:6379/2"
    assert run.one("kubernetes:core/v1:ConfigMap", "-app-config").plain["data"]["FILES"] == "/srv/files"
    for resource in run.kubernetes_objects:
        manifest = resource.plain
        if manifest["kind"] not in CRD_SPECS:
            kubernetes_validate.validate(manifest, kubernetes_validate.latest_version(), strict=True)
