# `make run` and `make test` set up .venv on first use, and again when requirements.lock or
# pyproject.toml changes: exactly the packages of requirements.lock (hash-checked), then the
# project itself, editable.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
COMPILED := $(VENV)/.compiled
LOCK := requirements.lock
# uv installs the lock and refreshes it (`make lock`).
UV_VERSION := 0.13.9
UV := $(BIN)/uv
# Where `make lock` resolves from; LOCK_ARGS=--upgrade moves every pin to its newest release.
LOCK_INDEX ?= https://pypi.org/simple
LOCK_ARGS ?=
# Kedro telemetry would try the network; the project's .telemetry file says no, and so do these.
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: run test weights lint format lock clean-data

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

# Exactly the lock's packages, then the project itself, editable; $(1): more uv options.
define install
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes $(1) $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
endef

$(INSTALLED): $(LOCK) pyproject.toml | $(UV)
	$(call install,)
	touch $(INSTALLED)

# The tests start many `kedro` processes: where PYTHONDONTWRITEBYTECODE is set, each would
# compile TensorFlow, MLflow and Kedro from source again (15 s a start instead of 6). Compiled
# once (about 50 s); `make run`, one process, does without.
$(COMPILED): $(INSTALLED)
	$(call install,--compile-bytecode)
	touch $(COMPILED)

run: $(INSTALLED)
	$(BIN)/kedro run

test: $(COMPILED) weights
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# musicnn's pretrained weights: its wheel fetched once from PyPI by pip, checked against a
# pinned sha256 and cached in data/01_raw/pretrained/ (the tests never fetch; they read it).
weights: $(INSTALLED)
	$(BIN)/python -m gtzan_kedro.models.pretrained

lint: $(INSTALLED)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

# Refreshes requirements.lock from pyproject.toml: one set of pins for every platform and
# Python version the project supports, keeping the current pins where they still fit.
lock: | $(UV)
	$(UV) pip compile --quiet pyproject.toml --extra dev --universal --fork-strategy fewest \
		--python-version 3.11 --generate-hashes --default-index $(LOCK_INDEX) \
		--custom-compile-command "make lock" --output-file $(LOCK) $(LOCK_ARGS)

clean-data:
	find data -mindepth 2 ! -name .gitkeep -delete
