# The two commands a user needs are `make run` and `make test`; everything else is what they call.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# A Python 3.10 for both environments (Rasa 3.6 needs < 3.11). Override: make PYTHON310=/path/to/python3.10
PYTHON310 ?= $(shell for p in python3.10 $$(pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1 && { echo $$p; break; }; done)

VENV ?= .venv
BOT_VENV ?= .venv-bot
PY := $(VENV)/bin/python
BOT_PY := $(BOT_VENV)/bin/python
RASA := RASA_TELEMETRY_ENABLED=false $(BOT_VENV)/bin/rasa
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

MODEL := models/current.tar.gz

.PHONY: help setup train migrate run cluster lint test test-fast test-bot test-service bench screenshots
help:
	@echo "make run        start the whole stack (installs and trains what is missing)"
	@echo "make cluster    the production topology: PostgreSQL, Redis, workers and Rasa replicas behind HAProxy"
	@echo "make test       lint, then run every test"
	@echo "make test-fast  the service tests that need no Rasa, browser, PostgreSQL or Redis"
	@echo "make setup | train | migrate | lint | bench | screenshots"

check-python:
	@test -n "$(PYTHON310)" || { echo "No Python 3.10 found: install one or pass PYTHON310=/path/to/python3.10" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml constraints/service.txt
	@$(MAKE) --no-print-directory check-python
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints/service.txt -e '.[dev]'
	touch $@

$(BOT_VENV)/.installed: bot/requirements.txt bot/constraints.txt
	@$(MAKE) --no-print-directory check-python
	test -x $(BOT_PY) || $(PYTHON310) -m venv $(BOT_VENV)
	$(BOT_PY) -m pip install -q -c bot/constraints.txt -r bot/requirements.txt
	touch $@

widget/dist/widget.js: widget/package.json widget/package-lock.json $(shell find widget/src -type f 2>/dev/null)
	cd widget && npm ci --no-audit --no-fund && npm run build

tests/service/browser/node_modules/.installed: tests/service/browser/package.json tests/service/browser/package-lock.json
	cd tests/service/browser && npm ci --no-audit --no-fund
	touch $@

setup: $(VENV)/.installed $(BOT_VENV)/.installed widget/dist/widget.js

# Trains only when the training data, the domain or the config changed (content hash, not timestamps).
train: $(BOT_VENV)/.installed
	@hash=$$($(BOT_PY) -m bot.scripts.fingerprint); \
	if [ -f $(MODEL) ] && [ "$$(cat models/.fingerprint 2>/dev/null)" = "$$hash" ]; then \
		echo "model $(MODEL) is up to date"; \
	else \
		$(RASA) train --config config.yml --domain domain.yml --data bot/data --out models --fixed-model-name current && \
		echo $$hash > models/.fingerprint; \
	fi

# The designers' loop: annotated samples into bot/data, a new model if the data changed, held-out before/after.
.PHONY: retrain
retrain: $(VENV)/.installed $(BOT_VENV)/.installed
	$(BOT_PY) -m bot.scripts.retrain --service-python $(PY)

migrate: $(VENV)/.installed
	$(PY) -m handoff db upgrade

run: setup train migrate
	$(PY) -m handoff stack

# PostgreSQL, Redis, CLUSTER_WORKERS workers, CLUSTER_RASA Rasa replicas and HAProxy on PORT (README: Production
# topology); it initialises and migrates its own database under var/cluster/.
cluster: setup train
	$(PY) -m handoff cluster

# The markers of tests/service/conftest.py name what a test needs; the fast set needs none of it.
NEEDS_SERVERS := e2e or browser or postgres or redis or cluster
FAST := not ($(NEEDS_SERVERS))

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check handoff tests bench
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

test: lint test-bot test-service

test-fast: $(VENV)/.installed
	$(VENV)/bin/pytest -q tests/service -m "$(FAST)" -n 2 --dist worksteal -p no:cacheprovider

test-bot: setup train
	$(RASA) data validate --fail-on-warnings --config config.yml --domain domain.yml --data bot/data
	bot/scripts/story-tests.sh
	$(BOT_VENV)/bin/pytest -q tests/bot

# The fast set on both cores; the tests with servers one at a time (they share a Rasa, and some time failovers).
test-service: setup train tests/service/browser/node_modules/.installed test-fast
	$(VENV)/bin/pytest -q tests/service -m "$(NEEDS_SERVERS)" -p no:cacheprovider

screenshots: setup
	$(PY) -m tests.service.browser.screenshots

bench: setup train
	$(BOT_PY) bench/nlu_heldout.py
	$(PY) bench/bot_turn.py
	$(PY) bench/rasa_capacity.py
	$(PY) bench/whatsapp_ingest.py
	$(PY) bench/routing.py
	$(PY) bench/dashboard.py
	$(PY) bench/staffing.py
	$(PY) bench/customer_lookup.py
	$(PY) bench/search.py
	$(PY) bench/load.py
	$(PY) bench/idle.py --connections 5000
