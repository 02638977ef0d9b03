# Two entry points for newcomers: `make run` (the bot) and `make test` (the whole suite).
# Both create .venv on first use from the committed lock (requirements-dev.txt: exact
# versions with hashes, installed by plain pip) and again whenever the lock or pyproject.toml
# changes. `make lock` regenerates the lock after a dependency change in pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.txt
DEV_LOCK := requirements-dev.txt

.PHONY: run test lint bench check-content lock clean

# --clear: the venv holds exactly the lock, nothing left from an earlier one. --no-deps and
# --no-build-isolation: the project itself adds nothing unlocked (setuptools is in the lock);
# pip check then fails if pyproject.toml asks for something the lock lacks.
$(STAMP): pyproject.toml $(LOCK) $(DEV_LOCK)
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/python -m pip check || { \
	    echo "pyproject.toml and $(DEV_LOCK) disagree: run make lock" >&2; exit 1; }
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/corecoach run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/corecoach content check content
	$(BIN)/hadolint Dockerfile

test: lint
	$(BIN)/python -m pytest

# `make bench BENCH_ARGS=--quick` for a small, fast run; BENCH_ARGS="engine" for one module.
bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks $(BENCH_ARGS)

# The lock: one universal resolution (markers for Python 3.11+ and every OS/architecture),
# hashes for every file. The dev lock is resolved first; the runtime lock (the Dockerfile's)
# is constrained to it, so both pin the same versions. Existing pins are kept unless
# pyproject.toml needs otherwise: `make lock LOCK_ARGS=--upgrade` (or --upgrade-package
# NAME) moves them. Then every pin must have a wheel on the image's two architectures
# (linux/amd64 and arm64: no compiler in the Dockerfile) for each Python the check names.
UV_VERSION := 0.13.10
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command 'make lock'
WHEEL_PLATFORMS := x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu
WHEEL_PYTHONS := 3.11 3.12 3.13 3.14

lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra dev --group build $(LOCK_FLAGS) $(LOCK_ARGS) \
	    -o $(DEV_LOCK)
	$(BIN)/uv pip compile pyproject.toml --group build -c $(DEV_LOCK) $(LOCK_FLAGS) -o $(LOCK)
	@for platform in $(WHEEL_PLATFORMS); do for python in $(WHEEL_PYTHONS); do \
	    $(BIN)/uv pip compile $(DEV_LOCK) --no-deps --only-binary :all: --quiet --no-header \
	        --python-platform $$platform --python-version $$python -o /dev/null \
	    || { echo "no wheel for the pin above on $$platform, Python $$python" >&2; exit 1; }; \
	done; done
	@echo "$(LOCK) and $(DEV_LOCK) written; wheels found for $(WHEEL_PLATFORMS)"

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
