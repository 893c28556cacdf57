"""Every Kubernetes object the program declares, for the reference API and for a second app of another
shape: schema-valid, restricted pod security, release-safe; the reference API's as its definition says."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs in the lock file
import kubernetes_validate
import pytest

from infra import outputs
from infra.config import RELEASE_TAG_VARIABLE
from infra.kubernetes.pods import INGRESS_NAMESPACE, MONITORING_NAMESPACE
from infra.kubernetes.release_state import STATE_PATH
from ops.service.load import DEFAULT_DEFINITION, load
from tests.infra.pulumi_mocks import TEST_SECRETS, Resource, StackRun, config_with_secrets, run_program, secret_paths
from tests.infra.schemas import CRD_SPECS
from tests.infra.stacks import KUBERNETES_APPS, stack_run

# The oldest Kubernetes the program supports (preStop `sleep` needs 1.30) and the newest schema shipped.
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.latest_version())
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:Job")
REFERENCE = load(DEFAULT_DEFINITION)


def _objects(stack: str) -> list[Resource]:
    return stack_run(stack).kubernetes_objects


def _ids(stack: str) -> list[str]:
    return [r.name for r in _objects(stack)]


OBJECTS = [(stack, index) for stack in KUBERNETES_APPS for index in range(len(_objects(stack)))]


def _object_id(case: tuple[str, int]) -> str:
    stack, index = case
    return f"{stack}:{_objects(stack)[index].name}"


@pytest.mark.parametrize("case", OBJECTS, ids=[_object_id(c) for c in OBJECTS])
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_passes_schema_validation(case: tuple[str, int], version: str) -> None:
    stack, index = case
    manifest = _objects(stack)[index].plain
    kind = manifest["kind"]
    if kind in CRD_SPECS:
        assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
        jsonschema.validate(manifest["spec"], CRD_SPECS[kind])
        # Their metadata is an ordinary ObjectMeta: check it as one.
        kubernetes_validate.validate(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": manifest["metadata"]}, version, strict=True
        )
    else:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_schema_validation_rejects_an_unknown_field(k8s_app: StackRun) -> None:
    deployment = k8s_app.one("kubernetes:apps/v1:Deployment", "-api").plain
    deployment["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFS"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def _pod_specs(run: StackRun) -> list[tuple[str, dict[str, Any]]]:
    return [(r.name, r.plain["spec"]["template"]["spec"]) for t in WORKLOADS for r in run.of_type(t)]


def _containers(run: StackRun) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{name}/{c['name']}", c) for name, pod in _pod_specs(run) for c in pod["containers"]]


def test_every_workload_is_covered(k8s_stack: StackRun) -> None:
    names = {name.rsplit("-", 1)[-1] for name, _ in _pod_specs(k8s_stack)}
    assert names == {"api", "worker", "migrate", "statefulset"}
    assert len(_containers(k8s_stack)) == 8


def test_pods_run_as_non_root_with_runtime_default_seccomp(k8s_app: StackRun) -> None:
    for name, pod in _pod_specs(k8s_app):
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security["runAsUser"] > 0, name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert not any(pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), name


def test_containers_drop_every_capability_and_cannot_escalate(k8s_app: StackRun) -> None:
    for name, container in _containers(k8s_app):
        security = container["securityContext"]
        assert security["capabilities"] == {"drop": ["ALL"]}, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["privileged"] is False, name
        assert security["runAsNonRoot"] is True, name


def test_containers_have_read_only_root_filesystems(k8s_app: StackRun) -> None:
    for name, container in _containers(k8s_app):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name


def test_app_containers_run_as_the_image_user(k8s_app: StackRun) -> None:
    for name, pod in _pod_specs(k8s_app):
        if pod["securityContext"]["runAsUser"] == 10001:
            assert all(c["securityContext"]["runAsUser"] == 10001 for c in pod["containers"]), name
    app_pods = [pod for _, pod in _pod_specs(k8s_app) if pod["containers"][0]["name"] in ("api", "worker", "migrate")]
    assert app_pods
    assert all(pod["securityContext"]["runAsUser"] == 10001 for pod in app_pods)


def test_containers_have_requests_and_limits(k8s_app: StackRun) -> None:
    for name, container in _containers(k8s_app):
        compute = container["resources"]
        assert set(compute["requests"]) == {"cpu", "memory"}, name
        assert set(compute["limits"]) == {"cpu", "memory"}, name


def test_long_running_containers_have_readiness_and_liveness_probes(k8s_app: StackRun) -> None:
    for name, container in _containers(k8s_app):
        if "migrate" not in name:
            assert container["readinessProbe"], name
            assert container["livenessProbe"], name


def test_api_probes_use_the_paths_of_the_definition(k8s_stack: StackRun) -> None:
    api = k8s_stack.one("kubernetes:apps/v1:Deployment", "-api").plain["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == REFERENCE.web.health.ready
    assert api["livenessProbe"]["httpGet"]["path"] == REFERENCE.web.health.live
    assert api["startupProbe"]["httpGet"]["path"] == REFERENCE.web.health.live
    # Arguments to the image's entrypoint, as the definition writes them.
    assert api["args"] == REFERENCE.web.command
    assert "command" not in api


def test_worker_probes_its_health_port(k8s_stack: StackRun) -> None:
    (worker,) = REFERENCE.workers
    assert worker.health is not None
    pod = k8s_stack.one("kubernetes:apps/v1:Deployment", f"-{worker.name}").plain["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == worker.command
    assert container["ports"] == [{"name": "metrics", "containerPort": worker.health.port}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": worker.health.path, "port": "metrics"}
    assert pod["terminationGracePeriodSeconds"] == worker.stop_seconds


def test_images_are_pinned_to_a_tag(k8s_app: StackRun) -> None:
    for name, container in _containers(k8s_app):
        image = container["image"]
        assert re.search(r":[A-Za-z0-9_][A-Za-z0-9_.-]*$", image.rsplit("/", 1)[-1]), name
        assert not image.endswith(":latest"), name


def test_pods_do_not_mount_service_account_tokens(k8s_app: StackRun) -> None:
    for name, pod in _pod_specs(k8s_app):
        assert pod["automountServiceAccountToken"] is False, name


def test_deployments_roll_without_losing_capacity(k8s_app: StackRun) -> None:
    for deployment in k8s_app.of_type("kubernetes:apps/v1:Deployment"):
        strategy = deployment.plain["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_deployments_leave_replicas_to_their_hpa(k8s_app: StackRun) -> None:
    targets = {
        h.plain["spec"]["scaleTargetRef"]["name"]
        for h in k8s_app.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    }
    for deployment in k8s_app.of_type("kubernetes:apps/v1:Deployment"):
        assert "replicas" not in deployment.plain["spec"]
        assert deployment.plain["metadata"]["name"] in targets


def test_api_drains_before_it_stops(k8s_stack: StackRun) -> None:
    pod = k8s_stack.one("kubernetes:apps/v1:Deployment", "-api").plain["spec"]["template"]["spec"]
    pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre_stop > 0
    # The definition's stop time starts when SIGTERM arrives, after the pause.
    assert pod["terminationGracePeriodSeconds"] == REFERENCE.web.stop_seconds + pre_stop


def test_disruption_budgets_always_allow_one_disruption(k8s_app: StackRun) -> None:
    budgets = [p.plain["spec"] for p in k8s_app.of_type("kubernetes:policy/v1:PodDisruptionBudget")]
    assert len(budgets) == len(k8s_app.of_type("kubernetes:apps/v1:Deployment"))
    assert all(b["maxUnavailable"] == 1 and "minAvailable" not in b for b in budgets)


def test_migration_runs_once_per_release(k8s_stack: StackRun) -> None:
    (job,) = k8s_stack.of_type("kubernetes:batch/v1:Job")
    manifest = job.plain
    assert manifest["metadata"]["name"] == f"{REFERENCE.service}-migrate-0-1-0"
    pod = manifest["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert REFERENCE.migrate is not None
    assert pod["containers"][0]["args"] == REFERENCE.migrate.command


def test_namespace_enforces_restricted_pod_security(k8s_app: StackRun) -> None:
    (namespace,) = k8s_app.of_type("kubernetes:core/v1:Namespace")
    labels = namespace.plain["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def _policies(run: StackRun) -> dict[str, dict[str, Any]]:
    return {
        p.plain["metadata"]["name"]: p.plain["spec"]
        for p in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }


def test_namespace_denies_all_traffic_by_default(k8s_app: StackRun) -> None:
    deny = _policies(k8s_app)["slipway-default-deny"]
    assert deny["podSelector"] == {}
    assert sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
    assert not deny.get("ingress")
    assert not deny.get("egress")


def test_db_and_cache_are_reachable_only_from_the_app(k8s_stack: StackRun) -> None:
    policies = _policies(k8s_stack)
    for component, port, metrics_port in (("postgres", 5432, 9187), ("redis", 6379, 9121)):
        rules = policies[f"slipway-{component}-ingress"]["ingress"]
        by_port = {rule["ports"][0]["port"]: rule["from"] for rule in rules}
        assert set(by_port) == {port, metrics_port}
        (app_peer,) = by_port[port]
        assert set(app_peer) == {"podSelector"}
        assert app_peer["podSelector"]["matchExpressions"][0]["values"] == ["api", "worker", "migrate"]
        assert by_port[metrics_port] == [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}
        ]


def test_api_takes_traffic_only_from_the_ingress_controller_and_prometheus(k8s_stack: StackRun) -> None:
    (rule,) = _policies(k8s_stack)["slipway-api-ingress"]["ingress"]
    sources = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in rule["from"]}
    assert sources == {INGRESS_NAMESPACE, MONITORING_NAMESPACE}
    assert rule["ports"] == [{"port": REFERENCE.web.port, "protocol": "TCP"}]


def test_secrets_are_marked_secret(k8s_stack: StackRun) -> None:
    secrets = k8s_stack.of_type("kubernetes:core/v1:Secret")
    assert len(secrets) == 3
    for secret in secrets:
        covered = secret_paths(secret.inputs)
        for key in secret.plain["stringData"]:
            assert "stringData" in covered or f"stringData.{key}" in covered, f"{secret.name}: {key}"


def test_no_secret_in_plain_text_anywhere(k8s_app: StackRun) -> None:
    for resource in k8s_app.resources:
        plain_parts = json.dumps({k: v for k, v in resource.inputs.items() if not secret_paths(v)})
        for value in TEST_SECRETS.values():
            assert value not in plain_parts, resource.name


def test_grafana_admin_password_is_secret(k8s_app: StackRun) -> None:
    release = k8s_app.one("kubernetes:helm.sh/v3:Release", "monitoring")
    assert any(path.startswith("values") for path in secret_paths(release.inputs))


def test_ingress_terminates_tls_for_the_domain(k8s_app: StackRun) -> None:
    ingress = k8s_app.one("kubernetes:networking.k8s.io/v1:Ingress").plain
    domain = k8s_app.outputs["domain"]
    assert ingress["spec"]["tls"] == [{"hosts": [domain], "secretName": "slipway-tls"}]
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == [domain]
    assert ingress["spec"]["ingressClassName"] == "nginx"


def test_ingress_controller_is_f5_nginx_from_its_chart_repository(k8s_app: StackRun) -> None:
    release = k8s_app.one("kubernetes:helm.sh/v3:Release", "ingress").plain
    assert release["chart"] == "nginx-ingress"
    assert release["repositoryOpts"] == {"repo": "https://helm.nginx.com/stable"}
    assert release["version"]
    assert release["values"]["controller"]["enableSnippets"] is False
    assert release["atomic"] is True


def test_monitoring_stack_picks_up_every_rule_and_dashboard(k8s_app: StackRun) -> None:
    values = k8s_app.one("kubernetes:helm.sh/v3:Release", "monitoring").plain["values"]
    spec = values["prometheus"]["prometheusSpec"]
    for key in (
        "ruleSelectorNilUsesHelmValues",
        "serviceMonitorSelectorNilUsesHelmValues",
        "podMonitorSelectorNilUsesHelmValues",
    ):
        assert spec[key] is False
    sidecar = values["grafana"]["sidecar"]["dashboards"]
    assert (sidecar["label"], sidecar["labelValue"], sidecar["searchNamespace"]) == (
        "grafana_dashboard",
        "1",
        "ALL",
    )


def test_service_monitors_scrape_the_contract_jobs(k8s_stack: StackRun) -> None:
    monitors = k8s_stack.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    jobs = {m.plain["spec"]["selector"]["matchLabels"]["slipway.dev/job"] for m in monitors}
    assert jobs == {"api", "worker", "postgres", "redis"}
    services = {
        s.plain["metadata"]["labels"].get("slipway.dev/job") for s in k8s_stack.of_type("kubernetes:core/v1:Service")
    }
    assert jobs <= services


def test_every_job_the_rules_watch_is_scraped_under_that_name(k8s_app: StackRun) -> None:
    rules = k8s_app.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    expressions = " ".join(str(r["expr"]) for p in rules for g in p.plain["spec"]["groups"] for r in g["rules"])
    watched = set(re.findall(r'job="([a-z]+)"', expressions))
    assert "blackbox" not in watched  # no blackbox exporter on kubernetes: its rules are left out
    values = k8s_app.one("kubernetes:helm.sh/v3:Release", "monitoring").plain["values"]
    renamed = {
        values["prometheus-node-exporter"]["prometheus"]["monitor"]["relabelings"][0]["replacement"],
        values["prometheus"]["serviceMonitor"]["relabelings"][0]["replacement"],
        values["alertmanager"]["serviceMonitor"]["relabelings"][0]["replacement"],
    }
    monitors = k8s_app.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    service_jobs = {m.plain["spec"]["selector"]["matchLabels"]["slipway.dev/job"] for m in monitors}
    (nginx,) = k8s_app.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")
    pod_jobs = {nginx.plain["spec"]["podMetricsEndpoints"][0]["relabelings"][0]["replacement"]}
    assert watched <= renamed | service_jobs | pod_jobs


def _image(run: StackRun, kind: str, suffix: str) -> str:
    image: str = run.one(kind, suffix).plain["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def test_release_tag_comes_from_the_release_not_the_stack_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RELEASE_TAG_VARIABLE, "1.4.2")
    config, secret_keys = config_with_secrets("k8s-dev")

    run = run_program("k8s-dev", config, secret_keys)

    assert _image(run, "kubernetes:apps/v1:Deployment", "-api").endswith(":1.4.2")
    assert _image(run, "kubernetes:apps/v1:Deployment", "-worker").endswith(":1.4.2")
    # The release state's pod keeps the first image, so no release restarts it mid-release.
    assert _image(run, "kubernetes:apps/v1:StatefulSet", "-release-state-statefulset").endswith(":0.1.0")


def test_release_state_lives_on_a_persistent_volume(k8s_stack: StackRun) -> None:
    spec = k8s_stack.one("kubernetes:apps/v1:StatefulSet", "-release-state-statefulset").plain["spec"]

    mounts = spec["template"]["spec"]["containers"][0]["volumeMounts"]
    assert spec["replicas"] == 1
    assert [claim["metadata"]["name"] for claim in spec["volumeClaimTemplates"]] == ["state"]
    assert mounts == [{"name": "state", "mountPath": STATE_PATH}]
    assert k8s_stack.outputs[outputs.RELEASE_STATE] == "slipway-release-state"
