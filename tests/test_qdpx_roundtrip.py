"""A researcher exports her NVivo project, lets codeur code it, and opens the result back in NVivo:
every source, code, user, case, memo and human coding is where it was, byte for byte, and the
machine's codings sit beside them as a user of their own, on the same sources and the same codes,
at the characters NVivo counts.

The NVivo-style project is built here by hand (so every byte that matters is visible): two text
sources with a byte-order mark, CRLF line endings and emoji outside the BMP; codes nested three
levels deep with names in French, Hungarian and Japanese; two users; a memo, a selection
annotation, source and case descriptions; a case coded on a whole source; a code coded on a whole
source; a PDF source with a coded region; a set. It is valid against REFI-QDA's Project.xsd."""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
import xmlschema
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.codebook import load_codebook
from pipeline.core.gold import read_gold
from pipeline.exchange.qdc import content_guid
from pipeline.exchange.qdpx import import_project
from pipeline.exchange.qdpx_project import export_kept_project
from pipeline.ingest.readers import read_transcript

SCHEMA = Path(__file__).parent / "data" / "refi-qda" / "Project.xsd"

CLAIRE, HUGO = "5C94BC9E-DB8C-4F1D-9CD6-E900C7440860", "70DAF61C-B6F0-4B5E-8C2F-548FDE3AD3D4"
STRATEGIE, PARTENAIRES, PROXIMITE, EXTERIEUR = (f"A1000000-0000-4000-8000-00000000000{i}" for i in range(1, 5))
SZINEK, SARGA, KANKEI, SHINRAI = (f"B2000000-0000-4000-8000-00000000000{i}" for i in range(1, 5))
CASE_PERRIN = "9D6A3E2B-7C1F-4B8E-9A2D-1F0E3C4B5A69"
AGE = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
PERRIN, MERCIER, ARTICLE = ("D4000000-0000-4000-8000-000000000001", "D4000000-0000-4000-8000-000000000002",
                            "D4000000-0000-4000-8000-000000000003")
MEMO = "E5000000-0000-4000-8000-000000000001"

PERRIN_TEXT = ("Intervieweur : Vous venez d'où ? 🙂\r\n"
               "Bernard Perrin : De la vallée, comme mon père. Les gars 👷 d'à côté, on se connaît depuis l'école.\r\n"
               "Intervieweur : Et vos clients ?\r\n"
               "Bernard Perrin : Le bureau d'études de Stuttgart vient tous les mois. On a dessiné la pièce avec eux.\r\n")
MERCIER_TEXT = ("Intervieweur : Vous parlez avec vos concurrents ?\r\n"
                "Mme Mercier : Jamais de la vie 😤, ils copieraient tout.\r\n"
                "Intervieweur : Même au pôle ?\r\n"
                "Mme Mercier : Au pôle on échange un peu, mais je me méfie.\r\n")


def utf16(text: str, index: int) -> int:
    """NVivo's position of a code-point index: UTF-16 code units (computed apart from pipeline.exchange.qdpx)."""
    return len(text[:index].encode("utf-16-le")) // 2


def sel(text: str, phrase: str, guid: str, user: str, codes: list[str], *, name: str | None = None,
        inner: str = "") -> str:
    start = text.index(phrase)
    codings = "".join(f'<Coding guid="{guid[:-2]}{i:02d}" creatingUser="{user}" creationDateTime='
                      f'"2024-03-14T10:12:00"><CodeRef targetGUID="{c}"/></Coding>' for i, c in enumerate(codes, 1))
    label = name if name is not None else (phrase if len(phrase) < 30 else phrase[:20] + "…")
    return (f'<PlainTextSelection guid="{guid}" name="{label}" startPosition="{utf16(text, start)}" '
            f'endPosition="{utf16(text, start + len(phrase))}" creatingUser="{user}" '
            f'creationDateTime="2024-03-14T10:12:00" modifyingUser="{user}" modifiedDateTime="2024-03-15T08:00:00">'
            f'{inner}{codings}</PlainTextSelection>\r\n')


