# Everything sets itself up: the first target that needs Python creates .venv and installs the
# project with its test extras; later runs reuse it until pyproject.toml changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
IN     ?= seeds
OUT    ?= out
ARGS   ?=

.DEFAULT_GOAL := clean-corpus
.PHONY: clean-corpus clean-corpus-ray test bench lint fuzz setup setup-ray train

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean-corpus: $(STAMP)
	$(BIN)/cleaner clean $(IN) -o $(OUT) $(ARGS)

# Ray is an optional extra for the cleaner (the test extra includes it so CI tests the engine).
RAY_STAMP := $(VENV)/.installed-ray
$(RAY_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[ray]'
	touch $(RAY_STAMP)

setup-ray: $(RAY_STAMP)

clean-corpus-ray: $(RAY_STAMP)
	$(BIN)/cleaner clean $(IN) -o $(OUT) --engine ray $(if $(RAY_ADDRESS),--ray-address $(RAY_ADDRESS)) $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(ARGS)

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Long property-based fuzzing of the cleaner (not part of make test): FUZZ_SECONDS=1800 make fuzz
FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python tests/fuzz/fuzz_cleaner.py

# Retrain the line classifier on the dev set (../shared/devset, or DEVSET=...): writes
# rules/models/line_classifier.json and prints the held-out-site figures for its model card.
DEVSET ?= ../shared/devset
TRAIN_STAMP := $(VENV)/.installed-train
$(TRAIN_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[train]'
	touch $(TRAIN_STAMP)

train: $(TRAIN_STAMP)
	$(BIN)/python training/train_line_classifier.py --devset $(DEVSET)

lint: $(STAMP)
	$(BIN)/python -m ruff check cleaner tests benchmarks
