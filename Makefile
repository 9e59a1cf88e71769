# Yutang (鱼塘). `make dev` runs the product locally; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_SIZE ?= full

.PHONY: dev test test-fast bench lint browser clean-data help synth console console-test lighthouse

help:
	@echo "make dev     run the API on http://127.0.0.1:8000 with the embedded local stack"
	@echo "make test    install everything and run unit, integration, api and e2e tests"
	@echo "make bench   run the benchmarks (BENCH_SIZE=small for CI)"
	@echo "make synth   the AWS CloudFormation templates into infra/cdk.out (offline), cfn-lint, checks"
	@echo "make lint    ruff and mypy"
	@echo "make console build the operator console (console/dist, served by make dev at /console/)"

$(STAMP): requirements.txt requirements-dev.txt
	@echo "==> creating $(VENV) and installing the Python packages (first run: a minute or two)"
	$(PYTHON) -m venv $(VENV)
	@$(PYTHON) scripts/pip-install $(PY) --upgrade pip
	@$(PYTHON) scripts/pip-install $(PY) -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

dev: $(STAMP) console
	@echo "==> starting the local stack (python -m devstack.dev)"
	$(PY) -m devstack.dev

# The operator console (console/): npm ci when the lock file changes; API types regenerated from the
# Python OpenAPI document, type check and vite build when a source or the contract changes.
CONSOLE_DEPS := console/node_modules/.installed
CONSOLE_SRC := $(shell find console/src console/scripts -type f -not -name '*.d.ts' 2>/dev/null) \
	console/index.html console/vite.config.ts console/tsconfig.app.json \
	chalicelib/openapi.py chalicelib/apidoc.py chalicelib/domains.py $(wildcard chalicelib/*/spec.py) \
	$(wildcard chalicelib/*/domain.py)

$(CONSOLE_DEPS): console/package.json console/package-lock.json
	@echo "console: installing npm dependencies (npm ci)..."
	cd console && npm ci --no-audit --no-fund --loglevel=error
	@touch $(CONSOLE_DEPS)

console/dist/index.html: $(STAMP) $(CONSOLE_DEPS) $(CONSOLE_SRC)
	@echo "console: generating API types, building and type-checking..."
	cd console && PYTHON=$(CURDIR)/$(PY) npm run --silent build
	@touch console/dist/index.html
	@echo "console: built console/dist (served at /console/ by make dev)"

console: console/dist/index.html

# Lighthouse for make bench (bench/lighthouse/: lighthouse + puppeteer-core, no browser download;
# it drives Debian's Chromium).
LIGHTHOUSE_DEPS := bench/lighthouse/node_modules/.installed
$(LIGHTHOUSE_DEPS): bench/lighthouse/package.json bench/lighthouse/package-lock.json
	cd bench/lighthouse && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	@touch $(LIGHTHOUSE_DEPS)

lighthouse: $(LIGHTHOUSE_DEPS)

console-test: $(CONSOLE_DEPS) console
	cd console && npm run --silent lint && npm test --silent

browser:
	@bash scripts/ensure-chromium

test: $(STAMP) browser console-test
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q -n 2 -p no:cacheprovider

test-fast: $(STAMP)
	$(PY) -m pytest -q -n 2 -m "not e2e" tests/unit tests/integration tests/api

bench: $(STAMP) console lighthouse browser
	$(PY) -m bench --size $(BENCH_SIZE)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy  # configuration: [tool.mypy] in pyproject.toml

clean-data:
	rm -rf .yutang-data

# AWS definition (infra/): CDK app -> infra/cdk.out, then cfn-lint and infra/verify.py. No AWS
# account or credentials; only PyPI (Lambda wheels for the bundle) and npm. CDK_ARGS="-c stage=dev".
INFRA_STAMP := $(VENV)/.infra-installed
CDK := infra/node_modules/.bin/cdk
SYNTH_ENV := AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=true \
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20,21 JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1

$(INFRA_STAMP): $(STAMP) infra/requirements.txt
	$(PY) -m pip install -q -r infra/requirements.txt
	touch $(INFRA_STAMP)

$(CDK): infra/package.json infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund --loglevel=error
	touch $(CDK)

synth: $(INFRA_STAMP) $(CDK) console  # the stack deploys console/dist
	rm -rf infra/cdk.out infra/chalice.out
	cd infra && $(SYNTH_ENV) ./node_modules/.bin/cdk synth --quiet --no-notices --no-version-reporting $(CDK_ARGS)
	$(VENV)/bin/cfn-lint --non-zero-exit-code error infra/cdk.out/*.template.json
	$(SYNTH_ENV) $(PY) infra/verify.py
