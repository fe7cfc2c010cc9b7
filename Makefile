# make demo  -- run the main job on the embedded emulator (creates .venv, installs .[cli])
# make test  -- lint, format check, mypy --strict and the test suite (creates .venv, installs .[dev])
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint types pytest bench clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.cli-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[cli]'
	touch $@

venv: $(VENV)/.dev-installed

demo: $(VENV)/.cli-installed
	$(BIN)/consigno demo --count 20 --out demo-output

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check consigno_async tests benchmarks examples
	$(BIN)/ruff format --check consigno_async tests benchmarks examples

types: $(VENV)/.dev-installed
	$(BIN)/mypy --strict consigno_async

pytest: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

test: lint types pytest

bench: $(VENV)/.dev-installed
	PYTHONHASHSEED=0 $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache demo-output
