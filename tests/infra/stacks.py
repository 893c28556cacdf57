"""The example stacks, and the k8s-dev stack building a second app and the notes example instead of
the reference API, each run once per test session under Pulumi's mocks."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.infra.pulumi_mocks import StackRun, config_with_secrets, run_program

AWS_STACKS = ("aws-staging", "aws-prod")
KUBERNETES_STACKS = ("k8s-dev",)
STACKS = AWS_STACKS + KUBERNETES_STACKS
# The k8s-dev stack building SECOND_APP instead of the reference API.
SECOND_APP_RUN = "k8s-dev+second-app"
# The k8s-dev stack building the notes example (examples/notes), named as a stack would name it.
NOTES_DEFINITION = "examples/notes/slipway.yml"
NOTES_RUN = "k8s-dev+notes"
KUBERNETES_APPS = (*KUBERNETES_STACKS, SECOND_APP_RUN, NOTES_RUN)

# A service of another shape than the reference API: another port, other health and metrics paths,
# no worker, no Redis, no volume, PostgreSQL only (with TLS options the in-cluster one cannot honour)
# and another migrate command.
SECOND_APP = """\
service: notes
image: {registry: registry.example.org/notes/api}
web:
  command: [notes-server, --bind, "0.0.0.0:9000"]
  port: 9000
  health: {live: /livez, ready: /readyz}
  metrics: /internal/metrics
  stop_seconds: 15
  resources: {memory: 256m, cpus: 0.5}
migrate:
  command: [notes-migrate, --to, head]
environment:
  NOTES_MODE: compact
  NOTES_PAGE_SIZE: 50
  NOTES_DEBUG: false
  DB_DSN: {postgres: url}
  DB_HOST: {postgres: host}
  DB_PASSWORD: {postgres: password}
  SESSION_KEY: {secret: session_key}
  DEPLOY_ENV: {platform: environment}
  TRUST_PROXIES: {platform: proxies}
data:
  postgres:
    url_scheme: postgresql
    url_query: sslmode=require&application_name=notes
"""

# pulumi_aws warns, when a module is first loaded, about its own deprecated resources (ones this
# program does not use). Those warnings are the provider's, not ours: ignore them here only.
PROVIDER_WARNINGS = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning:pulumi_aws")

_runs: dict[str, StackRun] = {}
_definitions = Path(tempfile.mkdtemp(prefix="slipway-definitions-"))
atexit.register(shutil.rmtree, _definitions, ignore_errors=True)


def write_definition(text: str, name: str) -> Path:
    """A definition file for one test run (the program reads definitions from files only)."""
    path = _definitions / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return path


def stack_run(stack: str) -> StackRun:
    """The recorded run of one example stack (with the secrets a user would set), or of
    SECOND_APP_RUN."""
    if stack not in _runs:
        if stack in (SECOND_APP_RUN, NOTES_RUN):
            definition = write_definition(SECOND_APP, "second-app") if stack == SECOND_APP_RUN else NOTES_DEFINITION
            config, secret_keys = config_with_secrets("k8s-dev", definition)
            _runs[stack] = run_program("k8s-dev", config, secret_keys)
        else:
            config, secret_keys = config_with_secrets(stack)
            _runs[stack] = run_program(stack, config, secret_keys)
    return _runs[stack]
