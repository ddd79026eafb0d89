"""Reading subtitle transcripts (.vtt, .srt) exported by transcription tools and video platforms."""
from __future__ import annotations

from pathlib import Path

from pipeline.ingest.readers import read_transcript

DATA = Path(__file__).parent / "data" / "subtitles"


def test_webvtt_voices_become_turns_and_captions_of_one_speaker_merge():
    t = read_transcript(DATA / "entretien.vtt")

    assert [(turn.speaker, turn.role) for turn in t.turns] == [
        ("Enquêtrice", "interviewer"), ("Paul Girard", "interviewee")] * 2
    assert t.turn_text(t.turns[1]) == ("Oui, Paul Girard, je dirige une entreprise de traitement de surface à "
                                      "Marnaz. On travaille pour beaucoup de décolleteurs de la vallée & d'ailleurs.")
    assert (t.turns[1].start_time, t.turns[1].end_time) == (5.0, 14.0)
    assert t.text.split("\n")[0] == "Enquêtrice : Bonjour, vous pouvez vous présenter ?"
    assert len(t.text.split("\n")) == 4  # one line per turn


def test_webvtt_inline_markup_notes_and_header_are_not_text():
    t = read_transcript(DATA / "entretien.vtt")

    for leftover in ("<", ">", "&amp;", "NOTE", "corrigée", "Kind:", "00:00:16"):
        assert leftover not in t.text
    assert t.turn_text(t.turns[3]) == "Oui, tout le monde. C'est un petit monde, ici."


def test_subrip_captions_with_name_colon_labels():
    t = read_transcript(DATA / "entretien.srt")

    assert [(turn.speaker, turn.role) for turn in t.turns] == [
        ("Enquêteur", "interviewer"), ("Claire Roux", "interviewee")] * 2
    # a caption without a label continues the speaker; {\an8} and <i> are gone
    assert t.turn_text(t.turns[1]) == ("Au Canada surtout, nos outils pour les travaux publics. "
                                      "On a un catalogue de quarante modèles.")
    assert (t.turns[1].start_time, t.turns[1].end_time) == (3.4, 11.0)
    assert t.format == "srt"


def test_captions_without_speakers_are_one_unknown_turn_taken_as_the_interviewee_with_a_warning():
    t = read_transcript(DATA / "sans_locuteur.srt")

    assert [(turn.speaker, turn.role) for turn in t.turns] == [("?", "interviewee")]
    assert t.text == "Bonjour à tous. Aujourd'hui on visite un atelier de décolletage."
    assert "no speaker labels found" in t.warnings[0]


def test_two_voices_in_one_cue_are_two_turns(tmp_path):
    path = tmp_path / "e.vtt"
    path.write_text("WEBVTT\n\n00:01.000 --> 00:03.000\n<v Q>Vous êtes seul ?</v>\n<v R>Non, à deux.</v>\n",
                    encoding="utf-8")

    t = read_transcript(path)

    assert [(turn.speaker, t.turn_text(turn)) for turn in t.turns] == [("Q", "Vous êtes seul ?"),
                                                                       ("R", "Non, à deux.")]
    assert t.turns[0].start_time == 1.0


def test_a_vtt_file_without_its_header_is_read_with_a_warning(tmp_path):
    path = tmp_path / "e.vtt"
    path.write_text("00:00:01.000 --> 00:00:02.000\n<v Q>Oui ?\n\n00:00:02.500 --> 00:00:04.000\n<v R>Oui.\n",
                    encoding="utf-8")

    t = read_transcript(path)

    assert len(t.turns) == 2
    assert any("WEBVTT" in w for w in t.warnings)
