# rnn-notebooks — every command a student, a teacher or CI needs.
# `make test` and `make run-all` create (or refresh) .venv from requirements.txt themselves.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
BENCH_STAMP := $(VENV)/.bench-requirements-installed
PROFILE ?= full
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
SOLUTION_NOTEBOOKS := $(sort $(wildcard notebooks/solutions/[0-9][0-9]_*.ipynb))

export KERAS_BACKEND := jax
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.DEFAULT_GOAL := help
.PHONY: help venv test unit-test notebook-test handout-test run-all outputs lint lab clean bench handout

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'
	@echo "  Variables: PROFILE=quick|full (run-all, default full), SOLUTIONS=1 (handout), NB=... (outputs), BENCH_ARGS=..."

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP) ## Create or refresh .venv from requirements.txt

test: unit-test notebook-test handout-test ## Unit tests, every notebook under nbval (quick profile), the handout built from a quick run

unit-test: $(STAMP) ## Unit tests only
	$(PY) -m pytest --durations=15 tests

notebook-test: $(STAMP) ## Run all notebooks and solutions in the quick profile under nbval
	rm -rf build/nbval
	$(PY) tools/run_notebooks.py --prepare-only --profile quick --output-dir build/nbval $(NOTEBOOKS) $(SOLUTION_NOTEBOOKS)
	$(PY) -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg --nbval-cell-timeout=900 build/nbval

handout-test: $(STAMP) ## Execute the notebooks (quick) into build/quick, build a handout from them and check it
	$(PY) tools/run_notebooks.py --profile quick --output-dir build/quick $(NOTEBOOKS)
	RNNKIT_HANDOUT_SOURCE=build/quick $(PY) -m pytest -p no:cacheprovider tests/test_handout.py

handout: $(STAMP) ## HTML pages + index from the last run-all into build/handout/ (SOLUTIONS=1 adds solutions)
	$(PY) tools/build_handout.py --source build/notebooks --output build/handout $(if $(filter 1 yes true,$(SOLUTIONS)),--solutions)

run-all: $(STAMP) ## Execute every notebook headless into build/notebooks/ (PROFILE=quick|full)
	$(PY) tools/run_notebooks.py --profile $(PROFILE) --output-dir build/notebooks $(NOTEBOOKS)

outputs: $(STAMP) ## Re-run notebooks (full profile, empty result cache) and commit-ready clean their outputs in place
	$(PY) tools/run_notebooks.py --profile full --in-place $(or $(NB),$(NOTEBOOKS) $(SOLUTION_NOTEBOOKS))

$(BENCH_STAMP): $(STAMP) bench/requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q -r bench/requirements.txt
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## Training throughput, Keras-JAX vs PyTorch (CPU), at the notebooks' shapes (BENCH_ARGS=...)
	$(PY) bench/bench_rnn.py $(BENCH_ARGS)

lint: $(STAMP) ## Ruff on the package, tests, tools and notebooks
	$(VENV)/bin/ruff check rnnkit tests tools notebooks bench

lab: $(STAMP) ## Open JupyterLab on notebooks/
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

clean: ## Remove build output and caches (keeps .venv)
	rm -rf build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