HUMAN = [  # (source text, phrase, selection GUID, user, codes)
    (PERRIN_TEXT, "De la vallée, comme mon père.", "F1000000-0000-4000-8000-000000000100", CLAIRE, [PROXIMITE]),
    (PERRIN_TEXT, "Les gars 👷 d'à côté, on se connaît depuis l'école.", "F1000000-0000-4000-8000-000000000200",
     CLAIRE, [PROXIMITE, SHINRAI]),
    (PERRIN_TEXT, "Les gars 👷 d'à côté", "F1000000-0000-4000-8000-000000000300", HUGO, [SARGA]),
    (PERRIN_TEXT, "Le bureau d'études de Stuttgart vient tous les mois.", "F1000000-0000-4000-8000-000000000400",
     HUGO, [EXTERIEUR]),
    (MERCIER_TEXT, "Jamais de la vie 😤, ils copieraient tout.", "F1000000-0000-4000-8000-000000000500", CLAIRE,
     [KANKEI]),
]


def nvivo_qde() -> str:
    perrin = "".join(sel(t, p, g, u, c, inner="<Description>Annotation : il insiste.</Description>"
                         f'<NoteRef targetGUID="{MEMO}"/>' if i == 0 else "")
                     for i, (t, p, g, u, c) in enumerate(HUMAN) if t is PERRIN_TEXT)
    # NVivo does not place a Coding before a selection's Description; our fixture keeps the schema order.
    perrin = perrin.replace('<Description>Annotation : il insiste.</Description><NoteRef targetGUID="' + MEMO + '"/>'
                            '<Coding', '<Description>Annotation : il insiste.</Description><Coding', 1)
    perrin = perrin.replace('</Coding></PlainTextSelection>', f'</Coding><NoteRef targetGUID="{MEMO}"/>'
                                                               '</PlainTextSelection>', 1)
    mercier = "".join(sel(t, p, g, u, c) for t, p, g, u, c in HUMAN if t is MERCIER_TEXT)
    return f"""<?xml version="1.0" encoding="utf-8"?>\r
<Project xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="Thèse — PME de la vallée" origin="NVivo 12.6.0.959 (Windows)" creatingUserGUID="{CLAIRE}" creationDateTime="2024-03-01T09:00:00" modifyingUserGUID="{HUGO}" modifiedDateTime="2024-03-20T17:45:12" xmlns="urn:QDA-XML:project:1.0">\r
  <Users>\r
    <User guid="{CLAIRE}" name="Claire Martin" id="CM" />\r
    <User guid="{HUGO}" name="Hugo Ng" id="HN" />\r
  </Users>\r
  <CodeBook>\r
    <Codes>\r
      <Code guid="{STRATEGIE}" name="Stratégie" isCodable="true" color="#3366CC">\r
        <Description>Avec qui l'entreprise travaille &amp; pourquoi</Description>\r
        <Code guid="{PARTENAIRES}" name="Partenaires" isCodable="true">\r
          <Code guid="{PROXIMITE}" name="Proximité géographique" isCodable="true" color="#F781F3" />\r
          <Code guid="{EXTERIEUR}" name="Partenaires extérieurs" isCodable="true" color="#81BEF7" />\r
        </Code>\r
      </Code>\r
      <Code guid="{SZINEK}" name="Színek" isCodable="true">\r
        <Code guid="{SARGA}" name="sárga" isCodable="true" color="#FFFF00" />\r
      </Code>\r
      <Code guid="{KANKEI}" name="関係" isCodable="true">\r
        <NoteRef targetGUID="{MEMO}" />\r
        <Code guid="{SHINRAI}" name="信頼" isCodable="true" />\r
      </Code>\r
      <Code guid="{CASE_PERRIN}" name="Bernard Perrin" isCodable="true" />\r
    </Codes>\r
  </CodeBook>\r
  <Variables>\r
    <Variable guid="{AGE}" name="Âge" typeOfVariable="Integer" />\r
  </Variables>\r
  <Cases>\r
    <Case guid="{CASE_PERRIN}" name="Bernard Perrin">\r
      <Description>Décolleteur, 3ᵉ génération</Description>\r
      <VariableValue><VariableRef targetGUID="{AGE}" /><IntegerValue>58</IntegerValue></VariableValue>\r
    </Case>\r
  </Cases>\r
  <Sources>\r
    <TextSource guid="{{{PERRIN}}}" name="Entretien Perrin" plainTextPath="internal://{PERRIN}.txt" richTextPath="internal://{PERRIN}.docx" creatingUser="{CLAIRE}" creationDateTime="2024-03-01T09:05:00">\r
      <Description>Entretien du 12 mars, atelier</Description>\r
{perrin}      <Coding guid="0A1B2C3D-0000-4000-8000-00000000000A" creatingUser="{CLAIRE}"><CodeRef targetGUID="{CASE_PERRIN}" /></Coding>\r
      <Coding guid="0A1B2C3D-0000-4000-8000-00000000000B" creatingUser="{HUGO}"><CodeRef targetGUID="{STRATEGIE}" /></Coding>\r
    </TextSource>\r
    <TextSource guid="{MERCIER}" name="Entretien Mercier" plainTextPath="internal://{MERCIER}.txt" creatingUser="{HUGO}">\r
{mercier}    </TextSource>\r
    <PDFSource guid="{ARTICLE}" name="Article Le Messager.pdf" path="internal://{ARTICLE}.pdf">\r
      <PDFSelection guid="0A1B2C3D-0000-4000-8000-00000000000C" page="1" firstX="10" firstY="20" secondX="200" secondY="80" creatingUser="{HUGO}">\r
        <Coding guid="0A1B2C3D-0000-4000-8000-00000000000D" creatingUser="{HUGO}"><CodeRef targetGUID="{EXTERIEUR}" /></Coding>\r
      </PDFSelection>\r
    </PDFSource>\r
  </Sources>\r
  <Notes>\r
    <Note guid="{MEMO}" name="Mémo : confiance" creatingUser="{CLAIRE}"><PlainTextContent>Relire avec Hugo 🙂</PlainTextContent></Note>\r
  </Notes>\r
  <Sets>\r
    <Set guid="E5000000-0000-4000-8000-000000000002" name="Codes à revoir"><MemberCode targetGUID="{SARGA}" /></Set>\r
  </Sets>\r
</Project>\r
"""


