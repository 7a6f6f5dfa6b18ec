# The two commands of the README:
#   make run   – install, migrate, seed the demo and serve http://127.0.0.1:8000 (embedded: SQLite,
#                in-memory channel layer, eager Celery; or PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
#   make test  – lint, migrations check and the whole test suite (on PostgreSQL/Redis when set)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint migrate serve worker beat bench messages

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed node_modules/.package-lock.json

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Contact center running at http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@echo
	$(BIN)/uvicorn contactcenter.asgi:application --host $(HOST) --port $(PORT) --lifespan off

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run --noinput

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Production processes (see README "Production"): run as many of each as the load needs.
serve: install
	$(BIN)/uvicorn contactcenter.asgi:application --host $(HOST) --port $(PORT) --workers $${WEB_CONCURRENCY:-2} --lifespan off --ws websockets-sansio --ws-per-message-deflate false
worker: install
	$(BIN)/celery -A contactcenter worker --loglevel=info
beat: install
	$(BIN)/celery -A contactcenter beat --loglevel=info

APPS := agents calls clients orders qa scheduling
messages: install
	for app in $(APPS); do (cd $$app && ../$(BIN)/django-admin makemessages -l fr); done
	# The project catalog (locale/): the layout's templates and the project package.
	$(BIN)/django-admin makemessages -l fr $(addprefix --ignore=,$(APPS) .venv node_modules bench docs static contactcenter/tests)
	$(BIN)/python manage.py compilemessages --ignore .venv --ignore node_modules
