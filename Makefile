# The two commands: `make run` (install what is missing, start PostGIS, migrate, load the
# samples, serve) and `make test` (the whole suite against a real PostGIS).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint system-deps test-deps clean bench bench-import

run: system-deps $(STAMP)
	$(BIN)/ioc up

test: system-deps test-deps $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: system-deps $(STAMP)
	$(BIN)/python -m bench.run

bench-import: system-deps test-deps $(STAMP)
	$(BIN)/python -m bench.imports

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

system-deps:
	@sh .ci/system-deps

test-deps:
	@sh .ci/system-deps --test

clean:
	rm -rf $(VENV) var/run .pytest_cache .ruff_cache
