# The two commands a new user needs:  make demo   and   make test
# Everything installs into .venv inside the repo. torch is installed first, pinned,
# because the CPU wheel of exactly that version is what we support offline here.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup demo test lint ci clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[hf,dev,mlflow]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(PY) examples/task-api/demo.py

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/mypy

ci: lint test

clean:
	rm -rf reports/demo .pytest_cache .mypy_cache .ruff_cache
