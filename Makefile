# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

SMTP_PORT ?= 2525
IMAP_PORT ?= 1143

.PHONY: run mailserver test lint format lock system-packages clean

# Dependencies come from the lock files, every file checked against its hash; the project itself
# is installed on top without resolving anything. `make lock` refreshes both locks from
# pyproject.toml (the test lock first, so that both agree on every shared package).
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# The test tools' lock holds every package of requirements.lock too, at the same versions: the
# tests' venv is installed from it alone, by uv (itself first, from its own hashed lock): 17 s
# where pip took 39 on 2 cores, which CI waited for before any test. Compiled as pip compiles
# (uv does not by default): where PYTHONDONTWRITEBYTECODE is set, every process the tests start
# would compile Django again (CI took 17 min 20 s instead of 15).
UV := $(VENV)/bin/uv pip install --python $(PY) --quiet --compile-bytecode
$(VENV)/.test-installed: pyproject.toml requirements-uv.lock requirements-test.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-uv.lock
	$(UV) --require-hashes -r requirements-test.lock
	$(UV) --no-deps -e .
	touch $(VENV)/.installed $@

LOCK_OPTIONS := --universal --python-version 3.11 --generate-hashes --quiet
lock: $(VENV)/.test-installed
	$(VENV)/bin/uv pip compile pyproject.toml --extra test $(LOCK_OPTIONS) -o requirements-test.lock
	$(VENV)/bin/uv pip compile pyproject.toml -c requirements-test.lock $(LOCK_OPTIONS) \
		-o requirements.lock
	grep -m1 '^uv==' requirements-test.lock | cut -d' ' -f1 | $(VENV)/bin/uv pip compile - \
		-c requirements-test.lock $(LOCK_OPTIONS) -o requirements-uv.lock

run: $(VENV)/.installed
	$(VENV)/bin/adminpanel serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

# A private Postfix (SMTP) and Dovecot (IMAP) reading the panel's database, until Ctrl-C;
# POSTMASTER=ADDRESS: where postmaster@ of a domain without its own goes.
mailserver: $(VENV)/.installed
	$(VENV)/bin/adminpanel mailserver-run --smtp-port $(SMTP_PORT) --imap-port $(IMAP_PORT) \
		$(if $(POSTMASTER),--postmaster $(POSTMASTER))

# Debian's Chromium (browser tests), PostgreSQL 15 (throwaway test clusters), nginx (the
# reverse-proxy test), Postfix and Dovecot with their SQL drivers and OpenDKIM, the DKIM signer
# (tests/mailserver), debootstrap (the Debian 13 root whose Dovecot 2.4 tests/mailserver runs and
# whose Python 3.13 tests/debian13 runs, testbed/trixie.py), when missing; and the vmail user (uid
# 5000) that owns the maildirs.
MAIL_PACKAGES := postfix postfix-pgsql postfix-sqlite dovecot-core dovecot-imapd dovecot-lmtpd \
	dovecot-pgsql dovecot-sqlite dovecot-sieve opendkim
system-packages:
	@need=""; \
	[ -x /usr/bin/chromium ] || need="$$need chromium"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || need="$$need postgresql"; \
	[ -x /usr/sbin/nginx ] || need="$$need nginx-light"; \
	[ -x /usr/sbin/debootstrap ] || need="$$need debootstrap"; \
	for package in $(MAIL_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" \
			|| need="$$need $$package"; \
	done; \
	if [ -n "$$need" ]; then \
		echo "Installing Debian packages:$$need"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need; \
	fi
	@getent group vmail >/dev/null || groupadd -g 5000 vmail
	@getent passwd vmail >/dev/null || useradd -r -u 5000 -g vmail -d /nonexistent -M \
		-s /usr/sbin/nologin vmail 2>/dev/null

# Twice: everything on SQLite (the default database), then the integration, API and mail server
# tests on a throwaway PostgreSQL cluster (testbed/postgres.py). Five lanes run side by side, each
# in its own process with its own data dir, database and ports: per database the mail server
# tests (which mostly wait on Postfix, Dovecot and the network) and the rest, and a lane for the
# tests that drive live servers (tests/e2e in Chromium, tests/ops, and tests/cluster, whose
# instances always share a PostgreSQL database of their own). Each one's output is printed whole
# when it ends, with its 15 slowest steps. The suite is bound by CPU (about 22 CPU-minutes on
# 2 cores): a sixth lane (PostgreSQL's integration and API tests apart) was no faster.
# tests/debian13 (the README's Quickstart on Debian 13's Python 3.13, in the trixie root: SQLite
# in its own ./var, whatever the lane's database) rides in PostgreSQL's mail lane.
PYTEST := $(PY) -m pytest --durations=15
TEST_LANES := test-sqlite test-servers test-sqlite-mail test-postgresql test-postgresql-mail
test: $(VENV)/.test-installed system-packages house-rules
	$(MAKE) --no-print-directory -j5 --output-sync=target $(TEST_LANES)

# The house rules before any test: lint, formatting, and imports (tools/check_imports.py).
.PHONY: house-rules test-fast
house-rules: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) tools/check_imports.py

# The fast lane while working: unit, API and integration tests on SQLite (no browser, no mail
# servers, no PostgreSQL): 1 min 49 s on 2 quiet cores with the house rules (3.8 before). One pytest-xdist worker per core, each with its own
# data dir and database; worksteal evens out the long tests at the end. Compiled modules (and
# pytest's rewritten test modules) stay in __pycache__ between runs ($(SQLITE), below): compiling
# them again costs each worker 6 s of CPU.
test-fast: $(VENV)/.test-installed house-rules
	$(SQLITE) $(PYTEST) -q -n auto --dist worksteal \
		tests/unit tests/api tests/integration

.PHONY: $(TEST_LANES)
# Every lane writes compiled modules: where PYTHONDONTWRITEBYTECODE is set, each of the
# processes the tests start (servers, commands, the mail servers' helpers) compiled ours again.
SQLITE := env -u ADMINPANEL_DATABASE_URL -u ADMINPANEL_TEST_DATABASE -u PYTHONDONTWRITEBYTECODE
POSTGRESQL := env -u ADMINPANEL_DATABASE_URL -u PYTHONDONTWRITEBYTECODE \
	ADMINPANEL_TEST_DATABASE=postgresql
test-sqlite: $(VENV)/.test-installed
	$(SQLITE) $(PYTEST) tests/unit tests/api tests/integration
test-servers: $(VENV)/.test-installed
	$(SQLITE) $(PYTEST) tests/e2e tests/ops tests/cluster
test-sqlite-mail: $(VENV)/.test-installed
	$(SQLITE) $(PYTEST) tests/mailserver
test-postgresql: $(VENV)/.test-installed
	$(POSTGRESQL) $(PYTEST) tests/integration tests/api
test-postgresql-mail: $(VENV)/.test-installed
	$(POSTGRESQL) $(PYTEST) tests/mailserver tests/debian13

lint: house-rules

format: $(VENV)/.test-installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache tests/e2e/screenshots
