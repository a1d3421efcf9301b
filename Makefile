# The two commands of the README: `make run` and `make test`.
# Both create the virtual environment on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint venv clean

$(BIN)/pyqemu-system-x86_64: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/pyqemu-system-x86_64

run: venv
	$(BIN)/python scripts/demo.py

test: venv
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache
