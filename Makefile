# The two commands of the README: `make demo` and `make test`. Both create and reuse .venv/.
SHELL := /bin/bash
PYTHON ?= python3
# Test workers: the suite mostly waits on servers and models, so it runs on two (each test
# file on one worker, its servers started once); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
VENV := .venv
BIN := $(VENV)/bin
LEGACY_SDK := $(VENV)/letta-client-0.1
LEGACY_SDK_VERSION := 0.1.76

# The embedded model's runtime. pip would build llama.cpp for the CPU it builds on
# (-march=native); on this kind of machine that build crashed on every prompt of more than one
# token (its AVX-512/AMX kernels, in a VM that advertises AMX), so troupe builds a portable
# AVX2 wheel once (about 12 minutes on 2 cores), keeps it outside the venv, and installs it.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF \
	-DGGML_AMX_BF16=OFF
LLAMA_WHEELS ?= $(HOME)/.cache/troupe/wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-avx2

.PHONY: demo test lint format bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(LLAMA_WHEELS)/.built: | $(BIN)/python
	@echo "building llama-cpp-python $(LLAMA_CPP_VERSION) (portable AVX2) once, about 12 minutes..."
	mkdir -p $(LLAMA_WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --quiet --no-deps --no-cache-dir \
		--no-binary llama-cpp-python llama-cpp-python==$(LLAMA_CPP_VERSION) -w $(LLAMA_WHEELS)
	touch $@

# The embedded model's runtime, from the wheel above (forced: a venv may hold a native build).
$(VENV)/.installed-llama: $(LLAMA_WHEELS)/.built
	$(BIN)/pip install --quiet --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	touch $@

# Re-installs whenever pyproject.toml or this file changes.
$(VENV)/.installed-test: pyproject.toml Makefile $(VENV)/.installed-llama
	$(BIN)/pip install --quiet --find-links $(LLAMA_WHEELS) -e '.[local,test,examples]'
	$(BIN)/pip install --quiet --no-deps --target $(LEGACY_SDK) letta-client==$(LEGACY_SDK_VERSION)
	touch $@

# `make bench`: the test extra (the benchmarks start servers with the suite's launcher and
# PostgreSQL cluster) plus the profilers. BENCH_ARGS=--quick checks a run fast.
$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet --find-links $(LLAMA_WHEELS) -e '.[local,test,examples,bench]'
	touch $@

$(VENV)/.installed-demo: pyproject.toml Makefile $(VENV)/.installed-llama
	$(BIN)/pip install --quiet --find-links $(LLAMA_WHEELS) -e '.[local,examples]'
	touch $@

# troupe's bytecode, written once: the suite starts hundreds of servers, and where
# PYTHONDONTWRITEBYTECODE is set each would compile troupe from source again (0.5 s of CPU).
# Up-to-date files are skipped; a stale one is only ignored by Python.
BYTECODE := $(BIN)/python -m compileall -q troupe

demo: $(VENV)/.installed-demo
	@$(BYTECODE)
	@bash scripts/demo.sh

test: $(VENV)/.installed-test
	@bash scripts/ensure-postgres.sh
	@bash scripts/ensure-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	@$(BYTECODE)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# The README's screenshots, retaken by the browser tests that check those pages.
screenshots: $(VENV)/.installed-test
	TROUPE_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/ade -k "agent_page or trace"

bench: $(VENV)/.installed-bench
	@bash scripts/ensure-postgres.sh
	$(BIN)/python -m benchmarks $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.memory $(MEMORY_BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache demo-output
