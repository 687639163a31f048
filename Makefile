# One entry point for people and CI. Everything installs from the project's own files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MINUTES ?= 5
SEED    ?= 0
DEMO    ?= runs/demo
FASHION_DIR := /usr/share/datasets/fashion-mnist

.PHONY: setup data test demo bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Fashion-MNIST comes from Debian's dataset-fashion-mnist; install it when we are root and it is missing.
fashion-data:
	@if [ ! -f $(FASHION_DIR)/train-images-idx3-ubyte.gz ] && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) \
		|| echo "warning: could not install dataset-fashion-mnist; its tests will be skipped"; \
	fi

data: setup fashion-data
	$(BIN)/digitgan data fetch mnist

test: setup data
	$(BIN)/python -m ruff check digitgan tests benchmarks
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/digitgan data fetch mnist
	$(BIN)/digitgan data info mnist --sheet $(DEMO)/data-info.png
	@echo "demo outputs are in $(DEMO)/"

lint: setup
	$(BIN)/python -m ruff check digitgan tests benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
