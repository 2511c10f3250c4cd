# The two commands: `make run` and `make test`. Everything installs into .venv.
# For managers: `make check` (optionally DIR=content/lessons/<course>) and `make run PORT=5083`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# Links, QR codes and credentials point at SITE_URL: it follows HOST and PORT unless set in the environment.
SITE_URL ?= http://$(HOST):$(PORT)
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q
PORT ?= 5000

.PHONY: run check test test-sqlite test-postgres bench loadtest lint translations fonts messages install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(PIP) -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime translations fonts
install-dev: $(VENV)/.dev translations fonts

# Compiled catalogs are build output (.mo files are not in git).
translations: $(VENV)/.runtime
	@if ls coaching/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel -q compile -d coaching/translations; fi

# DejaVu Serif cut down once to the characters most certificates use (build output, not in git): a certificate
# PDF embeds it as it is instead of subsetting fonts on every download (coaching/credentials/fonts.py).
fonts: $(VENV)/.runtime
	$(BIN)/python -m coaching.credentials.fonts

# The web server and the mail worker side by side; Ctrl+C stops both (the trap ends the worker).
# Development mails (MAIL_BACKEND=file) land in instance/mail/*.eml: confirmation and reset links are there.
run: install
	$(BIN)/flask db upgrade
	SITE_URL=$(SITE_URL) $(BIN)/flask users demo
	@echo "Serving on $(SITE_URL) with the mail worker; mails in instance/mail/  (Ctrl+C stops both)"
	@SITE_URL=$(SITE_URL) $(BIN)/flask mail worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	SITE_URL=$(SITE_URL) $(BIN)/flask run --host $(HOST) --port $(PORT)

# Check the course files (every problem as path:line: message; exit status 1 on errors). DIR=... for another folder.
check: install

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install-dev
	$(BIN)/python -m pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		COACHING_TEST_BACKEND=postgresql $(BIN)/python -m pytest -q -m "not browser"; \
	fi

# ATTEMPTS=1000000 seeds the full data set of the manager pages' figures (about 40 s more per database).
bench: install-dev
	$(BIN)/python -m bench $(if $(ATTEMPTS),--attempts $(ATTEMPTS))

# A training day (2,000 affiliates, managers opening reports) against gunicorn on a throwaway PostgreSQL and Redis,
# driven by wrk for a few minutes; not part of CI. Options: $(BIN)/python -m bench.loadtest --help.
loadtest: install-dev
	$(BIN)/python -m bench.loadtest $(LOADTEST_ARGS)

# ruff (pinned in requirements-dev.txt, configured in pyproject.toml); CI runs it before the tests.
lint: install-dev
	$(BIN)/ruff check coaching tests bench config.py wsgi.py

# Re-extract the UI strings and merge them into each catalog (German is created the first time).
# _, gettext and ngettext are pybabel's default keywords; a bare `-k ngettext` would drop the plural.
messages: install-dev
	@mkdir -p coaching/translations
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --sort-by-file \
		--project=coaching --copyright-holder=coaching --no-wrap -o coaching/translations/messages.pot .
	@if [ ! -f coaching/translations/de/LC_MESSAGES/messages.po ]; then \
		$(BIN)/pybabel init -l de -i coaching/translations/messages.pot -d coaching/translations --no-wrap; \
	else \
		$(BIN)/pybabel update -l de -i coaching/translations/messages.pot -d coaching/translations --no-wrap; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache test-results
