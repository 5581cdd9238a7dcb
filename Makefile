# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv when missing.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.diaflow-installed
export YOLO_OFFLINE ?= 1
export NO_ALBUMENTATIONS_UPDATE ?= 1
export YOLO_CONFIG_DIR ?= $(CURDIR)/.yolo_config

.PHONY: demo test lint install bench clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/reid-augment demo --out out/demo

lint: $(STAMP)
	$(VENV)/bin/ruff check diaflow_core reid_augment tests benchmarks

test: lint
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --durations=15

bench: $(STAMP)
	$(VENV)/bin/reid-augment bench

clean-venv:
	rm -rf $(VENV)
