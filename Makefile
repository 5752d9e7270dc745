# Candor: `make demo` and `make test` work from a fresh clone; `make install` only sets up .venv.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.candor-installed
SOURCES := pyproject.toml $(shell find models training explain serving candor_cli data_samples \
	-name '*.py' -o -name '*.yaml' -o -name '*.csv' 2>/dev/null)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test lint typecheck bench clean system-deps

install: $(STAMP)

$(STAMP): $(SOURCES)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q ".[dev]"
	@touch $(STAMP)

demo: install
	$(BIN)/candor train leads --data data_samples/hcp_leads.csv
	@# the demo skips the AutoETS and seasonal-naive backtest (about 1 minute more); a plain
	@# `candor train forecast --data ...` or `make bench` reports them
	$(BIN)/candor train forecast --data data_samples/sales_weekly.csv --no-baselines
	@echo
	@$(BIN)/candor keys demo --host $(HOST) --port $(PORT)
	@echo
	$(BIN)/candor serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy checks the code under its installed names (candor.models, ...) through a throwaway tree
# of links that mirrors pyproject's package-dir mapping
typecheck: install
	$(BIN)/python scripts/typecheck_tree.py
	$(BIN)/mypy

# Debian packages the tests need (postgresql, chromium, fonts-liberation); installs only what is
# missing; without root or sudo it says what is missing (those tests are skipped) and goes on.
system-deps:
	bash scripts/install_system_deps.sh

# prerequisites run left to right: system-deps, lint, typecheck; pytest only after all of them
test: system-deps lint typecheck
	$(BIN)/pytest

bench: install
	@# mlforecast is a bench peer only; its metadata pins pandas<3, which Candor does not need:
	@# install it and its own libraries without letting pip downgrade pandas
	$(BIN)/python -m pip install -q --no-deps mlforecast coreforecast utilsforecast
	$(BIN)/python -m pip install -q optuna narwhals fsspec
	$(BIN)/python bench/run_bench.py
	$(BIN)/python bench/run_batch_bench.py
	$(BIN)/python bench/run_forecast_bench.py
	$(BIN)/python bench/run_hierarchy_bench.py
	$(BIN)/python bench/run_forecast_serving_bench.py
	$(BIN)/python bench/run_explain_bench.py
	$(BIN)/python bench/run_leakage_rules.py
	$(BIN)/python bench/run_edge_bench.py
	$(BIN)/python bench/run_monitoring_bench.py
	$(BIN)/python bench/run_sealing_bench.py

clean:
	rm -rf $(VENV) build *.egg-info .candor .pytest_cache .mypy_cache .ruff_cache
