# blocktime: `make run` starts the bot (offline console on SQLite without Slack tokens), `make test`
# runs lint and the whole test suite. Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-service test-browser test-dates lint format bench mutation clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "blocktime needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/blocktime run

lint: $(STAMP)
	$(BIN)/ruff check bot handlers storage tests bench
	$(BIN)/ruff format --check bot handlers storage tests bench
	$(BIN)/mypy bot handlers storage

# The suite on PYTEST_WORKERS processes (pytest-xdist; the machine has 2 cores). Each worker is a pytest
# session of its own: its own PostgreSQL schema, SQLite files and fake servers on ports of their own.
# --dist loadgroup keeps a group's tests on one worker (the browser ring: one Chromium, one server a
# module). PYTEST_WORKERS=0 runs it in this one process (as a plain `python -m pytest` does).
PYTEST_WORKERS ?= 2
XDIST = -n $(PYTEST_WORKERS) --dist loadgroup
test: lint
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# The service ring alone: use cases on the in-memory unit of work, no database (a few seconds).
test-service: $(STAMP)
	$(BIN)/python -m pytest -q tests/service

# The browser ring alone: the client page in a real headless Chromium (apt-get install chromium), on
# SQLite and on PostgreSQL when TEST_DATABASE_URL is set. Screenshots go to BLOCKTIME_ARTEFACTS.
test-browser: $(STAMP)
	$(BIN)/python -m pytest -q -m browser tests/browser

# The suite at three awkward moments (a first of the month just after midnight UTC, New Year's Eve at
# 23:58, a leap day) under libfaketime. A relative offset (-f "+Ns"), not an absolute date: every process
# the tests start inherits the same offset, so a child's clock never runs behind its parent's. Monotonic
# clocks stay real: they are no date, and a faked one hangs every timed wait (threading.Condition.wait);
# tests/dates/sitecustomize.py makes time.sleep a timed wait, which libfaketime would otherwise break.
TEST_DATES ?= 2027-03-01T00:02:00Z 2026-12-31T23:58:00Z 2028-02-29T12:00:00Z
test-dates: lint
	@command -v faketime >/dev/null || { echo "make test-dates needs libfaketime: apt-get install faketime" >&2; exit 2; }
	@for at in $(TEST_DATES); do \
	  offset=$$(( $$(date -u -d "$$at" +%s) - $$(date -u +%s) )); \
	  case $$offset in -*) shift="$${offset}s";; *) shift="+$${offset}s";; esac; \
	  echo "== the suite at $$at (faketime -f $$shift)"; \
	  FAKETIME_DONT_FAKE_MONOTONIC=1 PYTHONPATH=$(CURDIR)/tests/dates faketime -f "$$shift" $(BIN)/python -m pytest -q -p no:cacheprovider $(XDIST) $(PYTEST_ARGS) || exit 1; \
	done

format: $(STAMP)
	$(BIN)/ruff format bot handlers storage tests bench
	$(BIN)/ruff check --fix bot handlers storage tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants

bench: $(STAMP)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(BIN)/python -m bench

# Mutation testing of the pure domain core (mutmut, configured in pyproject.toml): every mutant of
# bot/domain against the unit ring, from a fresh copy (mutants/), then the figures: killed / reached
# and each module's survivors. Fails when the unit ring kills under 85% of the mutants it reaches or a
# module is unreached. About half an hour on one core; MUTATION_CHILDREN=2 uses two.
# MUTANTS='bot.domain.forms*' reruns only those mutants, on the last run's copy, and prints the figures.
MUTATION_CHILDREN ?= 1
mutation: $(STAMP)
ifdef MUTANTS
	$(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) $(foreach name,$(MUTANTS),'$(name)')
else
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(MUTATION_CHILDREN)
endif
	$(BIN)/python -m bench.mutation
