"""Reading .txt and .md transcripts: the speaker conventions researchers use, encodings,
unlabelled text, and the false labels a French transcript is full of."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.errors import InputFileError
from pipeline.ingest.readers import read_transcript

DATA = Path(__file__).parent / "data" / "txt"


def turns_of(t):
    return [(turn.speaker, turn.role, t.turn_text(turn)) for turn in t.turns]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- conventions ------------------------------------------------------------------------------

def test_a_colon_transcript_gives_one_turn_per_label_with_the_spoken_text_only():
    t = read_transcript(DATA / "entretien_colon.txt")

    assert t.doc_id == "entretien_colon" and t.format == "txt"
    assert t.text == (DATA / "entretien_colon.txt").read_text(encoding="utf-8")
    assert [s for s, _, _ in turns_of(t)] == ["Enquêtrice", "Marc Dubois"] * 3
    assert [r for _, r, _ in turns_of(t)] == ["interviewer", "interviewee"] * 3
    first = turns_of(t)[0][2]
    assert first.startswith("Bonjour, merci") and first.endswith("votre entreprise ?")
    # continuation lines stay in the turn, and the label is not part of the span
    assert turns_of(t)[1][2].endswith("On a une trentaine de salariés aujourd'hui.")
    assert t.text[t.turns[1].span.start - len("Marc Dubois : "):t.turns[1].span.start] == "Marc Dubois : "
    # the header lines are text outside any turn, and the user is told
    assert any("before the first speaker label" in w for w in t.warnings)


def test_sentences_with_a_colon_never_become_speakers():
    t = read_transcript(DATA / "entretien_colon.txt")

    speakers = {turn.speaker for turn in t.turns}
    assert speakers == {"Enquêtrice", "Marc Dubois"}
    answer = turns_of(t)[3][2]
    assert "Alors là je lui ai dit : non, on ne baissera pas encore." in answer
    assert "Exemple : l'année dernière" in answer
    assert turns_of(t)[5][2].endswith("Il m'a dit : « tu me dois rien ».")


@pytest.mark.parametrize("line", [
    "Alors là je lui ai dit : non.",
    "Il m'a dit : tu me dois rien.",
    "Mais Jean : attends deux minutes.",
    "Date : le 12 mars.",
    "Note : à vérifier avec l'enregistrement.",
    "http://www.exemple.fr : le site du pôle.",
    "12:30 : on s'arrête pour manger.",
    "les clients allemands : très exigeants.",
    "Le Responsable Qualité De Notre Gros Client Allemand : il vient tous les mois.",
])
def test_a_line_that_only_looks_like_a_label_stays_inside_the_answer(tmp_path, line):
    path = write(tmp_path, "e.txt", f"Q : Et alors ?\nR : Eh bien voilà.\n{line}\nQ : D'accord.\nR : Voilà.\n")

    t = read_transcript(path)

    assert [s for s, _, _ in turns_of(t)] == ["Q", "R", "Q", "R"]
    assert turns_of(t)[1][2] == f"Eh bien voilà.\n{line}"


def test_a_recurring_discourse_word_before_a_colon_is_not_a_speaker(tmp_path):
    path = write(tmp_path, "notes.txt", "Alors : on a commencé en 1990.\nDonc : pas de stock.\nAlors : voilà.\n"
                                        "Exemple : les cames.\nExemple : les tours.\n")

    t = read_transcript(path)

    assert [(s, r) for s, r, _ in turns_of(t)] == [("?", "interviewee")]
    assert "no speaker labels found" in t.warnings[0]


def test_a_name_seen_once_in_a_labelled_transcript_is_a_speaker_with_a_warning(tmp_path):
    path = write(tmp_path, "e.txt", "Q : Vous êtes seul ?\nR : Non, avec ma femme.\n"
                                    "Martine Perrin : Oui, je fais la compta.\nQ : D'accord.\nR : Voilà.\n")

    t = read_transcript(path)

    assert [s for s, _, _ in turns_of(t)] == ["Q", "R", "Martine Perrin", "Q", "R"]
    assert any("'Martine Perrin' appears only once" in w for w in t.warnings)


def test_a_single_unknown_name_without_other_labels_is_not_believed(tmp_path):
    path = write(tmp_path, "e.txt", "Souvenirs de l'atelier.\nMonsieur Perrin : un homme dur mais juste.\n")

    t = read_transcript(path)

    assert [s for s, _, _ in turns_of(t)] == ["?"]


@pytest.mark.parametrize("name, speakers, times", [
    ("entretien_timestamps.txt", ["Enquêteur", "Sophie Martin"] * 3, [4, 9, 21, 24, 62, 63]),
    ("entretien_nametime.txt", ["Enquêtrice", "Paul Girard"] * 2, [2, 6, 19, 23]),
    ("entretien_upper.txt", ["ENQUÊTEUR", "BERNARD PERRIN"] * 2, [None] * 4),
    ("entretien_int.txt", ["INT", "P1"] * 2, [None] * 4),
    ("entretien.md", ["Enquêtrice", "Jean-Luc Favre"] * 2, [None] * 4),
])
def test_each_labelling_convention_gives_speakers_roles_and_times(name, speakers, times):
    t = read_transcript(DATA / name)

    assert [turn.speaker for turn in t.turns] == speakers
    assert [turn.role for turn in t.turns] == ["interviewer", "interviewee"] * (len(speakers) // 2)
    assert [turn.start_time for turn in t.turns] == times
    for turn in t.turns:  # no label, timestamp or markup inside a turn
        said = t.turn_text(turn)
        assert said == said.strip() and not said.startswith(("**", "[", "(", ":"))


def test_a_label_alone_on_its_line_opens_a_turn_on_the_next_lines():
    t = read_transcript(DATA / "entretien_int.txt")

    assert turns_of(t)[1][2] == ("Par le bouche-à-oreille, surtout. Ici tout le monde se connaît.\n"
                                 "Et puis les salons, un peu, à Genève et à Paris.")


def test_dash_turns_alternate_and_the_first_dash_is_the_interviewer():
    t = read_transcript(DATA / "entretien_dash.txt")

    assert [(s, r) for s, r, _ in turns_of(t)] == [("A", "interviewer"), ("B", "interviewee")] * 2
    assert turns_of(t)[1][2].endswith("ça ne s'apprend pas dans les livres.")
    assert t.role_method.startswith("format")


def test_text_without_any_label_is_one_turn_of_an_unknown_speaker_with_a_warning():
    """A monologue or a written answer: one turn, taken as the interviewee's so it can be coded."""
    t = read_transcript(DATA / "recit_sans_locuteur.txt")

    assert len(t.turns) == 1
    assert t.turns[0].speaker == "?" and t.turns[0].role == "interviewee"
    assert t.role_method.startswith("no speaker labels")
    assert t.turn_text(t.turns[0]) == t.text.strip()
    assert "no speaker labels found" in t.warnings[0]


