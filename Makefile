# The two commands of the README: `make demo` and `make test`. Both set up a local
# virtualenv from pyproject.toml first, so a fresh machine needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: install browser ops-tools deploy-check demo test unit integration lint bench clean

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

# The dashboard test drives Debian's Chromium (no browser download: Playwright uses /usr/bin/chromium).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make: installing Chromium for the dashboard test"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; \
	  else echo "make: the dashboard test needs Chromium: sudo apt-get install chromium"; fi; }

# The alert rules test runs a real Prometheus; the deploy/ files are checked by the tools that read
# them: Prometheus' promtool and Debian's docker-compose (Compose v1, the parser Debian packages).
ops-tools:
	@{ command -v prometheus >/dev/null 2>&1 && command -v docker-compose >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make: installing Prometheus and docker-compose (Debian) for the alert and deploy checks"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus docker-compose \
	      >/dev/null 2>&1 || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -q --no-install-recommends prometheus docker-compose >/dev/null; }; \
	  else echo "make: the alert and deploy checks need: sudo apt-get install prometheus docker-compose"; fi; }

deploy-check: $(STAMP) ops-tools
	promtool check config deploy/prometheus/prometheus.yml
	ARBITER_PII_KEY=check ARBITER_ADMIN_TOKEN=check ARBITER_MESSAGE_KEY=check \
	  docker-compose -f docker-compose.yml --profile monitoring config --quiet
	$(BIN)/python -c "import json, sys; [json.load(open(f)) for f in sys.argv[1:]]" deploy/grafana/dashboards/*.json

test: lint browser deploy-check
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