def nvivo_project(tmp_path: Path) -> Path:
    path = tmp_path / "These.qdpx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", nvivo_qde().encode("utf-8"))
        zf.writestr(f"Sources/{PERRIN}.txt", b"\xef\xbb\xbf" + PERRIN_TEXT.encode("utf-8"))
        zf.writestr(f"Sources/{PERRIN}.docx", b"PK\x03\x04 not really a docx")
        zf.writestr(f"Sources/{MERCIER}.txt", b"\xef\xbb\xbf" + MERCIER_TEXT.encode("utf-8"))
        zf.writestr(f"Sources/{ARTICLE}.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    return path


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(SCHEMA)


@pytest.fixture
def imported(tmp_path):
    project = nvivo_project(tmp_path)
    out = tmp_path / "imported"
    report = import_project(project, out)
    return project, out, report


def entries(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def predictions(out: Path, rows: list[tuple[str, str, list[str], float]], model: str = "camembert-v3") -> Path:
    """Prediction rows as `codeur classify` writes them, on the imported transcripts."""
    cb = load_codebook(out / "codebook.yaml")
    by_label = {(c.label or c.name): c.name for d in cb.dimensions for c in d.codes}
    lines = []
    for doc, phrase, labels, p in rows:
        text = read_transcript(out / "transcripts" / f"{doc}.txt").text
        start = text.index(phrase)
        codes = [by_label[x] for x in labels]
        lines.append({"id": f"{doc}:{start}", "doc_id": doc, "start": start, "end": start + len(phrase),
                      "text": phrase, "codes": codes, "scores": {c: p for c in cb.codes} | {c: p for c in codes},
                      "model": model})
    path = out.parent / "pred.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    return path


MACHINE = [  # passages after CRLFs and emoji: a wrong convention would move them
    ("Entretien_Perrin", "On a dessiné la pièce avec eux.", ["Partenaires extérieurs"], 0.91),
    ("Entretien_Perrin", "on se connaît depuis l'école.", ["信頼", "Proximité géographique"], 0.83),
    ("Entretien_Mercier", "Au pôle on échange un peu, mais je me méfie.", ["関係"], 0.55),
]


# --- the project as it came in ----------------------------------------------------------------------

def test_the_hand_built_nvivo_project_is_valid_refi_qda(schema):
    schema.validate(nvivo_qde())


def test_import_reads_every_human_coding_at_its_words_and_names_what_it_skips(imported):
    _, out, report = imported
    assert report.positions.convention == "utf16"
    gold = {(g.coder, g.doc_id, g.text) for g in read_gold(out / "gold")}
    names = {CLAIRE: "Claire Martin", HUGO: "Hugo Ng"}
    docs = {id(PERRIN_TEXT): "Entretien_Perrin", id(MERCIER_TEXT): "Entretien_Mercier"}
    assert gold == {(names[u], docs[id(t)], p) for t, p, _, u, _ in HUMAN}
    # Original names in any script: the codebook's identifiers are ASCII, its labels the real names.
    cb = load_codebook(out / "codebook.yaml")
    labels = {c.label or c.name for d in cb.dimensions for c in d.codes}
    assert {"sárga", "信頼", "Proximité géographique", "関係"} <= labels
    assert "Stratégie" in {d.label for d in cb.dimensions}
    # The case keeps its name; the whole-source coding, the PDF and what codeur keeps unread are named.
    assert (out / "cases.csv").read_text(encoding="utf-8").splitlines() == [
        "doc_id,case,Âge", "Entretien_Mercier,,", "Entretien_Perrin,Bernard Perrin,58"]
    assert "1 coding(s) of whole sources skipped (no text selection): Entretien_Perrin" in report.notes
    assert "1 non-text source(s) not imported (Article Le Messager.pdf), 1 coding(s) in them skipped" in report.notes
    assert report.kept["memo(s)"] == 1 and report.kept["selection annotation(s)"] == 1
    assert report.kept["source description(s)"] == 1 and report.kept["case description(s)"] == 1
    assert report.kept["set(s)"] == 1
    pdf = next(s for s in report.sources if s.name.endswith(".pdf"))
    assert pdf.status == "skipped" and "kept in the project with its 1 coding(s)" in pdf.reason


def test_the_map_says_which_guid_is_which_document_and_code(imported):
    _, out, _ = imported
    record = json.loads((out / "project" / "map.json").read_text(encoding="utf-8"))
    sources = {s["name"]: s for s in record["sources"]}
    assert sources["Entretien Perrin"]["guid"] == "{" + PERRIN + "}"  # as written, braces kept
    assert (sources["Entretien Perrin"]["doc_id"], sources["Entretien Perrin"]["bom"],
         sources["Entretien Perrin"]["line_endings"], sources["Entretien Perrin"]["aligned"]) == \
        ("Entretien_Perrin", "utf-8", "crlf", True)
    assert sources["Article Le Messager.pdf"]["doc_id"] is None
    codes = {c["guid"]: c for c in record["codes"]}
    assert codes[SARGA]["path"] == ["Színek", "sárga"] and codes[SARGA]["code"] == "sarga"
    assert codes[PROXIMITE]["path"] == ["Stratégie", "Partenaires", "Proximité géographique"]
    assert codes[CASE_PERRIN]["code"] is None  # a case, not a code
    assert record["positions"]["convention"] == "utf16" and record["tool"] == "nvivo"


# --- back without predictions: the same project ---------------------------------------------------------

def test_export_without_predictions_gives_back_the_same_project_byte_for_byte(imported, tmp_path, schema):
    project, out, _ = imported
    result = CliRunner().invoke(app, ["export-qdpx", "--project", str(out), "--out", str(tmp_path / "back.qdpx")])
    assert result.exit_code == 0, result.output
    assert entries(tmp_path / "back.qdpx") == entries(project)  # names, order, every byte of every entry
    schema.validate(dict(entries(tmp_path / "back.qdpx"))["project.qde"].decode("utf-8"))


# --- back with the machine's coding ---------------------------------------------------------------------

def machine_export(out: Path, tmp_path: Path, *extra: str, name: str = "coded.qdpx") -> tuple[Path, str]:
    pred = predictions(out, MACHINE)
    result = CliRunner().invoke(app, ["export-qdpx", "--project", str(out), "--pred", str(pred),
                                      "--out", str(tmp_path / name), *extra])
    assert result.exit_code == 0, result.output
    return tmp_path / name, result.output


def machine_fragments(qde: str) -> tuple[str, str]:
    """The user and selections codeur added, and the project.qde without them."""
    g = content_guid("user", "codeur camembert-v3")
    pattern = re.compile(rf'\r\n<User guid="{g}"[^>]*/>|\r\n<PlainTextSelection [^>]*creatingUser="{g}">.*?'
                         r"</PlainTextSelection>", re.S)
    return pattern.findall(qde), pattern.sub("", qde)


def test_machine_codings_are_added_as_their_own_user_and_nothing_else_changes(imported, tmp_path, schema):
    project, out, _ = imported
    coded, output = machine_export(out, tmp_path)
    assert "codeur camembert-v3 (3 passages), 4 coding(s); positions as utf16" in output
    before, after = dict(entries(project)), dict(entries(coded))
    assert [n for n, _ in entries(coded)] == [n for n, _ in entries(project)]
    assert all(after[n] == before[n] for n in before if n != "project.qde")  # sources: same bytes, BOM, CRLF
    qde = after["project.qde"].decode("utf-8")
    schema.validate(qde)
    added, rest = machine_fragments(qde)
    assert rest == before["project.qde"].decode("utf-8")  # every human coding, memo, case, date where it was
    assert len(added) == 4 and 'name="codeur camembert-v3"' in added[0]


def test_machine_codings_point_at_the_original_codes_and_land_on_the_words_nvivo_counts(imported, tmp_path):
    _, out, _ = imported
    coded, _ = machine_export(out, tmp_path)
    qde = dict(entries(coded))["project.qde"].decode("utf-8")
    texts = {PERRIN.lower(): PERRIN_TEXT, MERCIER.lower(): MERCIER_TEXT}
    by_phrase = {p: labels for _, p, labels, _ in MACHINE}
    guid_of = {"Partenaires extérieurs": EXTERIEUR, "信頼": SHINRAI, "Proximité géographique": PROXIMITE,
               "関係": KANKEI}
    seen = 0
    for source, body in re.findall(r'<TextSource guid="\{?([0-9A-F-]+)\}?"(.*?)</TextSource>', qde, re.S):
        text = texts[source.lower()]
        units = text.encode("utf-16-le")
        for start, end, inner in re.findall(r'<PlainTextSelection [^>]*startPosition="(\d+)" endPosition="(\d+)" '
                                            r'creatingUser="' + content_guid("user", "codeur camembert-v3")
                                            + r'">(.*?)</PlainTextSelection>', body, re.S):
            covered = units[2 * int(start):2 * int(end)].decode("utf-16-le")  # read as NVivo reads it
            assert covered in by_phrase, covered
            targets = re.findall(r'<CodeRef targetGUID="([^"]+)"/>', inner)
            assert targets == [guid_of[x] for x in by_phrase[covered]]
            assert re.search(r"<Description>codeur camembert-v3: .*\d\.\d\d</Description>", inner)
            seen += 1
    assert seen == 3
    assert "Partenaires extérieurs 0.91" in qde and "信頼 0.83" in qde  # scores, under the researcher's names


def test_the_coded_project_comes_back_into_codeur_with_the_machine_as_a_coder(imported, tmp_path):
    _, out, _ = imported
    coded, _ = machine_export(out, tmp_path)
    again = tmp_path / "again"
    report = import_project(coded, again)
    assert report.positions.convention == "utf16"
    gold = {(g.coder, g.doc_id, g.text) for g in read_gold(again / "gold")}
    first = {(g.coder, g.doc_id, g.text) for g in read_gold(out / "gold")}
    assert {x for x in gold if x[0] != "codeur camembert-v3"} == first
    assert {x[1:] for x in gold if x[0] == "codeur camembert-v3"} == {(d, p) for d, p, _, _ in MACHINE}
    # Exporting the same predictions into the returned project adds nothing twice.
    pred = predictions(again, MACHINE)
    back = export_kept_project(again, tmp_path / "twice.qdpx", pred=pred)
    assert back.added == {} and back.already == 3
    assert entries(tmp_path / "twice.qdpx") == entries(coded)


def test_the_same_predictions_give_the_same_bytes(imported, tmp_path):
    _, out, _ = imported
    a, _ = machine_export(out, tmp_path, name="a.qdpx")
    b, _ = machine_export(out, tmp_path, name="b.qdpx")
    assert a.read_bytes() == b.read_bytes()


def test_min_score_keeps_only_the_confident_codes(imported, tmp_path):
    _, out, _ = imported
    coded, output = machine_export(out, tmp_path, "--min-score", "0.8")
    assert "codeur camembert-v3 (2 passages), 3 coding(s)" in output and "1 code(s) under --min-score 0.8" in output
    assert "関係 0.55" not in dict(entries(coded))["project.qde"].decode("utf-8")


@pytest.mark.parametrize("tool,convention", [("atlasti", "crlf-as-one"), ("maxqda", "codepoints")])
def test_for_another_tool_positions_follow_that_tool(imported, tmp_path, tool, convention):
    _, out, _ = imported
    coded, output = machine_export(out, tmp_path, "--for", tool, "--user", "codeur")
    assert f"positions as {convention}" in output
    qde = dict(entries(coded))["project.qde"].decode("utf-8")
    g = content_guid("user", "codeur")
    (start, end), = re.findall(rf'startPosition="(\d+)" endPosition="(\d+)" creatingUser="{g}">\s*<Description>'
                               r"codeur: Partenaires ext", qde)
    text = PERRIN_TEXT.replace("\r\n", "\n") if convention == "crlf-as-one" else PERRIN_TEXT
    assert text[int(start):int(end)] == "On a dessiné la pièce avec eux."


# --- refused, nothing written -----------------------------------------------------------------------------

@pytest.mark.parametrize("change,message", [
    (lambda rows: rows[0].update(doc_id="E99"), "row 1: document 'E99' is not a text source of the kept project"),
    (lambda rows: rows[0].update(codes=["pas_un_code"]), "row 1: code 'pas_un_code' is no code of the kept project"),
    (lambda rows: rows[1].update(text="autre chose"), "row 2: the passage text differs from the project's source"),
])
def test_predictions_that_do_not_fit_the_project_are_refused(imported, tmp_path, change, message):
    _, out, _ = imported
    pred = predictions(out, MACHINE)
    rows = [json.loads(line) for line in pred.read_text(encoding="utf-8").splitlines()]
    change(rows)
    pred.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["export-qdpx", "--project", str(out), "--pred", str(pred),
                                      "--out", str(tmp_path / "x.qdpx")])
    assert result.exit_code == 2 and message in result.output and "pred.jsonl" in result.output, result.output
    assert not (tmp_path / "x.qdpx").exists()


def test_a_kept_project_changed_after_the_import_is_refused(imported, tmp_path):
    _, out, _ = imported
    kept = out / "project" / "original.qdpx"
    kept.write_bytes(kept.read_bytes() + b"\0")
    result = CliRunner().invoke(app, ["export-qdpx", "--project", str(out), "--out", str(tmp_path / "x.qdpx")])
    assert result.exit_code == 2 and "changed since it was imported" in result.output
    assert not (tmp_path / "x.qdpx").exists()


def test_a_map_edited_to_name_another_entry_is_refused(imported, tmp_path):
    _, out, _ = imported
    path = out / "project" / "map.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["sources"][0]["entry"] = "../../etc/passwd"
    path.write_text(json.dumps(record), encoding="utf-8")
    result = CliRunner().invoke(app, ["export-qdpx", "--project", str(out), "--pred", str(predictions(out, MACHINE)),
                                      "--out", str(tmp_path / "x.qdpx")])
    assert result.exit_code == 2 and "which the kept project does not hold" in result.output, result.output
    assert not (tmp_path / "x.qdpx").exists()


def test_a_folder_without_a_kept_project_says_how_to_get_one(tmp_path):
    result = CliRunner().invoke(app, ["export-qdpx", "--project", str(tmp_path), "--out", str(tmp_path / "x.qdpx")])
    assert result.exit_code == 2 and "codeur import-qdpx" in result.output


def test_gold_is_not_given_again_with_the_project(imported, tmp_path):
    _, out, _ = imported
    result = CliRunner().invoke(app, ["export-qdpx", "--project", str(out), "--gold", str(out / "gold"),
                                      "--out", str(tmp_path / "x.qdpx")])
    assert result.exit_code == 2 and "--gold cannot be used with --project" in result.output


def test_a_forced_wrong_convention_on_an_nvivo_project_is_refused(tmp_path):
    """The issue's case: `--positions crlf-as-one` on an NVivo file read 0 spans right, silently."""
    result = CliRunner().invoke(app, ["import-qdpx", str(nvivo_project(tmp_path)), "--out", str(tmp_path / "o"),
                                      "--positions", "crlf-as-one"])
    assert result.exit_code == 2 and "These.qdpx" in result.output and "detected: utf16" in result.output
    assert not (tmp_path / "o").exists()
