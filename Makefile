# agent-sync: `make` builds, `make test` tests, `make install REPO=/path` installs into a repo.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: all build test test-etcd test-agents bench bench-etcd stress clean install

all: build

build:
	$(PYTHON) build.py

$(STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

test: $(STAMP) build
	$(VPY) -m mypy
	$(VPY) -m pytest -n 2 -q --ignore=tests/agents --ignore=tests/test_etcd_store_races.py

# The etcd store: real multi-process races (one member; three with the leader killed), then the
# coordination-model CLI tests again, every command against a real etcd member (AGENT_SYNC_TEST_STORE).
# Deselected there: the SQLite file migration, and 200 locks in one call (over etcd's default
# --max-txn-ops of 128: the README's limit).
ETCD_MODEL := tests/test_locks_tasks_messages.py tests/test_locks_smart.py tests/test_leases.py
test-etcd: $(STAMP) build
	$(VPY) -m pytest -q tests/test_etcd_store_races.py
	AGENT_SYNC_TEST_STORE=etcd $(VPY) -m pytest -n 2 -q $(ETCD_MODEL) \
		--deselect tests/test_leases.py::test_an_old_database_is_migrated_and_its_locks_are_locks \
		--deselect tests/test_locks_smart.py::test_hook_with_200_pattern_locks

# The real agent CLIs (pinned, from npm, cached in .cache/agent-clis/) against a scripted model on 127.0.0.1.
test-agents: $(STAMP) build
	$(VPY) tests/agents/clis.py
	$(VPY) -m pytest -n 2 -q tests/agents

bench: $(STAMP) build
	$(VPY) bench/run.py
	$(VPY) bench/etcd.py

# The etcd store beside SQLite: hook latency, lock/claim p50/p99, cross-clone propagation, 16-process throughput.
bench-etcd: $(STAMP) build
	$(VPY) bench/etcd.py

stress: $(STAMP) build
	$(VPY) bench/stress.py
	$(VPY) bench/scale.py
	AGENT_SYNC_FUZZ_CASES=10000 $(VPY) -m pytest -n 2 -q -s tests/test_reliability_fuzz.py

# SHIM=1 also writes ~/.local/bin/agent-sync; PYZ= installs another build (the README test uses both).
PYZ ?= dist/agent-sync.pyz
install: $(if $(filter dist/agent-sync.pyz,$(PYZ)),build)
	@test -n "$(REPO)" || { echo "usage: make install REPO=/path/to/repo [SHIM=1]" >&2; exit 2; }
	$(PYTHON) $(PYZ) install --repo "$(REPO)"$(if $(SHIM), --shim)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis bench/out
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
