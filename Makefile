# Every target sets itself up: a fresh machine needs only python3 (>= 3.11) and pip.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export CONTINUUM_DATA_DIR ?= $(CURDIR)/.data

.PHONY: venv demo lint test docs bench soak mutation clean lock

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test,postgres,celery]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/continuum migrate
	$(BIN)/continuum demo

# Lint and type-check first: a finding fails the target before any test runs.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Two workers (pytest-xdist), one per core: the suite waits on servers and subprocesses much of the time.
# The real-Airflow tests stay together on one worker (tests/airflow/conftest.py says why).
# `make test TEST_JOBS=0` runs in one process.
TEST_JOBS ?= 2
test: lint
	$(BIN)/python -m pytest -q -n $(TEST_JOBS) --dist loadgroup $(PYTEST_ARGS)

# The documentation site on http://127.0.0.1:8000, rebuilt on each edit (`make test` builds it with --strict).
docs: $(STAMP)
	$(BIN)/mkdocs serve

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Reliability at length: 300 kill -9 trials, long fault and concurrency runs, more hostile batches, 20 mail crashes.
# `make test` runs the same tests smaller (50 crash trials); figures print at the end.
soak: $(STAMP)
	CONTINUUM_CRASH_TRIALS=300 CONTINUUM_FAULT_ROUNDS=40 CONTINUUM_CONCURRENCY_ROUNDS=30 \
	CONTINUUM_HOSTILE_EXAMPLES=60 CONTINUUM_MAIL_CRASHES=20 $(BIN)/python -m pytest -q tests/reliability $(PYTEST_ARGS)

# Mutation testing (mutmut 3, configured under [tool.mutmut] in pyproject.toml): mutate the modules that keep
# the README's promises and run the direct tests that guard them.  Too slow for `make test` (about 45 minutes
# on 2 cores).  It starts afresh each time, prints the kill rate per module and every survivor
# (mutation/report.py), and fails below MUTATION_GOAL percent of the mutants not listed as equivalent
# (mutation/equivalent.txt).  The full log is in mutants/run.log.
MUTATION_GOAL ?= 90
MUTATION_JOBS ?= 2
MUTANT_BUDGET_S ?= 30
mutation: $(STAMP)
	rm -rf mutants && mkdir mutants
	PATH="$(CURDIR)/$(BIN):$$PATH" CONTINUUM_SPECS_DIR="$${CONTINUUM_SPECS_DIR:-$(CURDIR)/../shared/specs}" \
		CONTINUUM_MUTANT_BUDGET_S=$(MUTANT_BUDGET_S) $(BIN)/mutmut run --max-children $(MUTATION_JOBS) \
		> mutants/run.log 2>&1 || (tail -c 3000 mutants/run.log; exit 1)
	$(BIN)/python mutation/report.py --goal $(MUTATION_GOAL)

# Regenerate the lock from the current working install (run after a deliberate upgrade).
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .data .pytest_cache