# --- encodings --------------------------------------------------------------------------------

def test_a_windows_file_in_cp1252_is_decoded_with_a_warning():
    t = read_transcript(DATA / "entretien_qr_cp1252.txt")

    assert t.metadata["encoding"] == "cp1252"
    assert "Windows-1252" in t.warnings[0]
    assert "On a été jusqu’à vingt, avant la crise de 2009…" in t.text
    assert "mal au cœur" in t.text
    assert "\r" not in t.text
    assert [turn.speaker for turn in t.turns] == ["Q", "R", "Q", "R"]


@pytest.mark.parametrize("encoding, bom", [("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"),
                                           ("utf-16-be", b"\xfe\xff")])
def test_a_file_with_a_byte_order_mark_is_decoded_without_the_mark(tmp_path, encoding, bom):
    text = "Q : Vous êtes né où ?\r\nR : À Cluses, en 1958.\r\n"
    path = tmp_path / "e.txt"
    path.write_bytes(bom + text.encode(encoding))

    t = read_transcript(path)

    assert t.text == "Q : Vous êtes né où ?\nR : À Cluses, en 1958.\n"
    assert t.warnings == []
    assert [t.turn_text(turn) for turn in t.turns] == ["Vous êtes né où ?", "À Cluses, en 1958."]


def test_old_mac_line_endings_and_bytes_cp1252_lacks_are_still_read(tmp_path):
    path = tmp_path / "e.txt"
    path.write_bytes(b"Q : \xe9t\xe9 ?\rR : oui \x81\x8d\r")  # latin-1 bytes cp1252 leaves undefined

    t = read_transcript(path)

    assert t.text == "Q : été ?\nR : oui \x81\x8d\n"
    assert len(t.turns) == 2


def test_a_50_mb_single_line_file_is_refused_by_size_then_by_line_and_read_when_both_are_raised(tmp_path,
                                                                                                   monkeypatch):
    path = tmp_path / "big.txt"
    chunk = "alors là je lui ai dit : non et puis euh [rires] le le le : "
    path.write_bytes((chunk * (50_000_000 // len(chunk) + 1)).encode("utf-8")[:50_000_000])

    with pytest.raises(InputFileError, match=r"too large: 47\.7 MB, above the limit of 20\.0 MB"):
        read_transcript(path)
    monkeypatch.setenv("CODEUR_MAX_FILE_MB", "60")
    with pytest.raises(InputFileError, match=r"line 1 is 4\d,\d{3},\d{3} characters long"):
        read_transcript(path)
    monkeypatch.setenv("CODEUR_MAX_LINE_CHARS", "60000000")
    t = read_transcript(path)

    # the cut at 50 MB splits an « à »: that one invalid byte becomes U+FFFD, the rest stays UTF-8
    assert len(t.turns) == 1 and t.text.startswith(chunk) and t.text.endswith("\ufffd")


def test_a_few_bullet_points_in_a_narrative_are_not_dash_turns(tmp_path):
    path = write(tmp_path, "recit.txt", "Ce qui a changé depuis 2000 :\n- les clients sont partis en Asie\n"
                                        "- les prix ont baissé\nEt pourtant on est toujours là.\nOn s'adapte.\n")

    t = read_transcript(path)

    assert [turn.speaker for turn in t.turns] == ["?"]


def test_word_typography_non_breaking_space_before_the_colon(tmp_path):
    path = write(tmp_path, "e.txt", "Enquêtrice\u00a0: Vous exportez ?\nMarc Dubois\u202f: Un peu.\n"
                                    "Enquêtrice\u00a0: Où ?\nMarc Dubois\u202f: En Suisse.\n")

    t = read_transcript(path)

    assert [(s, text) for s, _, text in turns_of(t)] == [
        ("Enquêtrice", "Vous exportez ?"), ("Marc Dubois", "Un peu."), ("Enquêtrice", "Où ?"),
        ("Marc Dubois", "En Suisse.")]


def test_markdown_labels_bold_inside_or_outside_the_colon(tmp_path):
    path = write(tmp_path, "e.md", "**Q :** Vous êtes seul ?\n\n**R** : Non.\n\n**Q:** Ah ?\n\n**R**: Avec mon frère.\n")

    t = read_transcript(path)

    assert [(s, text) for s, _, text in turns_of(t)] == [("Q", "Vous êtes seul ?"), ("R", "Non."), ("Q", "Ah ?"),
                                                         ("R", "Avec mon frère.")]
