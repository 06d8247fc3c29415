# Everything sets itself up: the first target that needs Python creates .venv and installs what
# it needs (cleaning: the project alone; tests, benchmarks, lint: plus the test extras); later
# runs reuse it until pyproject.toml changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
IN     ?= seeds
OUT    ?= out
ARGS   ?=

.DEFAULT_GOAL := clean-corpus
.PHONY: clean-corpus clean-corpus-ray test bench quality lint fuzz setup setup-test setup-ray train

setup: $(STAMP)
setup-test: $(TEST_STAMP)

# Only what cleaning needs (the runtime dependencies); no bytecode is compiled ahead for
# packages a run never imports.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile -e .
	touch $(STAMP)

# Tests, benchmarks and lint add the test extras (pytest, hypothesis, datasets, ruff, Ray).
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

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

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q $(ARGS)

# Every benchmark but the dev-set one, which has its own target (make quality).
bench: $(TEST_STAMP)
	@for script in $(filter-out benchmarks/cleaning_quality.py,$(wildcard benchmarks/*.py)); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Cleaning quality on the dev set (../shared/devset, or CLEANER_DEVSET=DIR): defaults and --no-dedup,
# per track and language, and what each rule and signal removed. ARGS="--json FILE" for the figures.
quality: $(TEST_STAMP)
	$(BIN)/python benchmarks/cleaning_quality.py $(ARGS)

# Long property-based fuzzing of the cleaner (not part of make test): FUZZ_SECONDS=1800 make fuzz
FUZZ_SECONDS ?= 300
fuzz: $(TEST_STAMP)
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python tests/fuzz/fuzz_cleaner.py

# Retrain the line classifier on the dev set (../shared/devset, or DEVSET=...): writes
# rules/models/line_classifier.json and its model card, and prints the held-out-site figures.
DEVSET ?= ../shared/devset
TRAIN_STAMP := $(VENV)/.installed-train
$(TRAIN_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[train]'
	touch $(TRAIN_STAMP)

train: $(TRAIN_STAMP)
	$(BIN)/python training/train_line_classifier.py --devset $(DEVSET)

lint: $(TEST_STAMP)
	$(BIN)/python -m ruff check cleaner tests benchmarks training
