# The two commands of the README: `make run` and `make test`. Both set everything
# up from a fresh clone (virtualenv, packages, database) before they act.
# Any of 3.11, 3.12, 3.13 (CI runs 3.11): `make PYTHON=python3.13 run` picks one.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: run test install install-dev lint typecheck pytest migrate review bench clean

run: install
	$(BIN)/postcoach run

test: install-dev lint typecheck pytest

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(None if (3, 11) <= sys.version_info[:2] <= (3, 13) else "postcoach needs Python 3.11, 3.12 or 3.13, and $(PYTHON) is %d.%d: see README, Python" % sys.version_info[:2])'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

# Reinstall only when the declared dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

# Every database test runs on SQLite and on a throwaway PostgreSQL (tests/postgres.py).
# Two workers: much of the suite waits on processes and sockets, so even 2 cores gain.
pytest:
	$(BIN)/pytest -q -n 2

migrate: install
	$(BIN)/postcoach migrate

# The checklist on a draft file, without Telegram: make review FILE=draft.txt
review: install
	@test -n "$(FILE)" || { echo "usage: make review FILE=draft.txt [ARGS='--json --lang en']"; exit 2; }
	@$(BIN)/postcoach review $(ARGS) "$(FILE)"

bench: install-dev
	$(BIN)/python -m benchmarks.review_speed

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache .hypothesis build *.egg-info
