# Pilotis — two commands for newcomers:
#   make run    install the app's dependencies in .venv and serve it on http://127.0.0.1:8050
#   make test   install everything the tests need (incl. Chromium and axe-core), run the suite
# Others: make install | browser | lint | bench | check | help

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Stamps: newer than the requirements files they cover => nothing to reinstall.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
AXE := node_modules/axe-core/axe.min.js
# Extra pytest arguments, e.g. make test PYTEST_ARGS="-m 'not browser' -x"
PYTEST_ARGS ?=

.PHONY: help venv install install-run bytecode browser servers matrix test lint run bench check pdfdeps

help:
	@echo "make run      install app dependencies in $(VENV), serve on http://127.0.0.1:8050"
	@echo "make test     install app + test dependencies, Chromium, axe-core; run all tests"
	@echo "make install  create $(VENV) and install requirements.txt + requirements-dev.txt"
	@echo "make browser  install Chromium (apt, as root) and axe-core (npm) for browser tests"
	@echo "make matrix   install Synapse (Matrix homeserver) in $(SYNAPSE_VENV) for the Matrix alert tests"
	@echo "make lint     ruff check, ruff format --check, mypy (CI runs it before the tests)"
	@echo "make bench    run the benchmarks (bench/run_all.py)"
	@echo "make bytecode compile the app's modules once (run, test and bench do it; see docs/production.md)"
	@echo "make check    validate the configuration (python -m pilotis check)"

# ---------------------------------------------------------------- Python environment
$(PY):
	$(PYTHON) -m venv $(VENV)

venv: $(PY)

$(RUN_STAMP): requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt requirements-testdata.txt | $(PY)
	$(PIP) install -r requirements.txt -r requirements-dev.txt
	$(PIP) install --no-deps -r requirements-testdata.txt
	touch $@ $(RUN_STAMP)

install-run: $(RUN_STAMP)

install: $(DEV_STAMP)

# Bytecode of the app's own modules, written here once. Without it, a Python that may not write
# it (PYTHONDONTWRITEBYTECODE, common in containers; a read-only code folder, as under the systemd
# unit's ProtectSystem=strict) compiles ~200 modules again at every worker start: 0.25 s of CPU
# of a 1.7 s start (bench/RESULTS_peers.md). When they are up to date: 0.1 s, nothing written.
BYTECODE_DIRS := app.py pilotis layouts data_sources dashboards
bytecode: | $(PY)
	$(PY) -m compileall -q $(BYTECODE_DIRS)

# ---------------------------------------------------------------- browser test tooling
# Chromium comes from Debian (Playwright cannot download its own browser here).
browser: $(AXE)
	@if [ -x $(CHROMIUM) ]; then \
	  echo "browser: $$($(CHROMIUM) --version 2>/dev/null || echo $(CHROMIUM))"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "browser: installing Debian's chromium and chromium-driver"; \
	  apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	  $(CHROMIUM) --version; \
	else \
	  echo "browser: $(CHROMIUM) is missing and you are not root. Run:" >&2; \
	  echo "    sudo apt-get update && sudo apt-get install -y chromium chromium-driver" >&2; \
	  echo "Browser tests will be skipped (and fail when PILOTIS_REQUIRE_BROWSER=1, as in CI)." >&2; \
	  if [ -n "$${PILOTIS_REQUIRE_BROWSER:-}" ]; then exit 1; fi; \
	fi

# axe-core (accessibility audits), pinned in package.json / package-lock.json. npm writes
# fresh mtimes, so the file is reinstalled when it is missing or older than package*.json.
$(AXE): package.json $(wildcard package-lock.json)
	@if ! command -v npm >/dev/null; then \
	  echo "browser: npm is missing: install Node.js and npm to run the accessibility tests" >&2; \
	  if [ -n "$${PILOTIS_REQUIRE_BROWSER:-}" ]; then exit 1; fi; \
	else \
	  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
	  else npm install --no-audit --no-fund; fi; \
	  test -f $@; \
	  touch $@; \
	fi

