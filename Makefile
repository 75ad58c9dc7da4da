# Set-up, demo and tests. `make demo` and `make test` each do all set-up they need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup system-deps demo test lint bench clean

setup: $(VENV)/.installed

system-deps:
	@./scripts/system-deps.sh

$(VENV)/.installed: pyproject.toml scripts/system-deps.sh
	@./scripts/system-deps.sh
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: setup
	@./scripts/demo.sh

lint: setup
	$(BIN)/ruff check petitionscan tests benchmarks training
	$(BIN)/mypy petitionscan

test: setup lint
	$(BIN)/python -m pytest -q

bench: setup
	@./scripts/bench.sh

clean:
	rm -rf demo .pytest_cache .mypy_cache .ruff_cache
