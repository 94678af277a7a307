# The two commands of the README: `make demo` and `make test`. Both create and reuse .venv/.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LEGACY_SDK := $(VENV)/letta-client-0.1
LEGACY_SDK_VERSION := 0.1.76

.PHONY: demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-installs whenever pyproject.toml changes.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local,test,examples]'
	$(BIN)/pip install --quiet --no-deps --target $(LEGACY_SDK) letta-client==$(LEGACY_SDK_VERSION)
	touch $@

# `make bench`: the test extra (the benchmarks start servers with the suite's launcher and
# PostgreSQL cluster) plus the profilers. BENCH_ARGS=--quick checks a run fast.
$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[local,test,examples,bench]'
	touch $@

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local,examples]'
	touch $@

demo: $(VENV)/.installed-demo
	@bash scripts/demo.sh

test: $(VENV)/.installed-test
	@bash scripts/ensure-postgres.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: $(VENV)/.installed-bench
	@bash scripts/ensure-postgres.sh
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache demo-output
