# Atiende: `make run` serves the app with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 8000
export ATIENDE_DATA_DIR ?= $(CURDIR)/data
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

# uv: the one on PATH, else bootstrapped into .uv/ from PyPI.
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.uv/bin/uv)
RUN := $(UV) run --frozen
VENDOR := atiende/core/static/vendor/.built

.PHONY: install run web worker test test-pg lint format bench messages clean

$(CURDIR)/.uv/bin/uv:
	python3 -m venv .uv && .uv/bin/pip install --quiet uv

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

$(VENDOR): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build
	touch $@

messages: .venv/.installed
	$(RUN) python manage.py compile_catalogues

install: .venv/.installed $(VENDOR) messages

run: install
	$(RUN) python manage.py migrate --noinput
	$(RUN) python manage.py seed_demo --if-empty
	$(RUN) atiende run --host $(HOST) --port $(PORT)

web: install
	$(RUN) atiende web --host $(HOST) --port $(PORT)

worker: install
	$(RUN) atiende worker

test: install
	$(RUN) pytest $(PYTEST_ARGS)

test-pg: install
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) ATIENDE_REDIS_PREFIX=atiende-test \
		$(RUN) pytest $(PYTEST_ARGS)

lint: .venv/.installed
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: .venv/.installed
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

# `make bench`: small scale on SQLite (embedded `atiende run`). `make bench SCALE=large DB=pg`
# needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379; see bench/README.md.
SCALE ?= small
DB ?= sqlite
ONLY ?=
bench: install
	$(RUN) python -m bench --scale $(SCALE) --db $(DB) $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf .venv .uv node_modules atiende/core/static/vendor
