# Two commands from a fresh clone: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_HOME ?= .practice-demo

.PHONY: install demo test bench bench-extra clean postgresql axe

install: $(STAMP)

# torch first, alone: `torch==2.13.0` takes the CPU build on disk. Then the exact lock with
# --no-deps, so nothing can drag in a newer torch and its CUDA wheels (see DESIGN.md).
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -c "import torch, sentence_transformers, prefect, unstructured, faiss; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	# The int8 embedding backend, exported from the bundled weights and checked against fp32 once.
	$(BIN)/python -m index.embed_export > /dev/null
	touch $(STAMP)

DEMO := PRACTICE_HOME=$(DEMO_HOME) $(BIN)/practice
DEMO_QUERIES := "how do other teams deal with flaky tests?" "what should go into an on-call handover?" "how do we size kubernetes memory limits?"

demo: install
	rm -rf $(DEMO_HOME)
	@echo "== The whole flow as one Prefect run (local ephemeral server): ingest, extract, dedupe, publish"
	$(DEMO) run --config examples/practice.toml
	@echo
	@echo "== Second run over the same files: nothing changes, no new release"
	$(DEMO) run --config examples/practice.toml
	@echo
	$(DEMO) sources
	@echo
	@echo "== Extracted FAQs and patterns, with their evidence (first 12)"
	$(DEMO) artefacts --limit 12
	@echo
	@echo "== Decisions and actions the scribe marked in the guild's IRC meeting (RESOLVED: / ACTION:)"
	$(DEMO) artefacts --decisions --source platform-guild-irc
	@echo
	@for q in $(DEMO_QUERIES); do echo "== practice search \"$$q\""; $(DEMO) search "$$q" -k 3; echo; done
	@token=$$($(DEMO) users add demo-reviewer --role reviewer); \
	echo "== Review in the browser:"; \
	echo "   PRACTICE_HOME=$(DEMO_HOME) $(BIN)/practice serve"; \
	echo "   then open http://127.0.0.1:8000/login and sign in with the demo reviewer token:"; \
	echo "   $$token"

# Browser tests drive Debian's Chromium through Playwright (Playwright cannot download browsers here).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Browser tests need Debian's chromium: run 'sudo apt-get install chromium'"; exit 1; fi

# The store tests start a throwaway PostgreSQL server (initdb/pg_ctl on a temporary directory and
# port, tests/store/pg_server.py) from Debian's server binaries.
postgresql:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "Store tests need Debian's postgresql server binaries: run 'sudo apt-get install postgresql'"; exit 1; fi

# axe-core for the browser tests' accessibility check: pinned, from the npm registry, kept outside the
# venv in .cache/axe (git-ignored); the stamp names the version, so changing AXE_VERSION reinstalls it.
AXE_VERSION := 4.14.1
AXE_STAMP   := .cache/axe/.installed-$(AXE_VERSION)

axe: $(AXE_STAMP)

$(AXE_STAMP):
	@command -v npm >/dev/null || { echo "The accessibility test needs npm: run 'sudo apt-get install npm'"; exit 1; }
	npm install --prefix .cache/axe --no-save --no-audit --no-fund --no-package-lock axe-core@$(AXE_VERSION)
	touch $(AXE_STAMP)

test: install $(CHROMIUM) postgresql $(AXE_STAMP)
	$(BIN)/python -m pytest -q

# Issue 12's figures in one run, each beside its baseline (`make bench BENCH_ARGS=--quick`: a few minutes).
bench: install
	$(BIN)/practice bench $(BENCH_ARGS)

# The other benchmarks: ingest throughput, the embedding cache and dedup, extraction, search tables, Dask.
bench-extra: install
	$(BIN)/python bench/ingest_throughput.py
	$(BIN)/python bench/embed_dedup_bench.py
	$(BIN)/python bench/embed_backends.py
	$(BIN)/python bench/search_bench.py
	$(BIN)/python bench/dask_run.py

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .cache/axe
