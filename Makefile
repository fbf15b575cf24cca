# Warm Intros — the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH when it works; otherwise a private copy under .tools/ (a pyenv shim named
# `uv` can exist and still fail, so we ask it for its version rather than `command -v`).
UV_ON_PATH := $(shell uv --version >/dev/null 2>&1 && echo yes)
ifeq ($(UV_ON_PATH),yes)
UV := uv
UV_DEP :=
else
UV := .tools/bin/uv
UV_DEP := .tools/bin/uv
endif

VENV := .venv/bin
PY := $(VENV)/python
export UV_PYTHON_DOWNLOADS := never

# docker-compose 1.29.2 (Python) validates docker-compose.yml without a Docker engine.
COMPOSE_PYTHON ?= $(firstword $(wildcard /root/.pyenv/versions/3.9.*/bin/python) python3.9)
COMPOSE := .tools/compose/bin/docker-compose

.PHONY: help sync run test test-fast lint format check-deploy compose-check api-schema

help:
	@echo "make run            set up, migrate, load the demo and serve http://127.0.0.1:8000 (web, worker, beat; WEB_PORT=8016 for another port)"
	@echo "make test           set up and run the whole test suite"
	@echo "make test-fast      the suite without browser, fault and bench tests, in parallel (TEST_WORKERS=auto)"
	@echo "make lint           ruff check and ruff format --check"
	@echo "make format         ruff format and ruff check --fix"
	@echo "make check-deploy   manage.py check --deploy with production-like variables"
	@echo "make compose-check  validate docker-compose.yml with docker-compose 1.29.2 (no engine needed)"
	@echo "make api-schema     write the API's OpenAPI schema to api/openapi.json (commit it; a test fails when it drifts)"
	@echo "make loadtest       5 minutes of 100 people on the real stack, the worker restarted twice (LOADTEST_DURATION=60s for a quick run)"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

# Every target starts here: the locked runtime and dev dependencies, exactly.
sync: $(UV_DEP)
	@$(UV) sync --frozen

# The folders, migrations and the demo go through `honcho run` so they see the same .env as
# the processes. The folders come first: web, worker and beat start in no set order, and beat
# exits at once if the folder of its schedule is missing (config/var.py).
# `make run WEB_PORT=8016` serves on another port when 8000 is taken.
WEB_PORT ?= 8000

# Development mode is turned on here, explicitly: the settings are production (DEBUG off)
# unless DJANGO_DEBUG says otherwise. A DJANGO_DEBUG in the environment or .env wins.
run: export DJANGO_DEBUG ?= true
run: sync
	$(VENV)/honcho run $(PY) -m config.var
	$(VENV)/honcho run $(PY) manage.py migrate --no-input
	$(VENV)/honcho run $(PY) manage.py load_demo
	@echo
	@echo "  Warm Intros is starting at http://127.0.0.1:$(WEB_PORT)/  (web, Celery worker, Celery beat)"
	@echo "  Press Ctrl-C to stop all three."
	@echo
	WEB_PORT=$(WEB_PORT) exec $(VENV)/honcho --procfile Procfile start

# The suite runs on the production stack (PostgreSQL and Redis, the local servers unless
# DATABASE_URL/REDIS_URL say otherwise), then the embedded default gets a smoke run (with the
# demo that `make run` loads there).
TEST_DATABASE_URL ?= $(if $(DATABASE_URL),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/warm_intros)
TEST_REDIS_URL ?= $(if $(REDIS_URL),$(REDIS_URL),redis://127.0.0.1:6379/0)

test: sync
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(VENV)/pytest
	DATABASE_URL= REDIS_URL= $(VENV)/pytest -q tests/test_services.py tests/test_smoke.py tests/intros/test_stories.py tests/contacts/test_search.py tests/cohorts/test_demo.py

# The local loop: the tests not marked browser, faults or bench (the marks are declared in
# pyproject.toml), spread over TEST_WORKERS processes by pytest-xdist, each with a test database
# of its own (test_…_gw0, _gw1 …) and its own cache keys in Redis (tests/conftest.py). A module
# stays on one worker (--dist loadscope), so a world built once per module is built once.
TEST_WORKERS ?= auto
FAST_TESTS := not browser and not faults and not bench

test-fast: sync
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(VENV)/pytest -q -m "$(FAST_TESTS)" -n $(TEST_WORKERS) --dist loadscope

lint: sync
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

format: sync
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

# The API's schema, committed beside it (api/openapi.json); tests/api/test_schema.py fails when it drifts.
api-schema: export DJANGO_DEBUG ?= true
api-schema: sync
	$(PY) manage.py api_schema

check-deploy: sync
	DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DJANGO_ALLOWED_HOSTS=warm.example.com \
	SITE_URL=https://warm.example.com \
	$(PY) manage.py check --deploy --fail-level WARNING

$(COMPOSE):
	$(COMPOSE_PYTHON) -m venv .tools/compose
	.tools/compose/bin/pip install --quiet --disable-pip-version-check docker-compose==1.29.2

# A throwaway secret lets the file's required-variable check pass; nothing is started.
compose-check: $(COMPOSE)
	DJANGO_SECRET_KEY=compose-check-only $(COMPOSE) -f docker-compose.yml config -q
	@echo "docker-compose.yml is valid"


# The benchmark (bench/README.md): on DATABASE_URL's PostgreSQL server (the local one by
# default), in databases of its own (warm_bench*); prints the tables and writes them under
# bench/results/. BENCH_SCALE=small (or `make bench-small`) runs it at 1/50 in under two minutes.
BENCH_DATABASE_URL ?= $(if $(DATABASE_URL),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/warm_bench)
.PHONY: bench bench-small

bench: sync
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench

bench-small: sync
	BENCH_SCALE=small DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench


# The load test (loadtest/README.md): gunicorn, a Celery worker (restarted twice) and beat, on
# DATABASE_URL's PostgreSQL server (database warm_loadtest, made afresh; the local server by
# default) and LOADTEST_REDIS_URL (redis://127.0.0.1:6379/14, flushed); locust for
# LOADTEST_DURATION (5m) with LOADTEST_USERS (100). Exits non-zero on any 5xx, lost or
# duplicated message. Results in loadtest/results/.
.PHONY: loadtest

loadtest: sync
	$(PY) -m loadtest
