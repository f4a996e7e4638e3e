# Two commands matter: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint fuzz bench clean system-packages run-packages bench-packages

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
	@$(MAKE) --no-print-directory run-packages || echo "make: without fonts-dejavu-core the nota dinas PDF is printed in a Latin-1 font." >&2
	$(BIN)/lapor-gateway serve

run-packages:
	$(call apt_install,$(RUN_PACKAGES))

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Debian packages the tests run for real: Chromium (the browser tests; Playwright's own
# download cannot work here), DejaVu Sans (the nota dinas PDF's font), Kannel with its test
# SMSC, gammu-smsd with libdbi's SQLite driver, and nats-server (the events' tests start their
# own). Missing ones are installed in one go, as root or through sudo; where there is
# neither, make stops and says what to run.
TEST_PACKAGES := chromium fonts-dejavu-core kannel kannel-extras gammu-smsd libdbd-sqlite3 \
	nats-server
RUN_PACKAGES := fonts-dejavu-core

define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ -n "$(SUDO)" ] && ! command -v sudo >/dev/null; then \
			echo "make: Debian packages missing:" $$missing "; installing needs root, but there is no sudo." >&2; \
			echo "  Run as root: apt-get update && apt-get install" $$missing "and make again." >&2; \
			exit 1; \
		fi; \
		$(SUDO) apt-get update -qq || exit 1; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing || exit 1; \
		if [ -d /run/systemd/system ]; then \
			$(SUDO) systemctl disable --now kannel gammu-smsd >/dev/null 2>&1 || true; \
		fi; \
	fi
endef

system-packages:
	$(call apt_install,$(TEST_PACKAGES))

test: lint system-packages
	$(BIN)/pytest

# The fuzzing of `make test` (tests/fuzz), with many more examples: about 10 minutes here.
FUZZ_EXAMPLES ?= 1000

fuzz: $(VENV)/.test-deps
	LAPOR_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/fuzz -p no:randomly

# The load generator: Debian's wrk, as the benchmark drives the gateway the way a provider would.
bench-packages:
	$(call apt_install,wrk)

bench: $(VENV)/.test-deps bench-packages
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.console
	$(BIN)/python -m bench.postgres

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
