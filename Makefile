# The two commands of the README: `make demo` and `make test`. Both set up a local
# virtualenv from pyproject.toml first, so a fresh machine needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: install demo test unit integration lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/arbiter demo $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest $(ARGS)

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(ARGS)

integration: $(STAMP)
	$(BIN)/pytest tests/integration $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/training_and_scoring.py
	$(BIN)/python bench/gateway_throughput.py
	$(BIN)/python bench/shadow_path.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
