"""One loader for every YAML configuration (pipeline/core/config.py): safe YAML, pydantic, and one
error format, `FILE: field.path: what is wrong`."""
from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(1, ge=1)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "x"
    inner: Inner = Field(default_factory=Inner)
    items: list[Inner] = Field(default_factory=list)


def load(tmp_path, text: str):
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path, Settings, what="settings file")
    assert e.value.code == "E020" and "\n" not in str(e.value) and str(e.value).startswith(f"[E020] {path}: ")
    return str(e.value).removeprefix(f"[E020] {path}: ")


@pytest.mark.parametrize("text, says", [
    ("inner:\n  size: big\n", "inner.size: Input should be a valid integer"),
    ("inner:\n  size: 0\n", "inner.size: Input should be greater than or equal to 1"),
    ("inner:\n  sise: 2\n", "inner.sise: unknown key (known: size)"),
    ("items:\n  - size: 2\n  - colour: red\n", "items.1.colour: unknown key (known: size)"),
    ("nmae: y\n", "nmae: unknown key (known: name, inner, items)"),
    ("- a\n- b\n", "expected a mapping (key: value lines) for the settings file, got a list"),
    ("inner: [\n", "not valid YAML at line 2"),
    ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ("a: 1\nb: 2\nc: 3\nd: 4\n", "a: unknown key (known: name, inner, items); b: unknown key (known: name, inner, "
                                 "items); c: unknown key (known: name, inner, items); and 1 more problem(s)"),
])
def test_one_line_naming_the_file_and_the_field(tmp_path, text, says):
    assert says in load(tmp_path, text)


def test_an_empty_file_gives_the_defaults_and_a_missing_one_is_named(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nothing\n", encoding="utf-8")
    assert load_config(tmp_path / "empty.yaml", Settings, what="settings file") == Settings()
    with pytest.raises(ConfigError, match="settings file not found"):
        load_config(tmp_path / "nope.yaml", Settings, what="settings file")


def test_corpus_files_are_validated(tmp_path):
    from pipeline.corpus.dataset import load_splits

    path = tmp_path / "splits.yaml"
    path.write_text("train: [E01, 2]\ndev: [E03]\nvalid: [E04]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"splits.yaml: valid: unknown key \(known: train, dev, test, notes\)"):
        load_splits(path)
    path.write_text("train: [E01, 2]\ndev: [E03]\n", encoding="utf-8")
    assert load_splits(path) == {"E01": "train", "2": "train", "E03": "dev"}
    path.write_text("train: [E01]\ndev: [E01]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="E01 is in both train and dev"):
        load_splits(path)


@pytest.mark.parametrize("backend, params, says", [
    ("baseline", {"C_value": 2}, "params.C_value: unknown key for backend 'baseline' (known: C, word_ngrams, "
                                 "char_ngrams, min_df, class_weight, question_weight, previous_weight)"),
    ("e5", {"embed_wieght": 2}, "params.embed_wieght: unknown key for backend 'e5' (known: C, "),
    ("e5", {"tfidf": False, "embeddings": False}, "params: backend 'e5' needs tfidf or embeddings"),
    ("spacy", {"architecture": "lstm"}, "params.architecture: unknown spaCy architecture 'lstm'"),
    ("spacy", {"dropout": "high"}, "params.dropout: Input should be a valid number"),
    ("transformers", {"epoch": 3}, "params.epoch: unknown key for backend 'transformers'"),
    ("baseline", {"C": "abc"}, "params.C: Input should be a valid number"),
    ("baseline", [1, 2], "params: Input should be a valid dictionary"),
    ("bert", {}, "backend: unknown backend 'bert' (one of spacy, baseline, transformers, e5)"),
])
def test_backend_parameters_are_checked_when_the_training_config_is_loaded(tmp_path, backend, params, says):
    import yaml

    from pipeline.classify.train import load_train_config

    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump({"backend": backend, "params": params}), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_train_config(path)
    assert str(e.value).startswith(f"[E020] {path}: ") and says in str(e.value)


def test_good_backend_parameters_keep_their_defaults(tmp_path):
    from pipeline.classify.backends import backend_class
    from pipeline.classify.train import load_train_config

    path = tmp_path / "train.yaml"
    path.write_text("backend: baseline\nparams: {C: 2}\n", encoding="utf-8")
    cfg = load_train_config(path)
    assert cfg.params == {"C": 2}
    assert backend_class("baseline")(["a"], **cfg.params).params == {
        "C": 2.0, "word_ngrams": [1, 2], "char_ngrams": [2, 5], "min_df": 2, "class_weight": "balanced",
        "question_weight": 0.4, "previous_weight": 0.5}
