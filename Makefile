# `make run` sets up .venv on first use, and again when requirements.lock or pyproject.toml
# changes: exactly the runtime packages of requirements.lock (hash-checked), then the project
# itself, editable. `make test` adds the development packages of requirements-dev.lock on top.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
COMPILED := $(VENV)/.compiled
LOCK := requirements.lock
# The runtime pins plus the `dev` extra (pytest, ruff, the dask extra ...), at the same pins.
DEV_LOCK := requirements-dev.lock
DEV_INSTALLED := $(VENV)/.dev-installed
# uv installs the lock and refreshes it (`make lock`).
UV_VERSION := 0.13.9
UV := $(BIN)/uv
# Where `make lock` resolves from; LOCK_ARGS=--upgrade moves every pin to its newest release.
LOCK_INDEX ?= https://pypi.org/simple
LOCK_ARGS ?=
# Kedro telemetry would try the network; the project's .telemetry file says no, and so do these.
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
# Where PYTHONDONTWRITEBYTECODE is set, every process (each `kedro` command, feature worker and
# test subprocess) would compile TensorFlow, MLflow and Kedro from source again: `import keras`
# takes 17 s instead of 6. The venv is the project's own, so the first process to import a
# module writes its bytecode there and the others read it.
unexport PYTHONDONTWRITEBYTECODE

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

# On top of the runtime: what its pins leave out (uv installs the rest as it is).
$(DEV_INSTALLED): $(DEV_LOCK) $(INSTALLED)
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r $(DEV_LOCK)
	touch $(DEV_INSTALLED)

# The suite starts many processes at once: everything is compiled up front, in parallel (about
# 35 s on 2 cores; Kedro's project templates, not Python until filled in, left out). Left to
# the first processes that import it, the same work landed in the tests and saved nothing.
# So are librosa's numba kernels (about 15 s, cached beside librosa), which every process that
# computed a spectrogram before the first had written them compiled again.
$(COMPILED): $(DEV_INSTALLED)
	$(BIN)/python -m compileall -q -j 0 -x '\{\{' \
		$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
	$(BIN)/python -c 'import numpy, librosa; librosa.feature.mfcc(y=numpy.zeros(22050, "f4"))'
	touch $(COMPILED)

# Independent nodes (the architectures' trainings above all) two at a time, one per core: the
# same models and figures as `kedro run` alone, which trains them in turn.
run: $(INSTALLED)
	$(BIN)/kedro run --runner ThreadRunner

# Two workers, one test file each at a time, so that a file's trained project is built once,
# in the order tests/conftest.py gives (long end-to-end files first; see the README for the
# figures); PYTEST_ARGS="-n 0" runs the suite in one process.
PYTEST_ARGS ?=
test: $(COMPILED) weights
	$(BIN)/python -m pytest --numprocesses 2 --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# musicnn's pretrained weights: its wheel fetched once from PyPI by pip, checked against a
# pinned sha256 and cached in data/01_raw/pretrained/ (the tests never fetch; they read it).
weights: $(INSTALLED)
	$(BIN)/python -m gtzan_kedro.musicnn.wheel

lint: $(DEV_INSTALLED)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(DEV_INSTALLED)
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

# Refreshes both locks from pyproject.toml: one set of pins for every platform and Python
# version the project supports, keeping the current pins where they still fit. The development
# lock is held to the runtime lock's pins, so that it only adds packages.
COMPILE = $(UV) pip compile --quiet pyproject.toml --universal --fork-strategy fewest \
	--python-version 3.11 --generate-hashes --default-index $(LOCK_INDEX) \
	--custom-compile-command "make lock"
lock: | $(UV)
	$(COMPILE) --output-file $(LOCK) $(LOCK_ARGS)
	$(COMPILE) --extra dev --constraints $(LOCK) --output-file $(DEV_LOCK) $(LOCK_ARGS)

clean-data:
	find data -mindepth 2 ! -name .gitkeep -delete
