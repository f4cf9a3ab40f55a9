# Glint developer commands. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
# The targets below are the developers': they use the test and lint tools of pyproject's `dev`
# group, which a plain `uv sync` / `uv run` leaves out (`[tool.uv] default-groups = []`, so
# someone who only runs the server installs only what it needs). `--all-groups` on every run
# also keeps uv from ever dropping them.
SYNC := $(UV) sync --frozen --all-groups
RUN := $(UV) run --frozen --all-groups
PYTEST_ARGS ?=
# Test processes (pytest-xdist; 0 = in this process). `make test TEST_WORKERS=2` is faster on a
# quiet machine, but the fault tests (RabbitMQ handshakes, kill -9) get flaky under the load.
TEST_WORKERS ?= 0

.PHONY: help
help: ## List the targets with what they do
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

.PHONY: uv
uv: ## Install uv (the package manager) when it is missing
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet uv || \
		python3 -m pip install --quiet --user --break-system-packages uv

.PHONY: install
install: uv ## Install Glint and its dev tools (every dependency group) from the lock file into .venv
	$(SYNC)

.PHONY: system-deps
system-deps: ## Install Debian packages the browser tests (chromium) and bench-tray (wrk) need, when missing
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	fi
	@if [ ! -x /usr/bin/wrk ]; then \
		echo "Installing Debian's wrk for the benchmarks..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; \
	fi

.PHONY: node-deps
node-deps: node_modules/.installed ## Install the Node tools the browser tests use (axe-core) from package-lock.json

node_modules/.installed: package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "Installing Debian's npm for the accessibility checks..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; \
	fi
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: run
run: install ## Start Glint on its embedded defaults at http://127.0.0.1:8000
	$(RUN) glint serve

.PHONY: test
test: install system-deps node-deps ## Install what the tests need and run the whole suite (both run modes, TEST_WORKERS processes)
	$(RUN) pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff check, ruff format --check, mypy (strict on glint/) and the import layers
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports

.PHONY: format
format: install ## Reformat and autofix with ruff
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

.PHONY: screenshots
screenshots: install system-deps node-deps ## Drive Chromium through the web app; rewrite docs/screenshots/*.png
	GLINT_SCREENSHOTS=1 $(RUN) pytest tests/web/test_browser.py tests/web/test_browser_stories.py -q

.PHONY: migrate
migrate: install ## Apply database migrations to the configured database
	$(RUN) glint migrate

.PHONY: bench-pipeline
bench-pipeline: install ## Benchmark the image pipeline against bare Pillow (bench/results/pipeline.json)
	$(RUN) python -m bench.pipeline

.PHONY: bench-upload
bench-upload: install ## Upload acknowledgement latency, 8 uploaders of 4 MB, embedded and scale-out (bench/results/upload.json)
	$(RUN) python -m bench.upload

.PHONY: bench-recovery
bench-recovery: install ## Kill -9 with 8 uploads in flight, restart, time to published, both modes (bench/results/recovery.json)
	$(RUN) python -m bench.recovery

.PHONY: bench-stream
bench-stream: install ## 1,000 WebSockets on one server: memory per socket, delivery p50/p99, group fan-out (bench/results/stream.*)
	$(RUN) python -m bench.stream

.PHONY: bench-export
bench-export: install ## Data export of a member with 5,000 photos: streamed ZIP vs one built in memory, peak RSS and allocations (bench/results/export.json)
	$(RUN) python -m bench.bench_export

.PHONY: bench-seed
bench-seed: install ## Seed PostgreSQL with 1M users / 10M posts (glint bench seed; --help for sizes)
	$(RUN) glint bench seed

.PHONY: bench-feed
bench-feed: install system-deps ## /feed at the 1M seed under wrk beside /healthz and /auth/me; cold, naive, fan-out (bench/results/feed-scaleout.*)
	$(RUN) glint bench feed

.PHONY: profile-feed
profile-feed: install system-deps ## py-spy flame graph of glint serve while wrk drives /feed at the 1M seed (bench/results/profile-*.svg)
	$(RUN) glint bench profile --path /api/v1/feed

.PHONY: bench-tray
bench-tray: install system-deps ## Story tray at the seeded data, 7,500 follows: warm, cold, fallback, naive SQL (bench/results/tray.*)
	$(RUN) glint bench tray

.PHONY: bench-search
bench-search: install system-deps ## Typeahead, caption search, suggestions at the 1M seed beside /healthz and naive SQL; indexing posts/s (bench/results/search.*)
	$(RUN) glint bench search

.PHONY: bench-feed-embedded
bench-feed-embedded: install system-deps ## Seed SQLite (10k users / 100k posts), then the same feed benchmark embedded, 1 worker, 4 connections
	$(RUN) glint bench seed --embedded
	$(RUN) glint bench feed --embedded --workers 1 --connections 4

.PHONY: check
check: lint test ## Everything CI runs, and the linters
