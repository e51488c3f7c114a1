# Two entry points: `make run` (set up, then train the iris example) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch installs from local disk here; override TORCH elsewhere (e.g. TORCH=torch).
TORCH ?= torch==2.13.0

.PHONY: run test lint bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[test]" --config-settings editable_mode=compat  # a plain .pth: no import hook to slow every start
	touch $@

# Each run gets a new folder: nnspec never overwrites an earlier run.
run: $(VENV)/.installed
	$(VENV)/bin/nnspec summary examples/iris.nn
	$(VENV)/bin/nnspec run examples/iris.nn --out runs/iris-$$(date +%Y%m%d-%H%M%S)

# The code is formatted and linted by ruff (pyproject.toml) before the tests run.
test: $(VENV)/.installed
	$(VENV)/bin/ruff format --no-cache --check --quiet .
	$(VENV)/bin/ruff check --no-cache --quiet .
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/nnspec lint specs/*.nn examples/*.nn

# torchinfo (the `bench` extra) is the baseline lint is compared with. The benchmarks time whole
# processes: without PYTHONDONTWRITEBYTECODE, so .pyc files are written once and then used.
$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[bench]" --config-settings editable_mode=compat
	touch $@

bench: $(VENV)/.bench-installed
	env -u PYTHONDONTWRITEBYTECODE $(PY) benchmarks/lint_speed.py
	env -u PYTHONDONTWRITEBYTECODE $(PY) benchmarks/lint_scaling.py

clean:
	rm -rf $(VENV) runs .pytest_cache
