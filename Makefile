# Sandbox Portal: `make run` starts the whole portal with its demo, `make test`
# runs the linters and every test. Both install what is missing first.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
PY := $(VENV)/bin/python
VAR := $(or $(VAR_DIR),var)
PORT ?= 8000
CHAIN_PORT ?= 8545
PYTEST_ARGS ?=
# The browser the browser tests launch (Debian's package; Playwright downloads none).
CHROMIUM := /usr/bin/chromium
# load_demo registers the reference node at this port.
export CHAIN_PORT

ifneq ($(wildcard package.json),)
NODE_STAMP := node_modules/.installed
endif

.PHONY: help install run demo test lint format clean distclean

help:
	@echo "make run        install, migrate, load the demo and start the portal on 127.0.0.1:$(PORT)"
	echo "make test       install, then linters, Django checks and the whole test suite"
	echo "make install    create $(VENV) and install the Python and npm packages if needed"
	echo "make demo       migrate and load the demo data only (with a reference node for its tests)"
	echo "make lint       ruff check and ruff format --check"
	echo "make format     apply ruff's formatting and fixes"
	echo "make clean      remove the local database, uploads, logs and caches"
	echo "make distclean  clean, and remove $(VENV) and node_modules"

# -- Installing ----------------------------------------------------------------

install: $(VENV)/.installed $(NODE_STAMP)

$(PY):
	@py=""
	for candidate in python3.11 python3; do
	  if command -v "$$candidate" >/dev/null 2>&1 \
	     && "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	    py="$$candidate"; break
	  fi
	done
	if [ -z "$$py" ]; then
	  echo "Python 3.11 is needed: put python3.11 (or a python3 that is 3.11) on PATH." >&2
	  exit 1
	fi
	echo "Creating $(VENV) with $$("$$py" --version)"
	"$$py" -m venv --clear $(VENV) || { rm -rf $(VENV); exit 1; }

# Reinstalled only when pyproject.toml is newer than the stamp.
$(VENV)/.installed: pyproject.toml | $(PY)
	@echo "Installing the Python packages into $(VENV)"
	$(PY) -m pip install --disable-pip-version-check --no-input -q -e ".[dev]"
	touch $@

# Debian's chromium, which the browser tests drive; installed only when it is missing.
$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests"
	sudo=""
	if [ "$$(id -u)" != 0 ]; then sudo="sudo"; fi
	apt_install() {
	  $$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends chromium
	}
	if ! apt_install; then
	  $$sudo apt-get update && apt_install || true
	fi
	if [ ! -x $@ ]; then
	  echo "Could not install chromium ($@), which the browser tests need: run" >&2
	  echo "  apt-get update && apt-get install -y --no-install-recommends chromium" >&2
	  echo "as root, then make test again." >&2
	  exit 1
	fi

# Reinstalled only when package-lock.json (or package.json) is newer than the stamp.
node_modules/.installed: package.json $(wildcard package-lock.json)
	@if ! command -v npm >/dev/null 2>&1; then
	  echo "npm (Node.js 20) is needed to install the reference node from package.json." >&2
	  exit 1
	fi
	if [ -f package-lock.json ]; then
	  npm ci --no-audit --no-fund
	else
	  npm install --no-audit --no-fund
	fi
	touch $@

# -- Running -------------------------------------------------------------------

# Shell functions that `run` and `demo` share. start_chain starts the reference node
# (Hardhat) in the background unless one answers already; wait_chain waits, 30 s at
# most, until it answers eth_chainId. Both set $chain to a line for the banner.
define CHAIN_FUNCTIONS
chain_url="http://127.0.0.1:$(CHAIN_PORT)"
chain="not started (run npm ci to install hardhat)"
chain_pid=""
chain_answers() {
  $(PY) -c 'import json, sys, urllib.request as r; q = r.Request(sys.argv[1], json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode(), {"Content-Type": "application/json"}); sys.exit("result" not in json.load(r.urlopen(q, timeout=2)))' "$$chain_url" >/dev/null 2>&1
}
start_chain() {
  if chain_answers; then
    chain="$$chain_url (already running)"
    return 0
  fi
  [ -x node_modules/.bin/hardhat ] || return 0
  mkdir -p $(VAR)/log
  HARDHAT_DISABLE_TELEMETRY_PROMPT=true \
    setsid node_modules/.bin/hardhat node --hostname 127.0.0.1 --port $(CHAIN_PORT) \
      >>$(VAR)/log/chain.log 2>&1 &
  chain_pid=$$!
  pids+=($$chain_pid)
  chain="$$chain_url (log: $(VAR)/log/chain.log)"
}
wait_chain() {
  [ -n "$$chain_pid" ] || return 0
  local deadline=$$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    chain_answers && return 0
    kill -0 "$$chain_pid" 2>/dev/null || break
    sleep 0.5
  done
  chain="not answering at $$chain_url (log: $(VAR)/log/chain.log)"
  echo "The reference node does not answer at $$chain_url; see $(VAR)/log/chain.log." >&2
}
endef

