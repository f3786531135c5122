# The two commands: `make run` (install what is missing, start PostGIS, migrate, load the
# samples, serve) and `make test` (the whole suite against a real PostGIS).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint lock system-deps test-deps bench-deps clean bench bench-import bench-scale soak

run: system-deps $(STAMP)
	$(BIN)/ioc up

test: system-deps test-deps $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: system-deps bench-deps $(STAMP)
	$(BIN)/python -m bench.run

bench-import: system-deps test-deps $(STAMP)
	$(BIN)/python -m bench.imports

# Cost against data size: the samples at scales 1, 2, 5 and 10 (about 1.08 million households at 10,
# one database each, kept), then the growth section of docs/benchmarks.md and its plot.
bench-scale: system-deps bench-deps $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[bench]'
	$(BIN)/python -m bench.scale

# A mixed load of SOAK_MINUTES (default 10) on a cluster of its own, with PostgreSQL restarted,
# crashed and backed up in the middle: errors, lost writes, memory (not part of `make test`).
soak: system-deps test-deps $(STAMP)
	$(BIN)/python -m bench.soak --minutes $${SOAK_MINUTES:-10}

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# Installs take the versions CI tested from constraints.txt; `make lock` refreshes it from a fresh
# resolution of pyproject.toml (then run `make test` and commit both).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

lock:
	rm -rf var/lock-venv
	$(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/python -m pip install -q --upgrade pip
	var/lock-venv/bin/python -m pip install -q -e '.[test,redis,bench]'
	{ echo '# Versions CI tested; refresh with `make lock`.'; \
	  var/lock-venv/bin/python -m pip freeze --exclude-editable; } > constraints.txt
	rm -rf var/lock-venv

system-deps:
	@sh .ci/system-deps

test-deps:
	@sh .ci/system-deps --test

bench-deps:
	@sh .ci/system-deps --bench

clean:
	rm -rf $(VENV) var/run .pytest_cache .ruff_cache
