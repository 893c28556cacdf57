"""Each example stack builds its whole resource graph, wired the Pulumi way, with every output."""

from __future__ import annotations

import pytest

from infra import outputs
from tests.infra.pulumi_mocks import StackRun
from tests.infra.stacks import STACKS, stack_run

# Lower bounds: the graph must not silently lose a tier (exact counts are in docs/pulumi.md).
MINIMUM_RESOURCES = {"aws-staging": 100, "aws-prod": 110, "k8s-dev": 30}


@pytest.mark.parametrize("stack", STACKS)
def test_builds_whole_graph(stack: str) -> None:
    run = stack_run(stack)
    assert len(run.custom) >= MINIMUM_RESOURCES[stack]


def test_builds_every_aws_tier(aws_stack: StackRun) -> None:
    types = {r.type for r in aws_stack.custom}
    for expected in (
        "aws:ec2/vpc:Vpc",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/instance:Instance",
        "aws:rds/instance:Instance",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:s3/bucket:Bucket",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:sns/topic:Topic",
        "aws:kms/key:Key",
    ):
        assert expected in types


def test_builds_every_kubernetes_tier(k8s_stack: StackRun) -> None:
    types = {r.type for r in k8s_stack.custom}
    for expected in (
        "kubernetes:core/v1:Namespace",
        "kubernetes:apps/v1:Deployment",
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:batch/v1:Job",
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        "kubernetes:policy/v1:PodDisruptionBudget",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:networking.k8s.io/v1:Ingress",
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    ):
        assert expected in types


def test_app_hosts_follow_app_count(aws_stack: StackRun) -> None:
    config_count = {"aws-staging": 2, "aws-prod": 3}[aws_stack.stack]
    hosts = [r for r in aws_stack.of_type("aws:ec2/instance:Instance") if "-host-app" in r.name]
    assert len(hosts) == config_count
    assert len(aws_stack.outputs[outputs.APP_HOSTS]) == config_count


def test_every_resource_belongs_to_a_slipway_component(any_stack: StackRun) -> None:
    for resource in any_stack.custom:
        assert resource.parent_types, f"{resource.name} has no parent component"
        assert resource.parent_types[0].startswith("slipway:"), resource.urn


def test_components_use_slipway_type_tokens(any_stack: StackRun) -> None:
    components = [r for r in any_stack.resources if not r.custom]
    assert components
    for component in components:
        project, module, type_name = component.type.split(":")
        assert project == "slipway"
        assert module
        assert type_name[0].isupper()


def test_children_are_named_from_their_component(any_stack: StackRun) -> None:
    names_by_type: dict[str, set[str]] = {}
    for component in any_stack.resources:
        if not component.custom:
            names_by_type.setdefault(component.type, set()).add(component.name)
    for resource in any_stack.custom:
        parents = names_by_type[resource.parent_types[-1]]
        assert any(resource.name.startswith(f"{parent}-") or resource.name == parent for parent in parents), (
            resource.name
        )


def test_exports_every_aws_output(aws_stack: StackRun) -> None:
    assert set(aws_stack.outputs) == set(outputs.AWS_OUTPUTS)


def test_exports_every_kubernetes_output(k8s_stack: StackRun) -> None:
    assert set(k8s_stack.outputs) == set(outputs.KUBERNETES_OUTPUTS)


def test_names_resources_after_the_stack(any_stack: StackRun) -> None:
    for resource in any_stack.resources:
        assert resource.name.startswith(f"slipway-{any_stack.stack}-"), resource.name
