# codeur — staged pipeline. Each target is a real file with its prerequisites, calling one CLI
# command, so an unchanged stage is skipped and any stage can be rerun alone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
CODEUR := $(VENV)/bin/codeur
SETUP  := $(VENV)/.installed
WORK   := work
MODEL  := models/default

.PHONY: setup test test-fast demo bench clean-work prepare train classify audit real-audit curve corpus-stats help
.DELETE_ON_ERROR:

help:
	@echo "make demo   set up, train the default model if missing, classify the test interviews, audit"
	@echo "make test   set up and run the tests"
	@echo "make bench  speed figures (prepare, classify, the Dask engine) on 300k+ words"

# The venv is created and the project installed into it when missing or when pyproject changes.
$(SETUP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(SETUP)

test: $(SETUP)
	$(PY) -m pytest

# the same suite without the tests marked slow (training real models, Dask clusters), while working
test-fast: $(SETUP)
	$(PY) -m pytest -m "not slow"

# --- stages on the bundled corpus ---------------------------------------------------------------
CORPUS_FILES := $(wildcard corpus/transcripts/*)
GOLD_FILES   := $(wildcard corpus/gold/*.jsonl)
REAL_FILES   := $(wildcard corpus/real/transcripts/*) corpus/real/splits.yaml corpus/real/coders.yaml
REAL_GOLD    := $(wildcard corpus/real/gold/*.jsonl)
# what every model is trained on: a changed segmentation or speaker rule retrains
TRAIN_DATA   := configs/codebook.yaml configs/splits.yaml configs/segment.yaml configs/speakers.yaml \
                $(GOLD_FILES) $(CORPUS_FILES) $(REAL_GOLD) $(REAL_FILES) $(SETUP)
REAL_TEST     = $$($(CODEUR) corpus-files --split test --corpus corpus/real)

# stage 1: transcripts → passages of the test interviews (the files the classify stage reads), so a
# changed segmentation or speaker rule redoes the passages, the predictions and the audits
SEGMENTATION := configs/segment.yaml configs/speakers.yaml $(SETUP)
$(WORK)/test-passages.jsonl: $(CORPUS_FILES) configs/splits.yaml $(SEGMENTATION)
	$(CODEUR) prepare $$($(CODEUR) corpus-files --split test) --out $@

$(WORK)/real-test-passages.jsonl: $(REAL_FILES) $(SEGMENTATION)
	$(CODEUR) prepare $(REAL_TEST) --out $@

# the default: e5 sentence embeddings + TF-IDF, authored and real interviews (configs/train.yaml)
$(MODEL)/model-card.json: configs/train.yaml $(TRAIN_DATA)
	$(CODEUR) train --config configs/train.yaml --out $(MODEL)

$(WORK)/test-predictions.jsonl: $(MODEL)/model-card.json $(WORK)/test-passages.jsonl
	$(CODEUR) classify $(WORK)/test-passages.jsonl --model $(MODEL) --out $@

# the yardstick the default is compared with on the authored test (TF-IDF, passage alone)
models/baseline/model-card.json: configs/train-baseline.yaml $(TRAIN_DATA)
	$(CODEUR) train --config configs/train-baseline.yaml --out models/baseline

$(WORK)/baseline-predictions.jsonl: models/baseline/model-card.json $(WORK)/test-passages.jsonl
	$(CODEUR) classify $(WORK)/test-passages.jsonl --model models/baseline --out $@

$(WORK)/audit/report.html: $(WORK)/test-predictions.jsonl $(WORK)/baseline-predictions.jsonl $(GOLD_FILES)
	$(CODEUR) evaluate --gold corpus/gold/coder1.jsonl --pred $< --out $(WORK)/audit \
		--reference corpus/gold/coder2.jsonl --model $(MODEL) --cases corpus/cases.csv --by actor_type,market \
		--compare $(WORK)/baseline-predictions.jsonl

# --- the real interviews (corpus/real): test interviews, human reference, the fast model --------
models/fast/model-card.json: configs/train-fast.yaml $(TRAIN_DATA)
	$(CODEUR) train --config configs/train-fast.yaml --out models/fast

$(WORK)/real-test-predictions.jsonl: $(MODEL)/model-card.json $(WORK)/real-test-passages.jsonl
	$(CODEUR) classify $(WORK)/real-test-passages.jsonl --model $(MODEL) --out $@

$(WORK)/fast-real-test-predictions.jsonl: models/fast/model-card.json $(WORK)/real-test-passages.jsonl
	$(CODEUR) classify $(WORK)/real-test-passages.jsonl --model models/fast --out $@

# every passage of the real test interviews with its codes (none included), per coding
$(WORK)/real-test-%.jsonl: $(REAL_GOLD) $(REAL_FILES) $(SEGMENTATION)
	$(CODEUR) corpus-export --corpus corpus/real --coder $* --split test --out $@

$(WORK)/real-audit/report.html: $(WORK)/real-test-predictions.jsonl $(WORK)/fast-real-test-predictions.jsonl \
                                $(WORK)/real-test-gold.jsonl $(WORK)/real-test-coderB.jsonl
	$(CODEUR) evaluate --gold $(WORK)/real-test-gold.jsonl --pred $< --out $(WORK)/real-audit \
		--reference $(WORK)/real-test-coderB.jsonl --model $(MODEL) \
		--compare $(WORK)/fast-real-test-predictions.jsonl

# how many interviews must a researcher code? (default config, real train interviews added 0..9)
$(WORK)/curve/curve.json: configs/train.yaml $(TRAIN_DATA)
	$(CODEUR) learning-curve --config configs/train.yaml --corpus real --steps 0,1,2,4,9 --repeats 3 --out $(WORK)/curve

prepare: $(WORK)/test-passages.jsonl $(WORK)/real-test-passages.jsonl
train: $(MODEL)/model-card.json
classify: $(WORK)/test-predictions.jsonl
audit: $(WORK)/audit/report.html
real-audit: $(WORK)/real-audit/report.html
curve: $(WORK)/curve/curve.json

demo: $(WORK)/audit/report.html $(WORK)/real-audit/report.html $(WORK)/curve/curve.json
	@echo "== authored test interviews =="
	@$(CODEUR) headline $(WORK)/audit/metrics.json
	@echo "== real test interviews (ESLO1) =="
	@$(CODEUR) headline $(WORK)/real-audit/metrics.json
	@cat $(WORK)/curve/curve.md

corpus-stats: $(SETUP)
	$(CODEUR) corpus-stats

bench: $(SETUP)
	$(PY) -m pipeline.classify.bench

clean-work:
	rm -rf $(WORK)
