# omnimdm - two set-up commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint format lock bench-demo bench-ingest bench-quality bench-scale bench-survive bench-erase clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## demo: install if needed, generate 20,000 synthetic persons, run everything, print F1
demo: $(STAMP)
	$(BIN)/omnimdm demo --dir omnimdm_demo --results omnimdm_demo/demo_results.json

## test: the whole default test suite (real DuckDB, real Splink, small data)
test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

## lint: ruff (lint + format check) and mypy on src/
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

## lock: re-resolve and pin every dependency into constraints.txt
lock:
	rm -rf /tmp/omnimdm-lock && $(PYTHON) -m venv /tmp/omnimdm-lock
	/tmp/omnimdm-lock/bin/python -m pip install --quiet --upgrade pip
	/tmp/omnimdm-lock/bin/python -m pip install --quiet -e '.[dev]'
	{ echo "# Pinned versions used by make (pip install -c constraints.txt). Regenerate with: make lock"; \
	  /tmp/omnimdm-lock/bin/python -m pip freeze --exclude-editable; } > constraints.txt

## bench-demo: the demo as a benchmark; writes the reference JSON under benchmarks/results/
bench-demo: $(STAMP)
	$(BIN)/omnimdm demo --dir benchmarks/data/demo --results benchmarks/results/demo.json

## bench-ingest: ingest + normalize at 100k and 1M synthetic records
bench-ingest: $(STAMP)
	$(BIN)/python benchmarks/ingest.py --records 100000 1000000

## bench-quality: omnimdm vs the frozen baseline on synthetic 100k (two noise profiles), 1M and FEBRL3/4
bench-quality: $(STAMP)
	$(BIN)/python benchmarks/quality.py

## bench-scale: stage times, pairs and peak RSS at 100k and 1M (saved model and training)
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/scale.py --records 100000 1000000

## bench-survive: golden ids + survivorship alone on 1M published records (store built once)
bench-survive: $(STAMP)
	$(BIN)/python benchmarks/survive.py --records 1000000

## bench-erase: forget on published stores (40k and 200k records) and ingest with tombstones
bench-erase: $(STAMP)
	$(BIN)/python benchmarks/erase.py --records 40000 200000

clean:
	rm -rf omnimdm_demo benchmarks/data .pytest_cache .mypy_cache .ruff_cache