# The demo's test runs need the reference node: if none answers on CHAIN_PORT, one is
# started for the load and stopped afterwards (its evidence stays in the database).
demo: install
	@$(CHAIN_FUNCTIONS)
	pids=()
	trap 'kill -TERM "$${pids[@]}" 2>/dev/null; wait 2>/dev/null' EXIT
	# load_demo registers and tests the reference node on 127.0.0.1 (see `run`).
	export OUTGOING_ALLOWED_NETWORKS="$${OUTGOING_ALLOWED_NETWORKS:-127.0.0.1/32}"
	start_chain
	$(PY) manage.py migrate --noinput
	wait_chain
	$(PY) manage.py load_demo

# The reference node starts first, so the demo's test runs have a node to test. The web
# server runs until Ctrl-C (or until it exits); then the trap stops the worker, beat and
# the reference node it started.
run: install
	@$(CHAIN_FUNCTIONS)
	mkdir -p $(VAR)/log
	export SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}"
	# The reference node listens on 127.0.0.1, which the portal refuses to send requests
	# to unless OUTGOING_ALLOWED_NETWORKS lists it: for web, worker, beat and load_demo.
	export OUTGOING_ALLOWED_NETWORKS="$${OUTGOING_ALLOWED_NETWORKS:-127.0.0.1/32}"
	pids=()
	stop() {
	  set +e
	  trap - EXIT
	  # A second Ctrl-C, or output piped to a program that has quit, must not
	  # cut the clean-up short.
	  trap '' INT TERM PIPE
	  kill -TERM "$${pids[@]}" 2>/dev/null
	  echo "Stopping the worker, beat and the reference node..." 2>/dev/null
	  for _ in $$(seq 60); do
	    alive=""
	    for pid in "$${pids[@]}"; do kill -0 "$$pid" 2>/dev/null && alive=1; done
	    [ -z "$$alive" ] && break
	    sleep 0.25
	  done
	  # Whatever has not stopped in 15 s is killed with its whole process group.
	  for pid in "$${pids[@]}"; do kill -KILL -- "-$$pid" "$$pid" 2>/dev/null; done
	  wait 2>/dev/null
	  echo "Stopped." 2>/dev/null
	}
	trap stop EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# Each background process leads its own process group, so the final kill
	# also reaches the worker's pool processes.
	start_chain
	$(PY) manage.py migrate --noinput
	wait_chain
	$(PY) manage.py load_demo
	$(PY) manage.py collectstatic --noinput -v0
	setsid $(PY) -m celery -A sandbox_portal worker -Q celery,engine,reports -l info \
	  >>$(VAR)/log/worker.log 2>&1 &
	pids+=($$!)
	setsid $(PY) -m celery -A sandbox_portal beat -l info \
	  --schedule $(VAR)/celerybeat-schedule --pidfile $(VAR)/celerybeat.pid \
	  >>$(VAR)/log/beat.log 2>&1 &
	pids+=($$!)
	# Quoted, so make keeps the indentation.
	echo
	echo "  Sandbox Portal   http://127.0.0.1:$(PORT)/"
	echo "    admin          http://127.0.0.1:$(PORT)/admin/"
	echo "    API docs       http://127.0.0.1:$(PORT)/api/docs/"
	echo "    health         http://127.0.0.1:$(PORT)/healthz"
	echo "    reference node $$chain"
	echo "    worker, beat   logs in $(VAR)/log/worker.log and $(VAR)/log/beat.log"
	echo
	echo "  Demo logins (password: sandbox-demo)"
	echo "    alice    firm admin, Northgate Payments (Firm A)"
	echo "    amir     firm member, Northgate Payments (Firm A)"
	echo "    bella    firm admin, Tidewater Markets (Firm B)"
	echo "    olivia   regulator: case officer"
	echo "    victor   regulator: approver"
	echo "    audrey   auditor, assigned to one of Northgate's cases"
	echo "    staff    portal staff and Django admin"
	echo "    olivia, victor, audrey and staff set up two-factor authentication (an"
	echo "    authenticator app, TOTP) at their first login; firm users may in the menu"
	echo
	echo "  Press Ctrl-C to stop everything."
	echo
	DEBUG="$${DEBUG:-1}" $(PY) manage.py runserver --noreload 127.0.0.1:$(PORT) &
	web=$$!
	pids+=($$web)
	wait "$$web"

# -- Checking ------------------------------------------------------------------

test: install $(CHROMIUM)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	# Two processes for the tests that only wait on their own nodes and databases; then, alone,
	# those with a Celery worker or a browser (integration) and those judged against time
	# budgets (serial). Exit status 5 means a -k or -m in PYTEST_ARGS selected none of a part.
	status=0
	$(VENV)/bin/pytest tests -m "not integration and not serial" -n 2 --dist loadfile \
	  $(PYTEST_ARGS) || status=$$?
	if [ $$status -ne 0 ] && [ $$status -ne 5 ]; then exit $$status; fi
	status=0
	$(VENV)/bin/pytest tests -m "integration or serial" $(PYTEST_ARGS) || status=$$?
	if [ $$status -ne 0 ] && [ $$status -ne 5 ]; then exit $$status; fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# -- Cleaning ------------------------------------------------------------------

clean:
	rm -rf $(VAR)/portal.sqlite3* $(VAR)/test-*.sqlite3* $(VAR)/media $(VAR)/log \
	  $(VAR)/broker $(VAR)/staticfiles $(VAR)/hardhat $(VAR)/celerybeat-schedule* \
	  $(VAR)/celerybeat.pid $(VAR)/test-artifacts .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -not -path './node_modules/*' \
	  -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
