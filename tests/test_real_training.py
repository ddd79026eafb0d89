"""Training on the authored corpus and on real coded interviews together, thresholds fitted to real base
rates, scores on both; and the learning curve a researcher runs to decide how many interviews to code."""
import json

import pytest
import yaml
from typer.testing import CliRunner

from helpers import config, slice_corpus
from pipeline.cli import app
from pipeline.corpus.dataset import REAL
from pipeline.core.errors import ConfigError
from pipeline.classify.train import load_train_config


pytestmark = pytest.mark.slow  # trains several models (about 20 s of setup or more)

runner = CliRunner()
REAL_SPLIT = {"train": ["ESLO1_INTPERS_402_C", "ESLO1_ENT_002_C", "ESLO1_INTPERS_407_C"],
              "dev": ["ESLO1_INTPERS_416_C"], "test": ["ESLO1_INTPERS_417_C"]}


@pytest.fixture(scope="module")
def small_real(tmp_path_factory):
    """Five real interviews with their adjudicated gold, as a corpus of their own."""
    return slice_corpus(tmp_path_factory.mktemp("real"), REAL, REAL_SPLIT, gold="gold.jsonl")


def mixed_config(small_corpus, small_real, **extra):  # noqa: F811
    path = config(small_corpus)
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["params"] = {}
    cfg["extra_corpora"] = [{"name": "real", "path": str(small_real), "coder": "gold", **extra}]
    cfg["thresholds_on"] = "real"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def mixed_model(small_corpus, small_real, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("models") / "mixed"
    result = runner.invoke(app, ["train", "--config", str(mixed_config(small_corpus, small_real, weight=2.0)),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "real_test: macro-F1" in result.output
    return out


def test_the_card_scores_authored_and_real_interviews_and_names_both_splits(mixed_model):
    card = json.loads((mixed_model / "model-card.json").read_text(encoding="utf-8"))
    assert {"dev", "test", "real_dev", "real_test"} <= set(card["scores"])
    assert card["thresholds_on"] == "real"
    extra = card["extra_corpora"][0]
    assert extra["weight"] == 2.0 and extra["split"]["test"] == ["ESLO1_INTPERS_417_C"]
    assert 0.5 <= card["scores"]["real_test"]["ranking"]["mean_auc"] <= 1.0
    md = (mixed_model / "model-card.md").read_text(encoding="utf-8")
    assert "## Scores on the real test interviews" in md and "thresholds tuned on the real dev" in md


def test_real_passages_change_the_model_and_weights_count(small_corpus, small_real, mixed_model, tmp_path):  # noqa: F811
    scored_only = tmp_path / "scored-only"
    cfg = mixed_config(small_corpus, small_real, train=False)
    assert runner.invoke(app, ["train", "--config", str(cfg), "--out", str(scored_only)]).exit_code == 0
    a = json.loads((mixed_model / "model-card.json").read_text(encoding="utf-8"))
    b = json.loads((scored_only / "model-card.json").read_text(encoding="utf-8"))
    assert a["data_hash"] != b["data_hash"] or a["scores"]["real_test"] != b["scores"]["real_test"]
    assert a["train_positives"] != b["train_positives"]


def test_a_config_naming_an_unknown_threshold_corpus_is_refused(small_corpus, small_real, tmp_path):  # noqa: F811
    path = mixed_config(small_corpus, small_real)
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["thresholds_on"] = "reel"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    with pytest.raises(ConfigError, match="'reel' is neither 'main' nor an extra corpus"):
        load_train_config(path)
    cfg["thresholds_on"] = "real"
    cfg["extra_corpora"][0]["wieght"] = 2
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    with pytest.raises(ConfigError, match="wieght"):
        load_train_config(path)


def test_the_learning_curve_adds_coded_interviews_and_gives_intervals(small_corpus, small_real, tmp_path):  # noqa: F811
    cfg = mixed_config(small_corpus, small_real)
    out = tmp_path / "curve"
    result = runner.invoke(app, ["learning-curve", "--config", str(cfg), "--corpus", "real", "--steps", "0,1,3,9",
                                 "--repeats", "2", "--bootstrap", "50", "--out", str(out)])
    assert result.exit_code == 0, result.output
    curve = json.loads((out / "curve.json").read_text(encoding="utf-8"))
    steps = curve["steps"]
    assert [s["interviews"] for s in steps] == [0, 1, 3]  # 9 is more than the pool: all of it
    assert [s["repeats"] for s in steps] == [1, 2, 1]
    assert steps[0]["draws"] == [[]] and len(steps[2]["draws"][0]) == 3
    for s in steps:
        lo, hi = s["macro_f1_ci"]
        assert lo <= hi and 0.0 <= s["macro_f1"] <= 1.0
    assert curve["test_interviews"] == ["ESLO1_INTPERS_417_C"]
    assert "| coded interviews |" in (out / "curve.md").read_text(encoding="utf-8")


def test_the_learning_curve_needs_an_extra_corpus(small_corpus, tmp_path):  # noqa: F811
    result = runner.invoke(app, ["learning-curve", "--config", str(config(small_corpus)), "--corpus", "real",
                                 "--out", str(tmp_path / "c")])
    assert result.exit_code == 2 and "no extra corpus 'real'" in result.output
    result = runner.invoke(app, ["learning-curve", "--config", str(config(small_corpus)), "--steps", "a,b"])
    assert result.exit_code == 2 and "whole numbers" in result.output
