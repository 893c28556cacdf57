"""The example stacks, each run once per test session under Pulumi's mocks."""

from __future__ import annotations

import pytest

from tests.infra.pulumi_mocks import StackRun, config_with_secrets, run_program

AWS_STACKS = ("aws-staging", "aws-prod")
KUBERNETES_STACKS = ("k8s-dev",)
STACKS = AWS_STACKS + KUBERNETES_STACKS

# pulumi_aws warns, when a module is first loaded, about its own deprecated resources (ones this
# program does not use). Those warnings are the provider's, not ours: ignore them here only.
PROVIDER_WARNINGS = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning:pulumi_aws")

_runs: dict[str, StackRun] = {}


def stack_run(stack: str) -> StackRun:
    """The recorded run of one example stack (with the secrets a user would set)."""
    if stack not in _runs:
        config, secret_keys = config_with_secrets(stack)
        _runs[stack] = run_program(stack, config, secret_keys)
    return _runs[stack]
