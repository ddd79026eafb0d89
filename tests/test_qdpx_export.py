"""A researcher runs `codeur export-qdpx` on a model's predictions and opens the result in her QDA
software: a valid REFI-QDA project whose sources are the transcripts, whose code book is codeur's,
and where the model (and, with --gold, each human coder) is a user with its own coding. The same
input always gives the same bytes, and codeur's own importer reads it back to the same spans."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import xmlschema
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.codebook import load_codebook
from pipeline.core.gold import GoldSpan, read_gold
from pipeline.exchange.qdc import read_qdc
from pipeline.exchange.qdpx import QdpxArchive, import_project, project_archive
from pipeline.ingest.readers import read_transcript
from pipeline.core.spans import Span
from pipeline.core.tables import write_transcripts

SCHEMAS = Path(__file__).parent / "data" / "refi-qda"
E01 = ("Enquêtrice : Vous travaillez avec vos voisins ?\n"
       "M. Perrin : Avec les gars d'à côté on se connaît depuis l'école. 🙂 Une poignée de main et c'est réglé.\n"
       "Enquêtrice : Et vos clients ?\n"
       "M. Perrin : Le bureau d'études de Stuttgart vient tous les mois.\n")
E02 = ("Enquêteur : Vous parlez avec vos concurrents ?\n"
       "Mme Mercier : Avec Mercier on a répondu ensemble, mais on reste concurrents.\n")


@pytest.fixture(scope="module")
def project_schema():
    return xmlschema.XMLSchema(SCHEMAS / "Project.xsd")


@pytest.fixture(scope="module")
def codebook_schema():
    return xmlschema.XMLSchema(SCHEMAS / "Codebook.xsd")


@pytest.fixture
def work(tmp_path):
    """Three transcripts and their JSONL; a model's predictions on two of them; a coder's gold."""
    folder = tmp_path / "transcripts"
    folder.mkdir()
    for name, text in (("E01", E01), ("E02", E02), ("E03", E02.replace("Mercier", "Favre"))):
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    transcripts = [read_transcript(folder / f"{n}.txt") for n in ("E01", "E02", "E03")]
    write_transcripts(tmp_path / "transcripts.jsonl", transcripts)

    def row(doc, phrase, codes):
        text = E01 if doc == "E01" else E02
        start = text.index(phrase)
        return {"id": f"{doc}:{start}-{start + len(phrase)}", "doc_id": doc, "start": start,
                "end": start + len(phrase), "text": phrase, "codes": codes,
                "scores": {c: 0.9 for c in codes} | {"innovation": 0.1}, "model": "camembert-v3"}

    preds = [row("E01", "Avec les gars d'à côté on se connaît depuis l'école. 🙂 Une poignée de main et c'est "
                        "réglé.", ["proximite", "confiance"]),
             row("E01", "Le bureau d'études de Stuttgart vient tous les mois.", ["exterieur"]),
             row("E02", "Avec Mercier on a répondu ensemble, mais on reste concurrents.", []),
             row("E02", "Avec Mercier on a répondu ensemble", ["concurrents"])]
    (tmp_path / "pred.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in preds),
                                         encoding="utf-8")
    s = E01.index("Le bureau")
    gold = GoldSpan("E01", Span(s, s + 31), ("exterieur",), "coder1", E01[s:s + 31])
    (tmp_path / "gold").mkdir()
    (tmp_path / "gold" / "coder1.jsonl").write_text(json.dumps(gold.to_dict(), ensure_ascii=False) + "\n",
                                                    encoding="utf-8")
    return tmp_path, preds, gold


def export(tmp_path: Path, *extra: str, out: str = "auto.qdpx") -> Path:
    result = CliRunner().invoke(app, ["export-qdpx", "--pred", str(tmp_path / "pred.jsonl"),
                                      "--out", str(tmp_path / out), *extra])
    assert result.exit_code == 0, result.output
    return tmp_path / out


def test_the_export_is_a_valid_refi_qda_project(work, project_schema):
    tmp_path, _, _ = work
    qdpx = export(tmp_path, "--transcripts", str(tmp_path / "transcripts.jsonl"), "--gold", str(tmp_path / "gold"))
    with zipfile.ZipFile(qdpx) as zf:
        names = zf.namelist()
        project_schema.validate(zf.read("project.qde").decode("utf-8"))
        texts = sorted(zf.read(n).decode("utf-8") for n in names if n.startswith("sources/"))
    # The sources are the documents the model read: E03, never classified, stays out.
    assert names[0] == "project.qde" and len(names) == 3
    assert all(n.startswith("sources/") and n.endswith(".txt") for n in names[1:])
    assert texts == sorted([E01, E02])


def test_the_model_and_each_coder_are_users_with_their_own_coding(work):
    tmp_path, _, _ = work
    qdpx = export(tmp_path, "--transcripts", str(tmp_path / "transcripts.jsonl"), "--gold", str(tmp_path / "gold"))
    with zipfile.ZipFile(qdpx) as zf:
        qde = zf.read("project.qde").decode("utf-8")
    assert '<User guid="' in qde and 'name="camembert-v3"' in qde and 'name="coder1"' in qde
    assert qde.count("<PlainTextSelection ") == 4  # three predicted passages with codes, one gold span
    assert "camembert-v3: proximite 0.90, confiance 0.90" in qde  # the scores, as the selection's description


def test_the_same_input_gives_the_same_bytes(work):
    tmp_path, _, _ = work
    a = export(tmp_path, "--transcripts", str(tmp_path / "transcripts.jsonl"), out="a/auto.qdpx").read_bytes()
    b = export(tmp_path, "--transcripts", str(tmp_path / "transcripts.jsonl"), out="b/auto.qdpx").read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a" / "auto.qdpx") as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_transcripts_can_be_re_read_from_their_folder(work):
    tmp_path, _, _ = work
    from_jsonl = export(tmp_path, "--transcripts", str(tmp_path / "transcripts.jsonl"), out="a/auto.qdpx")
    from_folder = export(tmp_path, "--transcripts", str(tmp_path / "transcripts"), out="b/auto.qdpx")
    assert from_jsonl.read_bytes() == from_folder.read_bytes()


def test_codeurs_importer_reads_the_export_back_to_the_same_spans_and_codes(work):
    tmp_path, preds, gold = work
    qdpx = export(tmp_path, "--transcripts", str(tmp_path / "transcripts"), "--gold", str(tmp_path / "gold"))
    out = tmp_path / "back"
    report = import_project(qdpx, out)
    assert not report.notes
    back = {(g.coder, g.doc_id, g.span.start, g.span.end, g.codes) for g in read_gold(out / "gold")}
    assert back == {("camembert-v3", r["doc_id"], r["start"], r["end"], tuple(r["codes"])) for r in preds
                    if r["codes"]} | {("coder1", "E01", gold.span.start, gold.span.end, gold.codes)}
    # The codebook comes back whole: names, labels, definitions, include / exclude / examples (its
    # language excepted: REFI-QDA has no place for it, and the import does not guess).
    ours = load_codebook()
    theirs = load_codebook(out / "codebook.yaml")
    assert theirs.model_dump(exclude={"name", "rules", "language"}) == ours.model_dump(exclude={"name", "rules", "language"})
    # The tool shows the names a researcher reads ('Méfiance' for code mefiance); they map back to ours.
    mapping = yaml.safe_load((out / "code-mapping.yaml").read_text(encoding="utf-8"))
    assert all(mapping[k] == k for k in ours.codes if k in mapping)
    assert mapping["Méfiance"] == "mefiance" and mapping["Confiance"] == "confiance"
    assert (out / "transcripts" / "E01.txt").read_text(encoding="utf-8") == E01


def test_positions_for_nvivo_count_utf16_units_and_still_round_trip(work):
    tmp_path, preds, _ = work
    qdpx = export(tmp_path, "--transcripts", str(tmp_path / "transcripts.jsonl"), "--positions", "utf16")
    with zipfile.ZipFile(qdpx) as zf:
        qde = zf.read("project.qde").decode("utf-8")
    after_emoji = preds[1]  # "Le bureau…" comes after the 🙂: one more unit in UTF-16
    assert f'startPosition="{after_emoji["start"] + 1}"' in qde
    report = import_project(qdpx, tmp_path / "back")
    assert report.positions.convention == "utf16"
    back = {(g.doc_id, g.span.start, g.span.end) for g in read_gold(tmp_path / "back" / "gold")}
    assert back == {(r["doc_id"], r["start"], r["end"]) for r in preds if r["codes"]}


def test_a_prediction_that_does_not_match_its_transcript_is_refused(work):
    tmp_path, preds, _ = work
    preds[0]["text"] = "autre chose"
    (tmp_path / "pred.jsonl").write_text("".join(json.dumps(r) + "\n" for r in preds), encoding="utf-8")
    result = CliRunner().invoke(app, ["export-qdpx", "--pred", str(tmp_path / "pred.jsonl"), "--out",
                                      str(tmp_path / "x.qdpx"), "--transcripts", str(tmp_path / "transcripts.jsonl")])
    assert result.exit_code == 2
    assert "row 1: the passage text differs from the transcript" in result.output
    assert not (tmp_path / "x.qdpx").exists()


def test_a_code_outside_the_codebook_is_refused(work):
    tmp_path, preds, _ = work
    preds[0]["codes"] = ["pas_un_code"]
    (tmp_path / "pred.jsonl").write_text("".join(json.dumps(r) + "\n" for r in preds), encoding="utf-8")
    result = CliRunner().invoke(app, ["export-qdpx", "--pred", str(tmp_path / "pred.jsonl"), "--out",
                                      str(tmp_path / "x.qdpx"), "--transcripts", str(tmp_path / "transcripts.jsonl")])
    assert result.exit_code == 2 and "unknown code(s) pas_un_code" in result.output


def test_missing_transcripts_say_how_to_get_them(work):
    tmp_path, _, _ = work
    result = CliRunner().invoke(app, ["export-qdpx", "--pred", str(tmp_path / "pred.jsonl"), "--out",
                                      str(tmp_path / "x.qdpx"), "--transcripts", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "codeur prepare --transcripts" in result.output


def test_stray_control_characters_do_not_break_the_xml(project_schema, tmp_path):
    text = "Enquêtrice : Et alors ?\nM. Perrin : On se connaît\x07 depuis l'école.\n"
    (tmp_path / "E09.txt").write_text(text, encoding="utf-8")
    tr = read_transcript(tmp_path / "E09.txt")
    from pipeline.exchange.qdpx import CodedSpan

    s = text.index("On se")
    data = project_archive([tr], load_codebook(), [CodedSpan("m", "E09", Span(s, s + 30), ("confiance",))], name="p")
    (tmp_path / "p.qdpx").write_bytes(data)
    with QdpxArchive(tmp_path / "p.qdpx") as archive:
        project_schema.validate(archive.read("project.qde").decode("utf-8"))


# --- the codebook alone ----------------------------------------------------------------------------

def test_the_codebook_goes_out_as_qdc_and_comes_back_the_same(tmp_path, codebook_schema):
    runner = CliRunner()
    result = runner.invoke(app, ["export-qdc", "--out", str(tmp_path / "codebook.qdc")])
    assert result.exit_code == 0, result.output
    xml = (tmp_path / "codebook.qdc").read_text(encoding="utf-8")
    codebook_schema.validate(xml)
    assert 'xmlns="urn:QDA-XML:codebook:1.0"' in xml
    ours = load_codebook()
    assert ours.code("proximite").definition in xml  # definitions travel as Description

    result = runner.invoke(app, ["import-qdc", str(tmp_path / "codebook.qdc"), "--out", str(tmp_path / "cb.yaml")])
    assert result.exit_code == 0, result.output
    back = load_codebook(tmp_path / "cb.yaml")
    assert back.model_dump(exclude={"name", "rules", "language"}) == ours.model_dump(exclude={"name", "rules", "language"})
    assert 'name="Méfiance"' in xml and 'name="mefiance"' not in xml  # the label, when it is the name shown
    mapping = yaml.safe_load((tmp_path / "cb.mapping.yaml").read_text(encoding="utf-8"))
    assert mapping["Méfiance"] == "mefiance"


def test_a_foreign_qdc_with_categories_and_accents(tmp_path):
    (tmp_path / "maxqda.qdc").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="MAXQDA 2022">\n<Codes>\n'
        '<Code guid="{6A1C1F42-0000-4000-8000-000000000001}" name="Coopération" isCodable="false">\n'
        '<Code guid="6A1C1F42-0000-4000-8000-000000000002" name="Réseau local" isCodable="true">\n'
        '<Description>Liens avec le territoire.</Description></Code>\n'
        '<Code guid="6A1C1F42-0000-4000-8000-000000000003" name="2e cercle" isCodable="true"/>\n'
        '</Code>\n</Codes>\n</CodeBook>\n', encoding="utf-8-sig")
    imported = read_qdc(tmp_path / "maxqda.qdc")
    cb = imported.codebook
    assert [(d.name, d.codes[0].name, d.codes[1].name) for d in cb.dimensions] == [
        ("cooperation", "reseau_local", "c_2e_cercle")]
    assert cb.code("reseau_local").definition == "Liens avec le territoire." and imported.names_changed
    result = CliRunner().invoke(app, ["import-qdc", str(tmp_path / "maxqda.qdc"), "--out", str(tmp_path / "cb.yaml")])
    assert result.exit_code == 0 and (tmp_path / "cb.mapping.yaml").exists()


# --- gold alone, and what is left out --------------------------------------------------------------------

def test_gold_alone_needs_no_predictions_and_keeps_every_transcript(work):
    tmp_path, _, gold = work
    result = CliRunner().invoke(app, ["export-qdpx", "--gold", str(tmp_path / "gold"), "--transcripts",
                                      str(tmp_path / "transcripts"), "--out", str(tmp_path / "gold.qdpx")])
    assert result.exit_code == 0, result.output
    assert "3 source(s)" in result.output and "users: coder1 (1 spans)" in result.output
    with zipfile.ZipFile(tmp_path / "gold.qdpx") as zf:
        assert len([n for n in zf.namelist() if n.startswith("sources/")]) == 3  # E03, uncoded, too


def test_transcripts_the_model_did_not_read_are_named_when_left_out(work):
    tmp_path, _, _ = work
    result = CliRunner().invoke(app, ["export-qdpx", "--pred", str(tmp_path / "pred.jsonl"), "--transcripts",
                                      str(tmp_path / "transcripts.jsonl"), "--out", str(tmp_path / "x.qdpx")])
    assert result.exit_code == 0 and "1 transcript(s) neither classified nor coded left out: E03" in result.output


def test_for_nvivo_sets_utf16_positions_and_a_contradiction_is_refused(work):
    tmp_path, preds, _ = work
    qdpx = export(tmp_path, "--transcripts", str(tmp_path / "transcripts.jsonl"), "--for", "nvivo")
    with zipfile.ZipFile(qdpx) as zf:
        assert f'startPosition="{preds[1]["start"] + 1}"' in zf.read("project.qde").decode("utf-8")
    result = CliRunner().invoke(app, ["export-qdpx", "--pred", str(tmp_path / "pred.jsonl"), "--for", "nvivo",
                                      "--positions", "codepoints", "--out", str(tmp_path / "y.qdpx")])
    assert result.exit_code == 2 and "--for nvivo reads positions as utf16" in result.output


def test_nothing_to_export_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["export-qdpx", "--out", str(tmp_path / "x.qdpx")])
    assert result.exit_code == 2 and "nothing to export" in result.output
