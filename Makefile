# The standard commands. CI (.ci/run) calls `make lint`, then `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ENV ?= local

PYTEST := $(BIN)/python -m pytest

.PHONY: help
help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: system-packages
system-packages: ## Install the Debian packages the kit needs (ops/packages/*.txt)
	@./ops/install-packages.sh

# The virtualenv is rebuilt whenever the lock file changes.
$(INSTALLED): requirements/dev.txt pyproject.toml | system-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv==0.9.30
	$(BIN)/uv pip sync -q --python $(BIN)/python requirements/dev.txt
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $@

.PHONY: venv
venv: $(INSTALLED) ## Create the virtualenv from the lock file

.PHONY: lock
lock: ## Re-resolve requirements/*.txt from pyproject.toml
	$(BIN)/uv pip compile -q pyproject.toml --python-version 3.11 --python-platform x86_64-unknown-linux-gnu -o requirements/app.txt
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --python-version 3.11 --python-platform x86_64-unknown-linux-gnu -o requirements/dev.txt

.PHONY: test
test: system-packages $(INSTALLED) ## Run the whole suite (starts and stops its own PostgreSQL, Redis, Docker fleet)
	$(PYTEST)

.PHONY: test-fast
test-fast: system-packages $(INSTALLED) ## Everything but the end-to-end fleet tests
	$(PYTEST) -m "not e2e"

.PHONY: lint
lint: system-packages $(INSTALLED) ## ruff, mypy, shellcheck, yamllint, ansible-lint, the app definitions
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app ops dashboards infra
	$(BIN)/python -m dashboards check
	$(BIN)/python -m ops.compliance checklist --check
	for definition in app/slipway.yml $(wildcard examples/*/slipway.yml); do $(BIN)/python -m ops.deploy check "$$definition" >/dev/null; done
	shellcheck $(wildcard deploy.sh) ops/*.sh .ci/run
	$(BIN)/yamllint -s .
	@if [ -f playbooks/site.yml ]; then cd playbooks && ../$(BIN)/ansible-lint; fi

.PHONY: bench
bench: bench-api bench-gate bench-fleet ## Every benchmark: the API, the release gate, then the local fleet

.PHONY: bench-api
bench-api: system-packages $(INSTALLED) ## API throughput and latency, memory, worker throughput (ratios to a baseline)
	$(BIN)/python -m ops.bench

.PHONY: bench-gate
bench-gate: system-packages $(INSTALLED) ## The canary gate's power on simulated traffic (bad versions caught, healthy ones passed)
	$(BIN)/python -m ops.bench.gate

.PHONY: dashboards
dashboards: $(INSTALLED) ## Regenerate alert rules and Grafana dashboards (dashboards/)
	$(BIN)/python -m dashboards generate

# One fleet (env bench) serves both fleet benchmarks; it is removed at the end, even on failure.
.PHONY: bench-fleet
bench-fleet: system-packages $(INSTALLED) ## Fleet from nothing to serving, the idempotent re-run, releases (batches, canary) and rollbacks (warm, cold)
	status=0; { $(BIN)/python -m ops.fleet_bench --env bench --keep && \
	  $(BIN)/python -m ops.bench.rollout --env bench; } || status=$$?; \
	$(BIN)/python -m ops.fleet down --env bench; exit $$status

.PHONY: fleet-up fleet-down fleet-status
fleet-up fleet-down fleet-status: system-packages $(INSTALLED) ## The local fleet of ENV: up, down, status
	$(BIN)/python -m ops.fleet $(subst fleet-,,$@) --env $(ENV)

.PHONY: compliance
compliance: system-packages $(INSTALLED) ## Hardening compliance report for ENV (default: local)
	$(BIN)/python -m ops.compliance --env $(ENV)

.PHONY: clean
clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
