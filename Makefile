# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Test processes per leg (pytest-xdist): a test file runs whole in one of them, and each starts its
# own servers and database. By default the cores, at most 4; TEST_WORKERS=1 runs in one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(min(4, len(os.sched_getaffinity(0))))')
PYTEST_LEG := $(BIN)/pytest -q --numprocesses $(TEST_WORKERS) --dist loadfile

.PHONY: run dev test screenshots lint typecheck client client-check template-check test-services test-embedded \
	bench migrate clean docs docs-serve

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "Python 3.11+ is required" >&2; exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# The real OpenID Provider the SSO tests start (tests/oidc_provider.py): oidc-provider under
# Node 20+, pinned by tests/oidc/package-lock.json. Without npm the SSO tests skip (fail in CI).
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/oidc --no-audit --no-fund --silent; \
	else echo "npm not found: the SSO tests will be skipped (and fail under CI=true)" >&2; fi

# The TypeScript type generator (openapi-typescript) and tsc, pinned by clients/package-lock.json.
CLIENT_TOOLS := clients/node_modules/.package-lock.json
$(CLIENT_TOOLS): clients/package.json clients/package-lock.json
	npm ci --prefix clients --no-audit --no-fund --silent

# A headless Chromium for the docs site's browser test: Playwright's build, else Debian's chromium.
CHROMIUM := $(VENV)/.chromium
$(CHROMIUM): requirements-dev.txt scripts/ensure-chromium.sh | $(VENV)/.dev
	bash scripts/ensure-chromium.sh
	touch $@

## Build the documentation site into site/ in strict mode: a broken link, page or reference fails
docs: $(VENV)/.dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

## Serve the documentation at http://127.0.0.1:8000, rebuilt and reloaded on every change (docs/,
## and the code its reference reads: core/ configs/ scaffold/ scripts/)
docs-serve: $(VENV)/.dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --watch core --watch configs --watch scaffold --watch scripts

## Retake the admin console's screenshots in docs/guides/images/ (the browser test, embedded leg)
screenshots: $(VENV)/.dev $(CHROMIUM)
	PLINTH_SCREENSHOTS=docs PLINTH_TEST_LEG=embedded $(BIN)/pytest -q -p no:cacheprovider \
		tests/routers/test_admin_console_in_browser.py

## Regenerate clients/: openapi.json, the Python client and the TypeScript types (commit them)
client: $(VENV)/.dev $(CLIENT_TOOLS)
	bash scripts/clients.sh clients

## Fail when the committed clients differ from a fresh generation (`make client` fixes it)
client-check: $(VENV)/.dev $(CLIENT_TOOLS)
	@if [ ! -f clients/openapi.json ]; then \
		echo "client-check: no clients committed yet (a project made from the template): make client writes them"; \
		exit 0; \
	fi; \
	fresh="$$(mktemp -d)"; trap 'rm -rf "$$fresh"' EXIT; \
	bash scripts/clients.sh "$$fresh" || exit 1; \
	for part in openapi.json python typescript; do \
		diff -r -u -x __pycache__ "clients/$$part" "$$fresh/$$part" || drift=1; \
	done; \
	if [ -n "$${drift:-}" ]; then \
		echo "clients/ is out of date with the app's OpenAPI document: run make client and commit" >&2; \
		exit 1; \
	fi

## Serve on the embedded default (SQLite + in-process backends) at http://localhost:8080/docs
run: $(VENV)/.runtime
	$(BIN)/alembic upgrade heads
	$(BIN)/python main.py

## Serve like `make run`, restarting whenever a file under app/ core/ routers/ configs/ changes
dev: $(VENV)/.runtime
	$(BIN)/alembic upgrade heads
	$(BIN)/python main.py --reload

migrate: $(VENV)/.runtime
	$(BIN)/alembic upgrade heads

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

## The PostgreSQL+Redis leg: installs both with apt-get when missing (as root), else fails
test-services: $(VENV)/.dev $(OIDC_PROVIDER) $(CHROMIUM)
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-redis.sh
	bash scripts/ensure-pgbouncer.sh
	PLINTH_TEST_LEG=services $(PYTEST_LEG)

## The embedded leg alone (SQLite + in-process stand-ins): needs neither server
test-embedded: $(VENV)/.dev $(OIDC_PROVIDER) $(CHROMIUM)
	PLINTH_TEST_LEG=embedded $(PYTEST_LEG)

## The template (copier.yml, docs/template.md): the project it makes without the example passes
## its own `make test`, and `copier update` to this commit works (commit first)
template-check: $(VENV)/.dev $(OIDC_PROVIDER)
	@if [ -f copier.yml ]; then bash scripts/template-check.sh; \
	else echo "template-check: this project was made from the template; nothing to check"; fi

## Lint, type-check, build the docs, check the generated clients and the template, then the suite
## on both legs. Each test file runs once: the project the template makes without the example
## runs its own `make test` (template-check), and here the legs leave out the files it ran as
## they are, except the wiring tests (scripts/template-check.sh).
test: export PLINTH_TESTS_RUN_BY_TEMPLATE := $(CURDIR)/.pytest-run-by-template
test: lint typecheck docs client-check template-check test-services test-embedded

bench: $(VENV)/.dev
	@test -d bench || { echo "no bench/ here: it measures the messenger example" >&2; exit 1; }
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-redis.sh
	bash scripts/ensure-pgbouncer.sh
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache site
