# Test and CI harness of the upsun.support collection.
#
#   make test    what CI runs but the ansible-core matrix (make test-matrix): sanity units e2e molecule lint docs
#                changelog-lint build release
#   make help    list the targets
#
# Every target installs what it needs into .venv/ (scripts/bootstrap-venv.sh,
# pinned by tests/requirements/tools.txt; a no-op when already up to date).
# ansible-test runs on a copy under .build/ansible_collections/upsun/support
# (scripts/ansible-test.sh); the other tools resolve upsun.support.* through
# collections/ansible_collections/upsun/support, a symlink to this checkout.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

VENV ?= $(CURDIR)/.venv
export VENV
BUILD_DIR := $(CURDIR)/.build
COLLECTIONS_DIR := $(CURDIR)/collections
COLLECTION_LINK := $(COLLECTIONS_DIR)/ansible_collections/upsun/support
# JUnit reports of the pytest runs (.ci/run sums them up)
REPORTS_DIR := $(BUILD_DIR)/reports
# ansible-test's copy of the collection
TEST_COPY := $(BUILD_DIR)/ansible_collections/upsun/support

# Python version ansible-test runs the controller side (and units) with.
PYTHON_VERSION ?= 3.11
# Python version of the sanity run; empty = the controller tests on this
# Python 3.11 and the multi-version tests (compile, import) on every version
# ansible-test supports that is installed (pyenv: 3.8 to 3.13).
SANITY_PYTHON ?=
# extra arguments, e.g. make sanity SANITY_ARGS='--test pylint'
SANITY_ARGS ?=
UNITS_ARGS ?=
# e2e tests run in parallel (pytest-xdist; they mostly wait on ansible-playbook
# subprocesses, so more workers than the 2 cores pays); 0 or 1 = serial
E2E_WORKERS ?= 4
PYTEST_ARGS ?=

# Tools and Ansible: offline-friendly, no user config, our collection first.
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)
export ANSIBLE_LINT_SKIP_SCHEMA_UPDATE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# the venv's tools first: ansible-lint, antsibull-docs and the e2e tests run
# ansible-playbook/ansible-doc/ansible-galaxy from PATH
export PATH := $(VENV)/bin:$(PATH)
# No colour codes in logs: in CI, and when make's output is not a terminal (`make test` checks its stdout too).
ifneq ($(CI)$(shell [ -t 2 ] || echo not-a-terminal),)
export ANSIBLE_NOCOLOR := 1
export NO_COLOR := 1
export PY_COLORS := 0
endif
# Installers' output (pip, uv; the get-pip stand-in of ansible-test's venvs) goes to log files here.
LOG_DIR := $(BUILD_DIR)/logs
# pytest runs print a line as each test file finishes (scripts/pytest_file_progress.py), not only dots.
PYTEST_PROGRESS := -p pytest_file_progress

.PHONY: help test test-leaves-out print-test-steps venv collections-link sanity units e2e molecule lint shellcheck docs-lint \
	docs changelog-lint build release test-matrix bench demo sandbox lock clean distclean

help: ## list the targets
	@grep -E '^[a-z][a-zA-Z0-9_-]*:.*## ' $(MAKEFILE_LIST) \
		| awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# The steps of `make test`, in order.
TEST_STEPS := sanity units e2e molecule lint docs changelog-lint build release

test: ## every test CI runs (TEST_STEPS) but the ansible-core matrix (make test-matrix), stopping at the first failure
	@if [[ ! -t 1 ]]; then export NO_COLOR=1 ANSIBLE_NOCOLOR=1 PY_COLORS=0; fi; \
	$(MAKE) --no-print-directory test-leaves-out; \
	echo "make test: installers' output goes to $(LOG_DIR:$(CURDIR)/%=%)/*.log"; \
	start=$$SECONDS; for step in $(TEST_STEPS); do \
		printf '\n===== make %s =====\n' "$$step"; t=$$SECONDS; \
		$(MAKE) --no-print-directory $$step || { echo "make test: step '$$step' FAILED"; \
			$(MAKE) --no-print-directory test-leaves-out; exit 1; }; \
		echo "make test: $$step passed in $$((SECONDS - t)) s"; \
	done; echo "make test: every step passed in $$((SECONDS - start)) s"; \
	$(MAKE) --no-print-directory test-leaves-out

# What CI runs and `make test` does not, said at its start and at its end.
test-leaves-out:
	@echo "make test: not run here: the sanity and unit tests on the oldest and newest ansible-core (make test-matrix), which CI runs after it"
	@command -v shellcheck >/dev/null || echo "make test: not run here: shellcheck, which is not installed (CI installs it); make lint skips it"

print-test-steps:
	@echo $(TEST_STEPS)

venv: ## create/refresh .venv from tests/requirements (no-op when current)
	@scripts/bootstrap-venv.sh

collections-link: ## collections/ansible_collections/upsun/support -> this checkout
	@mkdir -p $(dir $(COLLECTION_LINK))
	@if [[ "$$(readlink "$(COLLECTION_LINK)" || true)" != "$(CURDIR)" ]]; then \
		rm -rf "$(COLLECTION_LINK)"; ln -s "$(CURDIR)" "$(COLLECTION_LINK)"; fi

