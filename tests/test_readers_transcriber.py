"""Reading Transcriber (.trs) files: the real ESLO recordings and the constructs they use."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipeline.ingest.readers import read_transcript

ESLO = Path(__file__).parent / "data" / "eslo"
SHARED = Path("/work/shared/real-transcripts")  # all five ESLO files, where this machine has them


def trs(tmp_path: Path, body: str, speakers: str = '<Speaker id="spk1" name="Enquêtrice"/><Speaker id="spk2" name="Marc"/>',
        encoding: str = "UTF-8", data_encoding: str = "utf-8") -> Path:
    path = tmp_path / "e.trs"
    xml = (f'<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE Trans SYSTEM "trans-14.dtd">\n'
           f'<Trans scribe="test" audio_filename="e"><Speakers>{speakers}</Speakers><Episode>'
           f'<Section type="report" startTime="0" endTime="60">{body}</Section></Episode></Trans>\n')
    path.write_bytes(xml.replace("\n", "\r\n").encode(data_encoding))
    return path


def test_the_eslo_shop_recording_in_latin_1():
    t = read_transcript(ESLO / "ESLO1_MAG_290_C.trs")

    assert len(t.turns) == 47  # 41 <Turn>, 7 overlapping ones split in two, 1 with only a noise
    assert Counter(turn.speaker for turn in t.turns) == {"MLC": 25, "DA740": 21, "CS": 1}
    assert sum(turn.overlapping for turn in t.turns) == 13
    assert "elle l'avait acheté je crois dans le midi" in t.text
    assert "à Grâce" in t.text and "méconnues" in t.text
    assert t.text.split("\n")[0].startswith("MLC : bonjour monsieur euh je cherche un [b] parfum dont j'ignore")
    assert (t.turns[0].start_time, t.turns[0].end_time) == (0.0, 14.657)
    assert t.metadata["speakers"] == {"spk1": "MLC", "spk2": "DA740", "spk3": "CS"}


def test_overlapping_speech_gives_one_turn_per_speaker():
    t = read_transcript(ESLO / "ESLO1_MAG_290_C.trs")

    # <Turn speaker="spk1 spk2"> with <Who nb="1"/> ... <Who nb="2"/>, three times over
    both = [turn for turn in t.turns if turn.start_time == 53.488]
    assert [(turn.speaker, t.turn_text(turn), turn.overlapping) for turn in both] == [
        ("MLC", "aussi quand même oui oui", True),
        ("DA740", "de marques qui sont connues oui que l'on connaît même pas par ici dites-donc", True)]


def test_an_eslo_interview_in_utf8_with_crlf():
    t = read_transcript(ESLO / "ESLO1_INTPERS_406_C.trs")

    assert len(t.turns) == 403
    assert Counter(turn.speaker for turn in t.turns) == {"406PERS": 214, "PB": 189}  # 406INC only coughs
    assert sum(turn.overlapping for turn in t.turns) == 135
    assert "été" in t.text and "magnétophone" in t.text and "\r" not in t.text
    assert t.role_method.startswith("heuristic: PB asks the most questions")
    assert {turn.speaker: turn.role for turn in t.turns} == {"PB": "interviewer", "406PERS": "interviewee"}


def test_plain_text_is_one_line_per_turn_with_collapsed_spaces():
    t = read_transcript(ESLO / "ESLO1_INTPERS_406_C.trs")

    lines = t.text.split("\n")
    assert len(lines) == len(t.turns)
    for line, turn in zip(lines, t.turns):
        assert line == f"{turn.speaker} : {t.turn_text(turn)}"
        assert "  " not in line


def test_events_become_bracketed_marks_and_comments_are_dropped(tmp_path):
    path = trs(tmp_path, """
<Turn speaker="spk2" startTime="0" endTime="5"><Sync time="0"/>
on a
<Event desc="b" type="noise" extent="begin"/>
 acheté
<Event desc="b" type="noise" extent="end"/>
 une machine
<Comment desc="nom de marque anonymisé"/>
<Event desc="rire" type="noise" extent="instantaneous"/>
<Background time="2" type="music" level="low"/>
 l'an dernier
</Turn>""")

    t = read_transcript(path)

    assert t.turn_text(t.turns[0]) == "on a [b] acheté une machine [rire] l'an dernier"


def test_turns_without_words_are_skipped_and_overlaps_split(tmp_path):
    path = trs(tmp_path, """
<Turn startTime="0" endTime="1"><Sync time="0"/></Turn>
<Turn speaker="spk1" startTime="1" endTime="3"><Sync time="1"/>vous êtes d'ici ?</Turn>
<Turn speaker="spk2" startTime="3" endTime="4"><Sync time="3"/><Event desc="pi" type="pronounce" extent="instantaneous"/></Turn>
<Turn speaker="spk2 spk1" startTime="4" endTime="6"><Sync time="4"/><Who nb="1"/>oui de Cluses<Who nb="2"/>ah
<Sync time="5"/><Who nb="1"/>depuis toujours<Who nb="2"/>d'accord</Turn>""")

    t = read_transcript(path)

    assert [(turn.speaker, t.turn_text(turn), turn.overlapping, turn.start_time) for turn in t.turns] == [
        ("Enquêtrice", "vous êtes d'ici ?", False, 1.0),
        ("Marc", "oui de Cluses depuis toujours", True, 4.0),
        ("Enquêtrice", "ah d'accord", True, 4.0),
    ]


def test_a_latin_1_file_that_declares_utf8_is_still_read_with_a_warning(tmp_path):
    path = trs(tmp_path, '<Turn speaker="spk1" startTime="0" endTime="1">vous avez été patron ?</Turn>',
               encoding="UTF-8", data_encoding="latin-1")

    t = read_transcript(path)

    assert t.turn_text(t.turns[0]) == "vous avez été patron ?"
    assert any("declares encoding UTF-8" in w for w in t.warnings)


def test_a_speaker_missing_from_the_speakers_table_keeps_its_id(tmp_path):
    path = trs(tmp_path, '<Turn speaker="spk9" startTime="0" endTime="1">bonjour</Turn>')

    t = read_transcript(path)

    assert t.turns[0].speaker == "spk9"
    assert any("spk9" in w for w in t.warnings)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the five ESLO files are not on this machine")
@pytest.mark.parametrize("name, interviewer, interviewee", [
    ("ESLO1_ENT_001_C", "OU", "BA725"), ("ESLO1_ENT_003_C", "JR", "DJ39"),
    ("ESLO1_INTPERS_402_C", "PB", "401PERS"), ("ESLO1_INTPERS_406_C", "PB", "406PERS"),
    ("ESLO1_MAG_290_C", "MLC", "DA740"),
])
def test_every_eslo_file_reads_and_the_questioner_is_the_interviewer(name, interviewer, interviewee):
    t = read_transcript(SHARED / f"{name}.trs")

    roles = {turn.speaker: turn.role for turn in t.turns}
    assert roles[interviewer] == "interviewer" and roles[interviewee] == "interviewee"
    assert any(turn.overlapping for turn in t.turns)
    assert "Ã" not in t.text  # no UTF-8 read as latin-1, nor the reverse
    if name == "ESLO1_ENT_001_C":
        assert "été" in t.text and len(t.turns) > 1150
