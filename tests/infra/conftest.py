"""Fixtures: the example stacks' recorded runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.pulumi_mocks import StackRun
from tests.infra.stacks import AWS_STACKS, KUBERNETES_APPS, KUBERNETES_STACKS, PROVIDER_WARNINGS, STACKS, stack_run


@pytest.fixture(params=STACKS)
def any_stack(request: pytest.FixtureRequest) -> StackRun:
    return stack_run(request.param)


@pytest.fixture(params=AWS_STACKS)
def aws_stack(request: pytest.FixtureRequest) -> StackRun:
    return stack_run(request.param)


@pytest.fixture
def aws_prod() -> StackRun:
    return stack_run("aws-prod")


@pytest.fixture
def aws_staging() -> StackRun:
    return stack_run("aws-staging")


@pytest.fixture(params=KUBERNETES_STACKS)
def k8s_stack(request: pytest.FixtureRequest) -> StackRun:
    return stack_run(request.param)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(PROVIDER_WARNINGS)


@pytest.fixture(params=KUBERNETES_APPS)
def k8s_app(request: pytest.FixtureRequest) -> StackRun:
    """The kubernetes stack building the reference API, then a second app of another shape."""
    return stack_run(request.param)
