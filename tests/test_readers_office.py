"""Reading Word (.docx) and LibreOffice (.odt) transcripts: labelled paragraphs and
`speaker | text` tables, built here the way researchers write them."""
from __future__ import annotations

import docx
from odf.office import Annotation
from odf.opendocument import OpenDocumentText
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import LineBreak, Note, NoteBody, P, S, Span as OdfSpan

from pipeline.ingest.readers import read_transcript

INTERVIEW = [
    ("Enquêtrice", "Bonjour. Vous pouvez me parler de vos fournisseurs ?"),
    ("Claire Roux", "Alors on achète l'acier à un négociant de Cluses, on le connaît depuis vingt ans."),
    ("Enquêtrice", "Et les machines ?"),
    ("Claire Roux", "Des Tornos, suisses. On a un technicien qui vient de Moutier."),
]


def said(t):
    return [(turn.speaker, turn.role, t.turn_text(turn)) for turn in t.turns]


def expected():
    return [(s, "interviewer" if s == "Enquêtrice" else "interviewee", text) for s, text in INTERVIEW]


# --- docx -------------------------------------------------------------------------------------

def test_a_word_transcript_with_labelled_paragraphs(tmp_path):
    document = docx.Document()
    document.add_heading("Entretien E03", level=1)
    for speaker, text in INTERVIEW:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{speaker} :").bold = True  # how transcribers format the label
        paragraph.add_run(f" {text}")
    document.core_properties.author = "Équipe Arve"
    path = tmp_path / "E03.docx"
    document.save(path)

    t = read_transcript(path)

    assert said(t) == expected()
    assert t.text.split("\n")[1] == f"Enquêtrice : {INTERVIEW[0][1]}"  # one line per paragraph
    assert t.metadata["author"] == "Équipe Arve"
    assert any("before the first speaker label" in w for w in t.warnings)


def test_a_manual_line_break_in_a_paragraph_continues_the_turn(tmp_path):
    document = docx.Document()
    document.add_paragraph("Q : Et la suite ?")
    answer = document.add_paragraph("R : On verra.")
    answer.add_run().add_break()
    answer.add_run("Peut-être une reprise par mon fils.")
    path = tmp_path / "e.docx"
    document.save(path)

    t = read_transcript(path)

    assert said(t)[1][2] == "On verra.\nPeut-être une reprise par mon fils."


def test_a_word_table_speaker_text_with_a_header_row(tmp_path):
    document = docx.Document()
    document.add_paragraph("Transcription de l'entretien E13")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Locuteur", "Propos"
    for speaker, text in INTERVIEW:
        row = table.add_row()
        row.cells[0].text, row.cells[1].text = speaker, text
    path = tmp_path / "E13.docx"
    document.save(path)

    t = read_transcript(path)

    assert said(t) == expected()
    assert "Locuteur" not in t.text  # the header row is not a turn, nor text
    assert t.text.split("\n")[1:] == [f"{s} : {text}" for s, text in INTERVIEW]


def test_a_word_table_with_times_and_a_continuation_row(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=0, cols=3)
    for cells in [("00:00:03", "Enquêteur", "Vous êtes combien ?"), ("00:00:06", "Marc", "Quinze."),
                  ("00:00:09", "", "Avec les intérimaires, vingt."), ("00:00:15", "Enquêteur", "D'accord.")]:
        row = table.add_row()
        for cell, value in zip(row.cells, cells):
            cell.text = value
    path = tmp_path / "e.docx"
    document.save(path)

    t = read_transcript(path)

    assert [(s, text) for s, _, text in said(t)] == [
        ("Enquêteur", "Vous êtes combien ?"), ("Marc", "Quinze.\nAvec les intérimaires, vingt."),
        ("Enquêteur", "D'accord.")]
    assert [turn.start_time for turn in t.turns] == [3, 6, 15]


def test_a_table_that_is_not_a_turn_table_is_read_as_paragraphs(tmp_path):
    document = docx.Document()
    info = document.add_table(rows=1, cols=4)
    for cell, value in zip(info.rows[0].cells, ["Date", "14/03/2023", "Lieu", "Cluses"]):
        cell.text = value
    document.add_paragraph("Q : Vous êtes d'ici ?")
    document.add_paragraph("R : Né à Cluses.")
    path = tmp_path / "e.docx"
    document.save(path)

    t = read_transcript(path)

    assert [s for s, _, _ in said(t)] == ["Q", "R"]
    assert t.text.startswith("Date\n14/03/2023\nLieu\nCluses\n")


# --- odt --------------------------------------------------------------------------------------

def odt_paragraph(text: str) -> P:
    paragraph = P()
    paragraph.addText(text)
    return paragraph


def test_a_libreoffice_transcript_with_labelled_paragraphs(tmp_path):
    document = OpenDocumentText()
    for speaker, text in INTERVIEW:
        document.text.addElement(odt_paragraph(f"{speaker} : {text}"))
    path = tmp_path / "E07.odt"
    document.save(str(path))

    t = read_transcript(path)

    assert said(t) == expected()
    assert t.format == "odt"
    assert t.text == "\n".join(f"{s} : {text}" for s, text in INTERVIEW)


def test_odt_spaces_line_breaks_notes_and_comments(tmp_path):
    document = OpenDocumentText()
    document.text.addElement(odt_paragraph("Q : Et vos voisins ?"))
    answer = P()
    answer.addText("R : On se prête")
    answer.addElement(S(c=1))
    answer.addElement(OdfSpan(text="des machines."))
    note = Note(noteclass="footnote")
    body = NoteBody()
    body.addElement(odt_paragraph("Note du transcripteur : rires."))
    note.addElement(body)
    answer.addElement(note)
    comment = Annotation()
    comment.addElement(odt_paragraph("à coder confiance"))
    answer.addElement(comment)
    answer.addElement(LineBreak())
    answer.addText("Tout le temps.")
    document.text.addElement(answer)
    path = tmp_path / "e.odt"
    document.save(str(path))

    t = read_transcript(path)

    assert said(t)[1][2] == "On se prête des machines.\nTout le temps."
    assert "transcripteur" not in t.text and "coder" not in t.text


def test_a_libreoffice_table_speaker_text(tmp_path):
    document = OpenDocumentText()
    table = Table(name="Entretien")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for speaker, text in [("Intervenant", "Texte")] + INTERVIEW:
        row = TableRow()
        for value in (speaker, text):
            cell = TableCell()
            cell.addElement(odt_paragraph(value))
            row.addElement(cell)
        table.addElement(row)
    document.text.addElement(table)
    path = tmp_path / "e.odt"
    document.save(str(path))

    t = read_transcript(path)

    assert said(t) == expected()
