# Two commands do all the set-up on a fresh machine:
#   make run   - virtual environment, install, run the 2023 baseline
#   make test  - the same set-up with the test extras, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_ARGS ?=

.PHONY: run test install install-test bench clean dashboard notebooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,dask,sensitivity,viz]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/simsales run --out out/baseline $(RUN_ARGS)

# ruff first (seconds), then the suite on every core (pytest-xdist; tests are independent)
test: install-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n auto --dist worksteal

# the browser dashboard on http://127.0.0.1:8765/ (DASHBOARD_ARGS="--port 9000" to change)
dashboard: install-test
	$(BIN)/python -m simsales.dashboard $(DASHBOARD_ARGS)

# re-executes notebooks/*.ipynb at full size, in place, one at a time, from fresh results in out/notebooks/
notebooks: install
	$(BIN)/python -m pip install --quiet -e ".[notebooks]"
	rm -rf out/notebooks
	for nb in notebooks/*.ipynb; do $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=7200 "$$nb" || exit 1; done

# writes out/bench/results.md; BENCH_ARGS=--update-tracked replaces the tracked benchmarks/results.md
BENCH_ARGS ?=
bench: install
	$(BIN)/python benchmarks/bench_model.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out build dist *.egg-info