# ---------------------------------------------------------------- servers the tests talk to
# Real servers on loopback, from Debian: OpenLDAP (slapd) for the LDAP sign-in tests, nginx for the
# production layout test (tests/test_deploy.py). The OpenID provider (npm oidc-provider) comes with
# `npm ci` above. Tests needing a missing one skip on a developer's machine and fail in CI.
TEST_SERVERS := /usr/sbin/slapd /usr/sbin/nginx
TEST_SERVERS += /usr/bin/wrk  # HTTP load for bench/bench_nginx.py and bench/bench_sources.py
servers:
	@missing=""; for f in $(TEST_SERVERS); do [ -x $$f ] || missing="$$missing $$f"; done; \
	if [ -z "$$missing" ]; then echo "servers: present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "servers: installing slapd ldap-utils nginx wrk"; \
	  apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils nginx wrk; \
	else \
	  echo "servers: missing$$missing; run: sudo apt-get install -y slapd ldap-utils nginx wrk" >&2; \
	fi

# Synapse (PyPI matrix-synapse), the real Matrix homeserver the Matrix/Tchap alert channel is
# tested against (tests/matrix_server.py). Its own virtualenv: its pins (Twisted, pydantic,
# cryptography…) must not move the app's. About a minute the first time, nothing afterwards (stamp).
SYNAPSE_VERSION := 1.163.2
SYNAPSE_VENV := .venv-synapse
SYNAPSE_STAMP := $(SYNAPSE_VENV)/.installed-$(SYNAPSE_VERSION)
matrix: $(SYNAPSE_STAMP)

$(SYNAPSE_STAMP):
	@echo "matrix: installing matrix-synapse $(SYNAPSE_VERSION) in $(SYNAPSE_VENV)"
	@if $(PYTHON) -m venv $(SYNAPSE_VENV) && \
	  $(SYNAPSE_VENV)/bin/python -m pip --disable-pip-version-check install -q "matrix-synapse==$(SYNAPSE_VERSION)"; then \
	  touch $@; \
	else \
	  echo "matrix: Synapse could not be installed: the Matrix tests will be skipped" >&2; \
	  echo "        (and fail when PILOTIS_REQUIRE_DEPLOY or CI is set)." >&2; \
	  if [ -n "$${PILOTIS_REQUIRE_DEPLOY:-}" ]; then exit 1; fi; \
	fi

# ---------------------------------------------------------------- everyday targets
# The whole suite, browser tests included. The postgres tests also run when PILOTIS_TEST_PG is set.
# pytest's exit status is passed through: 5 ("no tests collected") fails like any other.
# Without PYTEST_ARGS: the tests without a browser or a deployment run on $(TEST_WORKERS) processes
# (pytest-xdist; each has its own database and ports; a test file stays on one process, in order,
# so its module-scoped servers start once and its steps keep their sequence), then the browser and deployment tests run
# on one process (they start Chromium, gunicorn and nginx, and measure timings that two at once
# would distort). Both halves always run; the first failure's status is returned.
TEST_WORKERS ?= 2
test: install browser servers matrix pdfdeps bytecode
	@if [ -n "$(PYTEST_ARGS)" ]; then \
	  rc=0; $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	else \
	  rc=0; $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m 'not browser and not deploy' || rc=$$?; \
	  rc2=0; $(PY) -m pytest -m 'browser or deploy' || rc2=$$?; \
	  if [ $$rc -eq 0 ]; then rc=$$rc2; fi; \
	fi; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests: failing" >&2; fi; \
	exit $$rc

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

run: install-run pdfdeps bytecode
	$(PY) app.py

bench: install servers bytecode
	$(PY) bench/run_all.py

check: install-run
	$(PY) -m pilotis check

# ---------------------------------------------------------------- PDF reports (WeasyPrint)
# Commission reports and dashboard PDFs (pilotis/core/report_pdf.py) are laid out by WeasyPrint,
# which needs Debian's pango (text layout) and harfbuzz. Needed by `make run` and `make test`.
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
pdfdeps:
	@if ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 && ldconfig -p | grep -q libharfbuzz-subset; then \
	  echo "pdfdeps: pango present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "pdfdeps: installing $(PDF_LIBS)"; \
	  apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_LIBS); \
	else \
	  echo "pdfdeps: pango is missing and you are not root: PDF reports will fail. Run:" >&2; \
	  echo "    sudo apt-get update && sudo apt-get install -y $(PDF_LIBS)" >&2; \
	fi
