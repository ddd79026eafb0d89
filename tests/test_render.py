"""Rendering authored interviews as transcript files, and reading them back with the readers."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.corpus.authoring import AuthoredInterview, AuthoredTurn, parse_authoring
from pipeline.core.errors import ConfigError
from pipeline.ingest.readers import read_transcript
from pipeline.corpus.render import CONVENTIONS, render_interview

TURNS = [
    ("Q", "Bonjour monsieur Perrin, merci de me recevoir. Vous pouvez me présenter l'entreprise ?"),
    ("R", "Oui alors euh l'entreprise c'est mon grand-père qui l'a créée en 1952, on fait du décolletage "
          "pour l'automobile surtout, et puis un peu de médical depuis quelques années, parce que bon, "
          "l'automobile, ça monte et ça descend, il faut pas mettre tous ses œufs dans le même panier."),
    ("Q", "Hm hm."),
    ("R", "Avec les gars d'à côté on se connaît depuis l'école : on se prête une machine quand il y a un "
          "coup de bourre. [rires] Mais bon, faut pas exagérer non plus."),
    ("R2", "Moi j'ajouterais que les clients, eux, ils ne voient pas tout ça, ils veulent la pièce à l'heure "
           "et au bon prix & c'est tout <point>."),
    ("Q", "Et avec vos concurrents, est-ce que vous travaillez ensemble ?"),
    ("R", "Non, jamais. Enfin presque jamais."),
]
ROLE_OF_TAG = {"Q": "interviewer", "R": "interviewee", "R2": "interviewee"}
# Formats that cannot show a second interviewee or two turns of one speaker in a row.
STRICT_ALTERNATION = {"txt:dash", "vtt"}


def interview(render: str, turns=None, **header) -> AuthoredInterview:
    if turns is None:
        turns = [t for t in TURNS if t[0] != "R2"] if render in STRICT_ALTERNATION else TURNS
    return AuthoredInterview(
        Path(f"{render.replace(':', '_')}.interview"),
        {"id": "E99", "render": render, "interviewer": "Enquêtrice", "interviewee": "Bernard Perrin", **header},
        [AuthoredTurn(tag, text) for tag, text in turns])


@pytest.mark.parametrize("render", sorted(CONVENTIONS))
def test_a_rendered_transcript_reads_back_as_the_authored_turns(tmp_path, render):
    iv = interview(render)

    path = render_interview(iv, tmp_path)
    t = read_transcript(path)

    assert path.name == f"E99.{CONVENTIONS[render].extension}"
    read_back = [(turn.role, " ".join(t.turn_text(turn).split())) for turn in t.turns]
    assert read_back == [(ROLE_OF_TAG[turn.tag], turn.text) for turn in iv.turns]
    assert len({turn.speaker for turn in t.turns}) == len({turn.tag for turn in iv.turns})


@pytest.mark.parametrize("render, q, r, r2", [
    ("txt:colon", "Enquêtrice", "Bernard Perrin", "Martine Perrin"),
    ("txt:upper", "ENQUÊTRICE", "BERNARD PERRIN", "MARTINE PERRIN"),
    ("txt:qr", "Q", "R", "Martine Perrin"),
    ("txt:int", "INT", "P1", "Martine Perrin"),
    ("txt:enqueteur", "Enquêteur", "Interviewé", "Martine Perrin"),
    ("docx:table", "Enquêtrice", "Bernard Perrin", "Martine Perrin"),
])
def test_each_convention_names_the_speakers_its_way(tmp_path, render, q, r, r2):
    t = read_transcript(render_interview(interview(render, interviewee2="Martine Perrin"), tmp_path))

    assert [turn.speaker for turn in t.turns][:5] == [q, r, q, r, r2]


def test_without_interviewee2_the_second_interviewee_is_a_colleague(tmp_path):
    t = read_transcript(render_interview(interview("md"), tmp_path))

    assert t.turns[4].speaker == "Collègue"


@pytest.mark.parametrize("render", ["txt:timestamp", "txt:nametime", "vtt"])
def test_times_are_increasing_and_follow_the_speech(tmp_path, render):
    t = read_transcript(render_interview(interview(render), tmp_path))

    starts = [turn.start_time for turn in t.turns]
    assert starts[0] == 0 and all(b > a for a, b in zip(starts, starts[1:]))
    long_answer = len(TURNS[1][1].split())
    assert starts[2] - starts[1] >= int(long_answer / 2.5) - 1  # about 2.5 words a second


def test_a_long_turn_is_cut_into_captions_of_12_to_20_words(tmp_path):
    path = render_interview(interview("vtt"), tmp_path)

    captions = [block.split("\n")[2] for block in path.read_text(encoding="utf-8").split("\n\n")[1:]]
    sizes = [len(c.split(">", 1)[1].split()) for c in captions]
    long_answer = len(TURNS[1][1].split())
    assert sum(sizes[1:4]) == long_answer and all(12 <= n <= 20 for n in sizes[1:4])
    cue_times = [line for line in path.read_text(encoding="utf-8").split("\n") if "-->" in line]
    assert cue_times == sorted(cue_times)


@pytest.mark.parametrize("render", sorted(CONVENTIONS))
def test_rendering_twice_gives_the_same_bytes(tmp_path, render, monkeypatch):
    first = render_interview(interview(render), tmp_path / "a").read_bytes()
    later = time.time() + 86_400 * 3  # libraries stamp zip entries with the current time
    monkeypatch.setattr(time, "time", lambda: later)

    second = render_interview(interview(render), tmp_path / "b").read_bytes()

    assert first == second


def test_writing_is_atomic_and_leaves_no_temporary_file(tmp_path):
    render_interview(interview("docx:para"), tmp_path)

    assert [p.name for p in tmp_path.iterdir()] == ["E99.docx"]


def test_an_authoring_file_renders_end_to_end(tmp_path):
    source = tmp_path / "E98.interview"
    source.write_text(
        "id: E98\nrender: txt:timestamp\ninterviewer: Enquêtrice\ninterviewee: Sophie Martin\nactor_type: PME\n"
        "activity: rectification\nmarket: médical\nheadcount: 10-19\npunctuation: no\n===\n"
        "Q: vous avez combien d'apprentis ?\n"
        "R: [[tacite,confiance| deux cette année on les forme sur le tas\nà côté des anciens]] voilà\n"
        "Q: d'accord\nR: et ils restent hein\n", encoding="utf-8")
    iv = parse_authoring(source)

    t = read_transcript(render_interview(iv, tmp_path / "transcripts"))

    assert [t.turn_text(turn) for turn in t.turns] == [turn.text for turn in iv.turns]
    assert iv.turns[1].segments[0].text in t.text


def test_dash_turns_cannot_show_a_second_interviewee(tmp_path):
    with pytest.raises(ConfigError, match="txt:dash shows only Q and R turns"):
        render_interview(interview("txt:dash", turns=TURNS), tmp_path)


def test_captions_cannot_show_two_turns_of_one_speaker_in_a_row(tmp_path):
    with pytest.raises(ConfigError, match="two R turns in a row"):
        render_interview(interview("vtt", turns=[("Q", "Alors ?"), ("R", "Oui."), ("R", "Enfin non.")]), tmp_path)


def test_a_name_that_would_not_read_back_as_a_label_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="would not be read back"):
        render_interview(interview("txt:colon", interviewee="le patron de l'atelier"), tmp_path)


def test_two_speakers_with_one_name_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="share a name"):
        render_interview(interview("txt:colon", interviewer="Bernard Perrin"), tmp_path)
