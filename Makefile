# trainer: `make run` serves the app with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
FLASK = $(BIN)/flask --app trainer
HOST ?= 127.0.0.1
PORT ?= 5000
# setuptools warns on every editable install that it is one; that is what we asked for.
PIP_INSTALL = PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install --quiet

.PHONY: setup run reset-demo test screenshots lint clean

# Two install steps: running needs only the app; the test tools (pytest, Playwright, ruff…)
# come with `make test`. Each stamp is redone when pyproject.toml changes.
$(VENV)/.run-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.run-installed
	$(PIP_INSTALL) -e ".[dev]"
	touch $@

setup: $(VENV)/.test-installed instance/config.py

instance/config.py:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@

# The scheduler runs in the background and the web server in the foreground. Ctrl-C stops the
# web server; the EXIT trap then stops the scheduler (SIGTERM, which it handles by releasing its
# lock) and waits for it. HOST and PORT also reach the app, for the links in emails.
run: export TRAINER_HOST = $(HOST)
run: export TRAINER_PORT = $(PORT)
run: $(VENV)/.run-installed instance/config.py
	$(FLASK) db upgrade
	$(FLASK) seal generate --if-missing
	$(FLASK) demo --if-empty
	@echo "trainer on http://$(HOST):$(PORT); emails wait at http://$(HOST):$(PORT)/dev/mail (admin)"
	@echo "(Ctrl-C stops the web server and the scheduler)"
	@$(FLASK) scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler' EXIT; \
	trap 'exit 0' INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# Start the demo again: the next `make run` builds a fresh database (config and keys stay).
reset-demo:
	rm -f instance/trainer.sqlite3 instance/trainer.sqlite3-wal instance/trainer.sqlite3-shm

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# PNGs of the main pages for each role, phone and desktop, into docs/screenshots/ (needs Chromium).
screenshots: setup
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
