"""The speaker configuration (configs/speakers.yaml): loading, extending, and clear errors."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.core.errors import ConfigError
from pipeline.ingest.readers import load_speaker_config, read_transcript
from pipeline.ingest.readers import speakers as speakers_module

REPO = Path(__file__).resolve().parents[1]


def test_the_default_configuration_is_the_repository_file():
    config = load_speaker_config()

    assert config.alias_role("Enquêtrice") == "interviewer"
    assert config.alias_role("ENQUETRICE") == "interviewer"  # case and accents do not matter
    assert config.alias_role("p1") == "interviewee"
    assert config.alias_role("Bernard Perrin") is None
    assert [layout.name for layout in config.labels][-1] == "colon"


def test_the_packaged_copy_matches_the_repository_file_and_is_used_when_it_is_missing(monkeypatch):
    packaged = REPO / "pipeline" / "resources" / "speakers.yaml"
    assert packaged.read_text(encoding="utf-8") == (REPO / "configs" / "speakers.yaml").read_text(encoding="utf-8")

    monkeypatch.setattr(speakers_module, "REPO_CONFIG", REPO / "nowhere" / "speakers.yaml")
    assert load_speaker_config().alias_role("INT") == "interviewer"


def test_a_user_adds_a_label_layout_and_a_role_alias(tmp_path):
    data = yaml.safe_load((REPO / "configs" / "speakers.yaml").read_text(encoding="utf-8"))
    # "ENQ. — texte" / "M. D. — texte": a team's own convention, with a dash instead of a colon
    data["labels"].insert(0, {"name": "dash_label", "pattern": r"^(?P<name>[A-Z][\w. ]{0,20}?)\s+—\s+"})
    data["roles"]["interviewer"].append("ENQ.")
    config_path = tmp_path / "speakers.yaml"
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    transcript = tmp_path / "e.txt"
    transcript.write_text("ENQ. — Vous êtes d'ici ?\nM. D. — Oui, de Scionzier.\nENQ. — Et vos parents ?\n"
                          "M. D. — Aussi.\n", encoding="utf-8")

    t = read_transcript(transcript, config=load_speaker_config(config_path))

    assert [(turn.speaker, turn.role) for turn in t.turns] == [("ENQ.", "interviewer"), ("M. D.", "interviewee")] * 2


@pytest.mark.parametrize("change, reason", [
    (lambda d: d["labels"].append({"name": "bad", "pattern": "(?P<name>[a-z"}), "not a valid regular expression"),
    (lambda d: d["labels"].append({"name": "bad", "pattern": "^(\\w+) :"}), "(?P<name>"),
    (lambda d: d["roles"]["interviewee"].append("Enquêtrice"), "both interviewer and interviewee"),
    (lambda d: d.update(max_label_words="beaucoup"), "max_label_words"),
    (lambda d: d.update(speakres=[]), "speakres"),
])
def test_a_broken_configuration_names_the_file_and_the_field(tmp_path, change, reason):
    data = yaml.safe_load((REPO / "configs" / "speakers.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "speakers.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_speaker_config(path)

    assert str(path) in str(caught.value) and reason in str(caught.value)


def test_a_configuration_that_is_not_yaml_is_reported(tmp_path):
    path = tmp_path / "speakers.yaml"
    path.write_text("labels: [unclosed\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="not valid YAML"):
        load_speaker_config(path)
