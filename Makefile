# codeur — staged pipeline. Each target is a real file with its prerequisites, calling one CLI
# command, so an unchanged stage is skipped and any stage can be rerun alone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
CODEUR := $(VENV)/bin/codeur
SETUP  := $(VENV)/.installed
WORK   := work
MODEL  := models/default

.PHONY: setup test demo bench clean-work prepare train classify audit corpus-stats help
.DELETE_ON_ERROR:

help:
	@echo "make demo   set up, train the default model if missing, classify the test interviews, audit"
	@echo "make test   set up and run the tests"
	@echo "make bench  speed figures (prepare, classify) on 300k+ words"

# The venv is created and the project installed into it when missing or when pyproject changes.
$(SETUP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(SETUP)

test: $(SETUP)
	$(PY) -m pytest

# --- stages on the bundled corpus ---------------------------------------------------------------
CORPUS_FILES := $(wildcard corpus/transcripts/*)
GOLD_FILES   := $(wildcard corpus/gold/*.jsonl)

$(WORK)/passages.jsonl: $(CORPUS_FILES) configs/segment.yaml configs/speakers.yaml $(SETUP)
	$(CODEUR) prepare corpus/transcripts --out $@ --transcripts $(WORK)/transcripts.jsonl

$(MODEL)/model-card.json: configs/train.yaml configs/codebook.yaml configs/splits.yaml $(GOLD_FILES) $(CORPUS_FILES) $(SETUP)
	$(CODEUR) train --config configs/train.yaml --out $(MODEL)

$(WORK)/test-predictions.jsonl: $(MODEL)/model-card.json $(CORPUS_FILES)
	$(CODEUR) classify $$($(CODEUR) corpus-files --split test) --model $(MODEL) --out $@

# the yardstick the default is compared with in the audit (passage alone, no context)
models/baseline/model-card.json: configs/train-baseline.yaml configs/codebook.yaml configs/splits.yaml $(GOLD_FILES) $(CORPUS_FILES) $(SETUP)
	$(CODEUR) train --config configs/train-baseline.yaml --out models/baseline

$(WORK)/baseline-predictions.jsonl: models/baseline/model-card.json $(CORPUS_FILES)
	$(CODEUR) classify $$($(CODEUR) corpus-files --split test) --model models/baseline --out $@

$(WORK)/audit/report.html: $(WORK)/test-predictions.jsonl $(WORK)/baseline-predictions.jsonl $(GOLD_FILES)
	$(CODEUR) evaluate --gold corpus/gold/coder1.jsonl --pred $< --out $(WORK)/audit \
		--reference corpus/gold/coder2.jsonl --model $(MODEL) --cases corpus/cases.csv --by actor_type,market \
		--compare $(WORK)/baseline-predictions.jsonl

prepare: $(WORK)/passages.jsonl
train: $(MODEL)/model-card.json
classify: $(WORK)/test-predictions.jsonl
audit: $(WORK)/audit/report.html

demo: $(WORK)/audit/report.html
	@$(CODEUR) headline $(WORK)/audit/metrics.json

corpus-stats: $(SETUP)
	$(CODEUR) corpus-stats

bench: $(SETUP)
	$(PY) -m pipeline.bench

clean-work:
	rm -rf $(WORK)
