# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test lint format system-packages clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/adminpanel serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

# Debian's Chromium (browser tests) and PostgreSQL 15 (throwaway test clusters), when missing.
system-packages:
	@need=""; \
	[ -x /usr/bin/chromium ] || need="$$need chromium"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || need="$$need postgresql"; \
	if [ -n "$$need" ]; then \
		echo "Installing Debian packages:$$need"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need; \
	fi

# Twice: everything on SQLite (the default database), then the integration, API and cluster tests on
# a throwaway PostgreSQL cluster (tests/postgres.py). The cluster tests are PostgreSQL-only, so
# they run in the second pass alone.
test: $(VENV)/.test-installed system-packages
	$(VENV)/bin/ruff check .
	env -u ADMINPANEL_DATABASE_URL -u ADMINPANEL_TEST_DATABASE $(PY) -m pytest --ignore=tests/cluster
	env -u ADMINPANEL_DATABASE_URL ADMINPANEL_TEST_DATABASE=postgresql \
		$(PY) -m pytest tests/integration tests/api tests/cluster

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.test-installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache tests/e2e/screenshots
