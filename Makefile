# Two commands matter: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Browser tests drive Debian's Chromium: Playwright's own browser download cannot work here.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	@$(MAKE) --no-print-directory $(DEJAVU) || echo "make: without $(DEJAVU) the nota dinas PDF is printed in a Latin-1 font." >&2
	$(BIN)/lapor-gateway serve

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Installing needs root: as another user through sudo, and where there is no sudo, say what to do.
$(CHROMIUM):
	@if [ -n "$(SUDO)" ] && ! command -v sudo >/dev/null; then \
		echo "make: $(CHROMIUM) is missing and installing it needs root, but there is no sudo." >&2; \
		echo "  Run as root: apt-get update && apt-get install chromium, then make test again." >&2; \
		exit 1; \
	fi
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The nota dinas PDF embeds DejaVu Sans (Debian's fonts-dejavu-core) for whatever script
# citizens and staff write; without it the PDF falls back to a Latin-1 font. `make test` needs
# it, `make run` tries to install it and starts anyway.
DEJAVU := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

$(DEJAVU):
	@if [ -n "$(SUDO)" ] && ! command -v sudo >/dev/null; then \
		echo "make: $(DEJAVU) is missing and installing it needs root, but there is no sudo." >&2; \
		echo "  Run as root: apt-get update && apt-get install fonts-dejavu-core, then make again." >&2; \
		exit 1; \
	fi
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core

test: lint $(CHROMIUM) $(DEJAVU)
	$(BIN)/pytest

# The fuzzing of `make test` (tests/fuzz), with many more examples: about 10 minutes here.
FUZZ_EXAMPLES ?= 1000

fuzz: $(VENV)/.test-deps
	LAPOR_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/fuzz -p no:randomly

# The load generator: Debian's wrk, as the benchmark drives the gateway the way a provider would.
WRK := /usr/bin/wrk

$(WRK):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk

bench: $(VENV)/.test-deps $(WRK)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.console

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
