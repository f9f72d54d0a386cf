# Everything runs from the project's own virtualenv; `make test` is what CI (.ci/run) runs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: venv install demo test test-fast test-snakemake-sdist bench oracles engines clean

venv: $(BIN)/python

# The interpreter is the marker: an existing venv is reused.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Stamps: an editable install picks up source edits by itself, so pip runs again only when pyproject.toml changes
# (each run builds in an isolated environment, which needs the package index).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

demo: install
	$(BIN)/argo-migrate airflow corpus/airflow -o out/

test: $(VENV)/.installed-test engines
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

test-fast:
	$(BIN)/python -m pytest -q -m "not corpus"

# Every test workflow of Snakemake's sdist against Snakemake's own job graph (`make test` runs a sample of 40);
# prints the counts (passed, wrapped whole, failed, oracle failed). Snakemake's graphs are cached in .cache/.
test-snakemake-sdist: $(VENV)/.installed-test
	AM_SNAKEMAKE_SDIST=all $(BIN)/python -m pytest -q -s tests/test_snakemake_sdist.py

# The real engines the wrapper tests start on 127.0.0.1: SLURM, munge and sshd from Debian's packages (installed
# only when missing; needs root, as the test machine and CI have). Python engines (Airflow, Snakemake, cwltool, uv,
# PySpark) are cached virtualenvs the tests build on first use.
engines:
	sh tests/engines/install_slurm.sh

# The ground-truth Airflow environments (.cache/oracles/, under a minute each, once). The tests build them by
# themselves on first use (tests/oracles/airflow_env.py); this target only does it ahead of time.
oracles: $(VENV)/.installed-test
	$(BIN)/python -m tests.oracles.airflow_env

bench: install $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_ir.py
	$(BIN)/python benchmarks/bench_snakemake.py

# Only what the build and test tools create; .cache/ (downloaded corpora) survives, as refetching needs the network.
clean:
	rm -rf out build *.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +
