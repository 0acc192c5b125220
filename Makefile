# amdsync developer commands. `make run` and `make test` set themselves up on a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
CHECKOV := $(CHECKOV_VENV)/bin/checkov
REGION ?= us-west-2
PYTEST_ARGS ?=
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup lint format types validate test unit reliability bench build run smoke openapi lock clean screenshots

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.in constraints.txt layers/common/requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.in -c constraints.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# The SAM CLI pins older boto3/click, so it gets a venv of its own.
$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --upgrade pip
	$(SAM_VENV)/bin/pip install -q -r requirements-sam.txt
	touch $@

# checkov pins older boto3/networkx/packaging than the dev venv: a venv of its own as well.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q -r requirements-checkov.txt
	touch $@

VENVS := $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed

# The three venvs install side by side (each is mostly waiting on pip): ~50 s on a fresh clone
# instead of ~110 s one after another.
setup: ## Create the venvs (idempotent)
	@$(MAKE) --no-print-directory --silent -j3 --output-sync=target $(VENVS)

lint: $(VENV)/.installed ## ruff lint + format check, bandit on the deployed Python
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r layers/common/amdsync functions

format: $(VENV)/.installed ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

types: $(VENV)/.installed ## mypy: strict for the shared package, then each function and local/
	$(VENV)/bin/mypy layers/common/amdsync
	$(VENV)/bin/mypy functions/*/app.py
	$(VENV)/bin/mypy local

validate: setup ## sam validate --lint, cfn-lint and checkov on template.yaml
	$(SAM) validate --lint --region $(REGION)
	$(VENV)/bin/cfn-lint template.yaml
	$(CHECKOV) -f template.yaml --framework cloudformation --compact --quiet --skip-download

unit: $(VENV)/.installed ## Unit tests only (fast, no sockets)
	$(VENV)/bin/pytest tests/unit -q $(PYTEST_ARGS)

# The template checks (sam validate --lint, cfn-lint, checkov, for both identity set-ups) are
# tests (tests/unit/test_template_checks.py): running `validate` here as well would run them twice.
# --dist loadfile: a module's tests run on one worker, so a module-scoped local stack (ui, runner,
# e2e) starts once, not once per worker that receives one of its tests. (loadgroup would be finer,
# but xdist 3.8 cannot mark groups under pytest 9: it renames `_nodeid`, which pytest 9 no longer reads.)
# --no-loadscope-reorder: files are handed out longest suite first (tests/conftest.py), not
# most-tests first, so the last files are short and neither worker idles at the end.
test: setup lint types ## Everything CI runs: lint, types, template checks and every test not marked slow
	$(VENV)/bin/pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m "not slow" --durations=10 $(PYTEST_ARGS)

reliability: setup ## Long profiles: full fault campaign and fuzzing, then every slow test
	AMDSYNC_RELIABILITY=full $(VENV)/bin/pytest -q -n 2 tests/reliability tests/fuzz $(PYTEST_ARGS)
	$(VENV)/bin/pytest -q -n 2 --dist loadfile -m slow tests/integration tests/e2e tests/ui tests/unit $(PYTEST_ARGS)

screenshots: setup ## Refresh the README's screenshots (docs/screenshots) from the UI tests
	AMDSYNC_SCREENSHOTS_DIR=docs/screenshots $(VENV)/bin/pytest -q -n 2 --dist loadfile tests/ui $(PYTEST_ARGS)

bench: setup ## Benchmarks on the local stack; prints a table, writes bench/results.json
	$(SAM) build >/dev/null
	$(PY) -m bench.run

build: setup ## sam build (arm64 layer + functions) into .aws-sam/
	$(SAM) build

API_PORT ?= 3000
MOTO_PORT ?= 5000
SIM_PORT ?= 4000
ISSUER_PORT ?= 9400

# `.local/cli.env`: `. .local/cli.env` points the amdsync CLI at the running stack (README).
# Only the dev venv: the SAM CLI venv is for `make build`/`make validate`/`make test`.
run: $(VENV)/.installed ## Start the local stack (moto, AMD simulator, OIDC issuer, handlers, queue, schedules)
	$(PY) -m local.runner --api-port $(API_PORT) --moto-port $(MOTO_PORT) --sim-port $(SIM_PORT) \
		--issuer-port $(ISSUER_PORT) --cli-env .local/cli.env --log-dir .local/logs

# Read-only (four GETs). The token goes through the environment, never onto a command line.
smoke: $(VENV)/.installed ## Check a running stack: make smoke API=<ApiBaseUrl> TOKEN=<admin jwt>
	@test -n "$(API)" || { echo "usage: make smoke API=<ApiBaseUrl output> TOKEN=<admin jwt>" >&2; exit 2; }
	@AMDSYNC_SMOKE_TOKEN="$(TOKEN)" $(PY) -m local.smoke --api "$(API)"

openapi: $(VENV)/.installed ## Regenerate docs/openapi.json from the code
	$(PY) -m amdsync.web.openapi docs/openapi.json

lock: ## Re-resolve requirements.in to the newest versions and rewrite constraints.txt
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q -r requirements.in
	(echo "# Exact versions for the dev/test venv (make lock regenerates). Generated from requirements.in."; \
	 .venv-lock/bin/pip freeze --exclude-editable) > constraints.txt
	rm -rf .venv-lock

clean: ## Remove build output and caches (keeps the venvs)
	rm -rf .aws-sam .mypy_cache .ruff_cache .pytest_cache .hypothesis