sanity: venv ## ansible-test sanity (all tests, no ignore files)
	scripts/ansible-test.sh sanity --venv --requirements \
		$(if $(SANITY_PYTHON),--python $(SANITY_PYTHON),) \
		--color no --truncate 0 $(SANITY_ARGS)

units: venv ## ansible-test units (deps from tests/unit/requirements.txt)
	@rm -rf "$(TEST_COPY)/tests/output/junit"
	@if [[ -z "$$(find tests/unit -name 'test_*.py' -print -quit 2>/dev/null)" ]]; then \
		echo "units: no tests/unit/**/test_*.py yet, nothing to run"; \
	else \
		scripts/ansible-test.sh units --venv --requirements --python $(PYTHON_VERSION) \
			--color no --truncate 0 $(UNITS_ARGS); \
	fi

e2e: venv collections-link ## pytest tests/e2e tests/sandbox against collections/
	@paths=(); for d in tests/e2e tests/sandbox; do if [[ -d $$d ]]; then paths+=("$$d"); fi; done; \
	if ((! $${#paths[@]})); then echo "e2e: no tests/e2e or tests/sandbox yet"; exit 0; fi; \
	rm -f "$(REPORTS_DIR)/e2e.xml"; mkdir -p "$(REPORTS_DIR)"; \
	set -x; PYTHONPATH="$(CURDIR)/tests/sandbox:$(CURDIR)/scripts$${PYTHONPATH:+:$$PYTHONPATH}" \
		"$(VENV)/bin/python" -m pytest "$${paths[@]}" -q -p no:cacheprovider $(PYTEST_PROGRESS) \
		$(if $(filter-out 0 1,$(E2E_WORKERS)),-n $(E2E_WORKERS),) \
		--junitxml="$(REPORTS_DIR)/e2e.xml" $(PYTEST_ARGS) \
		|| { rc=$$?; if ((rc == 5)); then echo "e2e: pytest collected no tests"; exit 0; fi; exit $$rc; }

lint: venv collections-link shellcheck ## ansible-lint --profile production (+ shellcheck of .ci/run, scripts)
	"$(VENV)/bin/ansible-lint" --profile production --offline

shellcheck: ## shellcheck .ci/run and every shell script (skipped if shellcheck is missing)
	@if command -v shellcheck >/dev/null; then \
		shellcheck --version | sed -n 2p; shellcheck .ci/run scripts/*.sh docs/build.sh tests/release/*.sh; \
	elif [[ -n "$${CI:-}" ]]; then echo "shellcheck: not installed (.ci/run installs it)"; exit 1; \
	else echo "shellcheck: not installed, skipped"; fi

docs-lint: venv collections-link ## antsibull-docs lint-collection-docs on plugin docs and the guides' references
	"$(VENV)/bin/antsibull-docs" lint-collection-docs --plugin-docs --check-extra-docs-refs \
		--validate-collection-refs dependent --disallow-unknown-collection-refs .

docs: venv collections-link ## lint, then build the HTML docsite offline into docs/docsite/build/html; any warning fails
	docs/build.sh

molecule: venv collections-link ## molecule test of roles/deploy_failure_ticket (delegated driver on localhost, sandbox)
	cd roles/deploy_failure_ticket && PATH="$(VENV)/bin:$$PATH" "$(VENV)/bin/molecule" test

release: venv collections-link ## release checks (tests/release/README.md): tarball contents and install, galaxy-importer (any warning fails), README, docs, EE, AWX
	@rm -f "$(REPORTS_DIR)/release.xml"; mkdir -p "$(REPORTS_DIR)"
	PYTHONPATH="$(CURDIR)/scripts$${PYTHONPATH:+:$$PYTHONPATH}" "$(VENV)/bin/python" -m pytest tests/release -q \
		-p no:cacheprovider $(PYTEST_PROGRESS) --junitxml="$(REPORTS_DIR)/release.xml" $(PYTEST_ARGS)
	tests/release/check_release.sh
	tests/release/galaxy_importer.sh

MATRIX ?= oldest newest
test-matrix: ## ansible-test sanity + units on the oldest ansible-core requires_ansible admits (Python 3.11) and the newest (Python 3.12)
	@rc=0; for name in $(MATRIX); do tests/release/matrix.sh "$$name" || rc=1; done; exit $$rc

changelog-lint: venv ## antsibull-changelog lint (changelogs/fragments/*)
	"$(VENV)/bin/antsibull-changelog" lint

build: venv ## ansible-galaxy collection build (from the synced copy) into .build/dist, list it
	scripts/build.sh

bench: venv collections-link ## the speed targets (ad hoc module, paging, callback, role on 200 hosts, redaction), each against a baseline of the same run; 23 to 27 min
	@exec bash scripts/bench.sh

sandbox: venv collections-link ## the offline Upsun API sandbox in the foreground, for trying things by hand (prints what to export)
	@exec bash scripts/sandbox.sh

demo: venv collections-link ## a deploy fails on purpose, its rescue files a ticket against the offline sandbox, the ticket is printed
	@exec bash scripts/demo.sh

lock: ## re-resolve tests/requirements/tools.in into the pinned tools.txt
	scripts/lock-requirements.sh

clean: ## remove build output, test output and caches (keeps .venv)
	rm -rf $(BUILD_DIR) $(COLLECTIONS_DIR) tests/output .pytest_cache
	find . -path ./.venv -prune -o -path ./.git -prune -o \
		-name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## clean, and remove .venv too
	rm -rf $(VENV)
