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
