# Yutang (鱼塘). `make dev` runs the product locally; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_SIZE ?= full

.PHONY: dev test test-fast bench lint browser clean-data help

help:
	@echo "make dev     run the API on http://127.0.0.1:8000 with the embedded local stack"
	@echo "make test    install everything and run unit, integration, api and e2e tests"
	@echo "make bench   run the benchmarks (BENCH_SIZE=small for CI)"
	@echo "make lint    ruff"

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

dev: $(STAMP)
	$(PY) -m chalicelib.local.dev

browser:
	@bash scripts/ensure-chromium

test: $(STAMP) browser
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n 2 -p no:cacheprovider

test-fast: $(STAMP)
	$(PY) -m pytest -q -n 2 -m "not e2e" tests/unit tests/integration tests/api

bench: $(STAMP)
	$(PY) -m bench --size $(BENCH_SIZE)

lint: $(STAMP)
	$(PY) -m ruff check .

clean-data:
	rm -rf .yutang-data
