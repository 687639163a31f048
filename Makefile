# One entry point for people and CI. Everything installs from the project's own files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MINUTES ?= 5
SEED    ?= 0
DEMO    ?= runs/demo
FASHION_DIR := /usr/share/datasets/fashion-mnist

.PHONY: setup web fashion-data browser data test demo pretrained bench reproduce amplify dream-classifiers lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# onnxruntime-web for the offline page (`digitgan site` copies it into the page), from npm by package-lock.json.
WEB_RUNTIME := node_modules/onnxruntime-web/dist/ort.wasm.bundle.min.mjs
$(WEB_RUNTIME): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_RUNTIME)

web: $(WEB_RUNTIME)

setup: $(STAMP) web

# Fashion-MNIST comes from Debian's dataset-fashion-mnist; install it when we are root and it is missing.
fashion-data:
	@if [ ! -f $(FASHION_DIR)/train-images-idx3-ubyte.gz ] && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) \
		|| echo "warning: could not install dataset-fashion-mnist; its tests will be skipped"; \
	fi

# The page's real-browser test uses Debian's chromium + chromium-driver; install them when root.
browser:
	@if ! command -v chromedriver >/dev/null && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
		|| echo "warning: could not install chromium; the browser test will be skipped"; \
	fi

data: setup fashion-data
	$(BIN)/digitgan data fetch mnist

# Two test processes (pytest-xdist): most tests run one thread each, so two keep both cores of a laptop busy.
# Tests are dealt one at a time as a worker frees up (--maxschedchunk 1): xdist's default hands each worker a
# block of consecutive tests first, and the slow tests, which come first (tests/conftest.py), would all land on one.
TEST_WORKERS ?= 2
test: setup data browser
	$(BIN)/python -m ruff check digitgan tests benchmarks
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --maxschedchunk 1

# Trains the default preset for MINUTES on this machine (continuing the previous demo run if there is one),
# then draws samples. Outputs: $(DEMO)/.
demo: setup
	$(BIN)/digitgan data fetch mnist
	$(BIN)/digitgan data info mnist --sheet $(DEMO)/data-info.png
	@if [ -d $(DEMO)/train/checkpoints ]; then \
		$(BIN)/digitgan train --resume $(DEMO)/train --minutes $(MINUTES); \
	else \
		$(BIN)/digitgan train --preset fast --minutes $(MINUTES) --seed $(SEED) --out $(DEMO)/train; \
	fi
	$(BIN)/digitgan sample $(DEMO)/train --digit all -n 10 --seed $(SEED) --out $(DEMO)/digits.png
	$(BIN)/digitgan sample $(DEMO)/train --digit 7 -n 64 --seed $(SEED) --out $(DEMO)/sevens.png
	$(BIN)/digitgan write 2026 --run $(DEMO)/train --styles 4 --seed $(SEED) --out $(DEMO)/2026.png
	$(BIN)/digitgan evaluate $(DEMO)/train --seed $(SEED)
	@echo
	@echo "demo outputs in $(DEMO)/:"
	@echo "  data-info.png            real MNIST, one row per class"
	@echo "  digits.png, sevens.png   samples from the trained generator (EMA weights)"
	@echo "  2026.png                 the number 2026 in four hands"
	@echo "  train/eval/report.md     conditional accuracy, FCD, KID, precision/recall... beside real data"
	@echo "  train/samples/           a 10x10 grid per epoch (row = class, fixed noise)"
	@echo "  train/loss.png           loss and D-output curves; train/history.jsonl the numbers"
	@echo "  train/summary.json       steps, images seen, throughput"
	@echo "  train/model/             exported generator (config.json + generator.safetensors), its model card README.md"

# The default model shipped in digitgan/modelfolder/pretrained/: a fixed recipe (preset, steps, seed, threads), evaluated,
# with its hand encoder (`digitgan mimic` and the pages' canvas start from it; the offline page's style directions are
# fitted from the generator when `digitgan site` runs).
# The recipe is the `shipped` preset (digitgan/presets/shipped.toml): fast with a generator twice as wide, its
# learning rates halving every 15,000 steps after the first 45,000, one-sided label smoothing, and the exported EMA
# averaged over the checkpoints at 70,000, 80,000 and 90,000 steps; about an hour and a quarter on 2 cores.
PRETRAINED_STEPS ?= 90000
pretrained: setup data
	rm -rf runs/pretrained
	$(BIN)/digitgan train --preset shipped --steps $(PRETRAINED_STEPS) --seed 0 --threads 2 --out runs/pretrained --quiet
	$(BIN)/digitgan evaluate runs/pretrained --seed 0 --cas
	$(BIN)/digitgan hand-encoder --run runs/pretrained --seed 0 --threads 2
	cp runs/pretrained/model/config.json runs/pretrained/model/generator.safetensors digitgan/modelfolder/pretrained/
	cp runs/pretrained/model/hand-encoder.safetensors runs/pretrained/model/hand-encoder.json digitgan/modelfolder/pretrained/
	cp runs/pretrained/eval/report.json runs/pretrained/eval/report.md runs/pretrained/model/README.md digitgan/modelfolder/pretrained/

# Speed, memory and time-to-quality on this machine (about three hours); writes benchmarks/results.json +
# RESULTS.md, each section marked with its commit and whether what it measures changed since.
# `browser`: the offline page's section measures it in headless chromium.
BENCH_ARGS ?=
bench: setup data browser
	$(BIN)/python -m benchmarks.run --threads 2 $(BENCH_ARGS)

# The classifiers `digitgan dream` drives backwards (not the evaluator): retrained by their committed recipes.
dream-classifiers: setup data
	$(BIN)/python -m digitgan.drawing.dream

# Every way of drawing a digit on one scale (about two hours on 2 cores; resumable, REPRO_ARGS="--only vae ...").
# DEVICE=cuda trains the sources' own budgets on a GPU instead (GPU rows; resumable slices: REPRO_ARGS="--slice-minutes 8").
REPRO_ARGS ?=
DEVICE ?= cpu
reproduce: setup data
	$(BIN)/python -m benchmarks.reproduce --threads 2 --device $(DEVICE) $(REPRO_ARGS)

# Data amplification (`digitgan amplify`): k = 10, 100, 1000 labelled digits per class, 5 seeds, every arm the same
# optimizer steps; hours on 2 cores, resumable (run again to continue, here or on another machine: the committed
# benchmarks/amplification.json holds the units measured so far). Writes benchmarks/AMPLIFICATION.md + .json.
AMPLIFY_ARGS ?=
amplify: setup data
	@# a fresh machine resumes from the committed results (the units measured there are not trained again)
	@if [ ! -f runs/amplify/amplify.json ] && [ -f benchmarks/amplification.json ]; then \
		mkdir -p runs/amplify/amplification && cp benchmarks/amplification.json runs/amplify/amplify.json && \
		cp benchmarks/amplification/*.png runs/amplify/amplification/ 2>/dev/null; true; fi
	$(BIN)/digitgan amplify --out runs/amplify --threads 2 $(AMPLIFY_ARGS)
	cp runs/amplify/amplify.json benchmarks/amplification.json
	cp runs/amplify/amplify.md benchmarks/AMPLIFICATION.md
	mkdir -p benchmarks/amplification && cp runs/amplify/amplification/*.png benchmarks/amplification/

lint: setup
	$(BIN)/python -m ruff check digitgan tests benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache node_modules
