# Set-up, demo and tests. `make demo` and `make test` each do all set-up they need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup system-deps demo test lint bench train-latin train-cyrillic clean

setup: $(VENV)/.installed

system-deps:
	@./scripts/system-deps.sh

$(VENV)/.installed: pyproject.toml scripts/system-deps.sh
	@./scripts/system-deps.sh
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@echo "installing petitionscan into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(BIN)/python -m pip install -e '.[dev]' >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $@

demo: setup
	@./scripts/demo.sh

lint: setup
	$(BIN)/ruff check petitionscan tests benchmarks training scripts
	$(BIN)/mypy petitionscan benchmarks training/fetch_fonts.py scripts/make_samples.py

test: setup lint
	$(BIN)/python -m pytest -q

bench: setup
	@./scripts/bench.sh

# Retrain a letter network from ../shared/handwriting (on 2 cores: Latin about an hour, Cyrillic about 55 minutes with bfloat16; then about 13 minutes of validation sheets).
train-latin: setup
	@./scripts/train.sh latin

train-cyrillic: setup
	@./scripts/train.sh cyrillic

clean:
	rm -rf demo .pytest_cache .mypy_cache .ruff_cache
