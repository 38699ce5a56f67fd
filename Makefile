# trainer: `make run` serves the app with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
FLASK = $(BIN)/flask --app trainer
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup run test lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

setup: $(BIN)/.installed instance/config.py

instance/config.py:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@

run: setup
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@echo "trainer on http://$(HOST):$(PORT) (Ctrl-C stops the web server and the scheduler)"
	@trap 'kill 0' EXIT INT TERM; \
	$(FLASK) scheduler & \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
