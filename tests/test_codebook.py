"""A researcher edits configs/codebook.yaml: mistakes are caught with a message saying where."""
import copy

import pytest
import yaml

from pipeline.core.codebook import DEFAULT_CODEBOOK, codebook_from_dict, load_codebook
from pipeline.core.errors import ConfigError


@pytest.fixture()
def raw():
    return yaml.safe_load(DEFAULT_CODEBOOK.read_text(encoding="utf-8"))


def test_the_bundled_codebook_loads_with_its_nine_codes():
    cb = load_codebook()
    assert cb.codes == ["proximite", "exterieur", "concurrents", "confiance", "mefiance", "tacite",
                        "explicite", "procede", "produit"]
    assert cb.dimension_of("tacite") == "connaissance"
    for name in cb.codes:
        code = cb.code(name)
        assert code.definition and len(code.examples) >= 2


def test_hash_ignores_formatting_but_not_content(tmp_path, raw):
    cb = load_codebook()
    reformatted = tmp_path / "cb.yaml"
    reformatted.write_text(yaml.safe_dump(raw, allow_unicode=True, width=40), encoding="utf-8")
    assert load_codebook(reformatted).content_hash() == cb.content_hash()
    changed = copy.deepcopy(raw)
    changed["dimensions"][0]["codes"][0]["definition"] += " Précision."
    assert codebook_from_dict(changed).content_hash() != cb.content_hash()


def test_duplicate_code_is_refused_naming_both_dimensions(raw):
    raw["dimensions"][1]["codes"].append(copy.deepcopy(raw["dimensions"][0]["codes"][0]))
    with pytest.raises(ConfigError, match="duplicate code 'proximite'.*strategie.*relation"):
        codebook_from_dict(raw, where="configs/codebook.yaml")


def test_empty_definition_is_refused_with_its_location(raw):
    raw["dimensions"][2]["codes"][0]["definition"] = "   "
    with pytest.raises(ConfigError, match=r"dimensions\.2\.codes\.0\.definition.*empty definition"):
        codebook_from_dict(raw)


def test_unknown_field_and_bad_code_name_are_refused(raw):
    bad = copy.deepcopy(raw)
    bad["dimensions"][0]["colour"] = "red"
    with pytest.raises(ConfigError, match="colour"):
        codebook_from_dict(bad)
    bad = copy.deepcopy(raw)
    bad["dimensions"][0]["codes"][0]["name"] = "Proximité"
    with pytest.raises(ConfigError, match="lower-case"):
        codebook_from_dict(bad)


def test_a_dimension_without_codes_and_broken_yaml_are_refused(tmp_path, raw):
    raw["dimensions"].append({"name": "vide", "codes": []})
    with pytest.raises(ConfigError, match="at least one code"):
        codebook_from_dict(raw)
    broken = tmp_path / "cb.yaml"
    broken.write_text("name: x\ndimensions: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_codebook(broken)
    with pytest.raises(ConfigError, match="not found"):
        load_codebook(tmp_path / "missing.yaml")


def test_unknown_codes_are_reported_with_the_known_ones():
    cb = load_codebook()
    with pytest.raises(ConfigError, match="unknown code.*innovation_sociale.*codebook .* has: proximite"):
        cb.check_codes(["tacite", "innovation_sociale"], where="pred.jsonl")
