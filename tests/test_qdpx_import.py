"""A researcher exports a project from NVivo, ATLAS.ti, MAXQDA or QualCoder and runs
`codeur import-qdpx`: she gets transcripts whose offsets mean what the project's positions meant,
gold spans per coder, a codebook codeur loads, and the document variables in cases.csv.

The foreign projects are built here by hand after what those tools write (see
tests/data/refi-qda/README.md), so every byte that matters (CRLF, BOM, emoji) is visible."""
from __future__ import annotations

import csv
import json
import uuid
import zipfile
from html import escape
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.codebook import load_codebook
from pipeline.core.errors import InputFileError
from pipeline.core.gold import read_gold, validate_gold
from pipeline.exchange.positions import POSITIONS, PositionScale, position_writer
from pipeline.exchange.qdpx import import_project
from pipeline.ingest.readers import read_transcript

# QualCoder writes lower-case uuid4 GUIDs; NVivo and ATLAS.ti upper case.
CLAIRE, HUGO = "5c94bc9e-db8c-4f1d-9cd6-e900c7440860", "70daf61c-b6f0-4b5e-8c2f-548fde3ad3d4"
STRATEGIE, PROXIMITE, EXTERIEUR = ("a1000000-0000-4000-8000-000000000001", "a1000000-0000-4000-8000-000000000002",
                                   "a1000000-0000-4000-8000-000000000003")
RELATION, CONFIANCE, ANCIENNE, CLIMAT, MEFIANCE, DIVERS = (f"b2000000-0000-4000-8000-00000000000{i}"
                                                          for i in range(6))
SECTEUR, EFFECTIF = "c3000000-0000-4000-8000-000000000001", "c3000000-0000-4000-8000-000000000002"
PERRIN, MERCIER = "d4000000-0000-4000-8000-000000000001", "d4000000-0000-4000-8000-000000000002"

PERRIN_TEXT = ("Enquêtrice : Vous travaillez avec vos voisins ?\n"
               "M. Perrin : Avec les gars d'à côté on se connaît depuis l'école. "
               "Une poignée de main et c'est réglé.\n"
               "Enquêtrice : Et vos clients ?\n"
               "M. Perrin : Le bureau d'études de Stuttgart vient tous les mois.\n"
               "On a dessiné la pièce avec eux.\n")
MERCIER_TEXT = ("Enquêteur : Vous parlez avec vos concurrents ?\n"
                "Mme Mercier : Jamais de la vie, ils copieraient tout.\n"
                "Enquêteur : Même au pôle ?\n"
                "Mme Mercier : Au pôle on échange un peu, mais je me méfie.\n")


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def position(text: str, index: int, convention: str) -> int:
    """How each tool counts: computed independently of pipeline.exchange.qdpx."""
    if convention == "utf16":
        return len(text[:index].encode("utf-16-le")) // 2
    if convention == "crlf-as-one":
        return len(text[:index].replace("\r\n", "\n"))
    return index


def selection(text: str, phrase: str, user: str, codes: list[str], *, convention: str, name: str | None = None,
              guid: str = "", n: int = 1) -> str:
    """A PlainTextSelection as QualCoder writes it (name = the selected text)."""
    start = text.index(crlf(phrase) if "\r\n" in text else phrase)
    end = start + len(crlf(phrase) if "\r\n" in text else phrase)
    guid = guid or str(uuid.uuid5(uuid.NAMESPACE_OID, f"{phrase}|{user}|{n}"))
    codings = "".join(f'<Coding guid="{uuid.uuid5(uuid.NAMESPACE_OID, guid + c)}" '
                      f'creatingUser="{user}" >\n<CodeRef targetGUID="{c}" />\n</Coding>\n' for c in codes)
    label = phrase if name is None else name
    return (f'<PlainTextSelection guid="{guid}" startPosition="{position(text, start, convention)}" '
            f'endPosition="{position(text, end, convention)}" name="{escape(label)}" creatingUser="{user}" '
            f'creationDateTime="2024-03-14T10:12:00Z">\n{codings}</PlainTextSelection>\n')


def write_qdpx(path: Path, qde: str, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde.encode("utf-8"))
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def qualcoder_codebook() -> str:
    return f"""<CodeBook><Codes>
<Code guid="{STRATEGIE}" name="Stratégie" isCodable="false"><Description>Avec qui l'on travaille</Description>
<Code guid="{PROXIMITE}" name="Partenaires de proximité" isCodable="true" color="#F781F3">
<Description>Échange avec des partenaires géographiquement proches.</Description></Code>
<Code guid="{EXTERIEUR}" name="Partenaires extérieurs" isCodable="true" color="#81BEF7" /></Code>
<Code guid="{RELATION}" name="Relation" isCodable="false">
<Code guid="{CONFIANCE}" name="Confiance" isCodable="true"><Description>Confiance, réciprocité.</Description>
<Code guid="{ANCIENNE}" name="Confiance ancienne" isCodable="true" /></Code>
<Code guid="{CLIMAT}" name="Climat" isCodable="false">
<Code guid="{MEFIANCE}" name="Méfiance" isCodable="true" /></Code></Code>
<Code guid="{DIVERS}" name="Divers" isCodable="true" />
</Codes></CodeBook>"""


def qualcoder_project(tmp_path: Path) -> Path:
    """QualCoder exporting for MAXQDA: sources with a BOM and CRLF, positions counted on the "\\n"
    text (CRLF as one), variables on the TextSource and on a nameless case with one SourceRef."""
    perrin, mercier = crlf(PERRIN_TEXT), crlf(MERCIER_TEXT)
    conv = "crlf-as-one"
    perrin_sels = (
        selection(perrin, "Avec les gars d'à côté on se connaît depuis l'école.", CLAIRE, [PROXIMITE, CONFIANCE],
                  convention=conv)
        + selection(perrin, "Une poignée de main et c'est réglé.", CLAIRE, [ANCIENNE], convention=conv)
        + selection(perrin, "Avec les gars d'à côté", HUGO, [PROXIMITE], convention=conv)
        + selection(perrin, "Le bureau d'études de Stuttgart vient tous les mois.\nOn a dessiné la pièce avec eux.",
                    HUGO, [EXTERIEUR], convention=conv))
    mercier_sels = (
        selection(mercier, "Jamais de la vie, ils copieraient tout.", CLAIRE, [MEFIANCE, DIVERS], convention=conv)
        + selection(mercier, "Au pôle on échange un peu", HUGO, [PROXIMITE], convention=conv))
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="PME du pôle.qda" origin="QualCoder 3.6" creatingUserGUID="{CLAIRE}" creationDateTime="2024-03-01T09:00:00Z" xmlns="urn:QDA-XML:project:1.0">
<Users>
<User guid="{CLAIRE}" name="Claire" />
<User guid="{HUGO}" name="Hugo" />
</Users>
{qualcoder_codebook()}
<Variables>
<Variable guid="{SECTEUR}" name="Secteur" typeOfVariable="Text" >
<Description />
</Variable>
<Variable guid="{EFFECTIF}" name="Effectif" typeOfVariable="Float" >
<Description />
</Variable>
</Variables>
<Cases>
<Case guid="e7000000-0000-4000-8000-000000000001">
<VariableValue>
<VariableRef targetGUID="{SECTEUR}" />
<TextValue>mécatronique</TextValue>
</VariableValue>
<VariableValue>
<VariableRef targetGUID="{EFFECTIF}" />
<FloatValue>12</FloatValue>
</VariableValue>
<SourceRef targetGUID="{MERCIER}"/>
</Case>
</Cases>
<Sources>
<TextSource plainTextPath="internal://{PERRIN}.txt" creatingUser="{CLAIRE}" creationDateTime="2024-03-01T09:05:00Z" guid="{PERRIN}" name="Entretien Perrin.docx">
{perrin_sels}<VariableValue>
<VariableRef targetGUID="{SECTEUR}" />
<TextValue>décolletage</TextValue>
</VariableValue>
</TextSource>
<TextSource plainTextPath="internal://{MERCIER}.txt" creatingUser="{CLAIRE}" creationDateTime="2024-03-01T09:06:00Z" guid="{MERCIER}" name="Entretien Mercier.docx">
{mercier_sels}</TextSource>
</Sources>
</Project>"""
    return write_qdpx(tmp_path / "pme.qdpx", qde, {
        f"sources/{PERRIN}.txt": b"\xef\xbb\xbf" + perrin.encode("utf-8"),
        f"sources/{MERCIER}.txt": b"\xef\xbb\xbf" + mercier.encode("utf-8"),
    })


def gold_by_coder(out: Path) -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
    return {f.stem: [(g.doc_id, g.text, g.codes) for g in read_gold(f)] for f in sorted((out / "gold").glob("*.jsonl"))}


# --- a whole foreign project ------------------------------------------------------------------------

def test_a_qualcoder_project_exported_for_maxqda_becomes_transcripts_gold_codebook_and_cases(tmp_path):
    out = tmp_path / "import"
    report = import_project(qualcoder_project(tmp_path), out)

    # Transcripts: the project's plain text byte for byte (CRLF kept, BOM not part of the text).
    assert (out / "transcripts" / "Entretien_Perrin.txt").read_bytes() == crlf(PERRIN_TEXT).encode("utf-8")
    assert (out / "transcripts" / "Entretien_Mercier.txt").read_bytes() == crlf(MERCIER_TEXT).encode("utf-8")

    # Gold: one file per coder, spans of codeur's plain text covering what each coder selected.
    assert report.positions.convention == "crlf-as-one"
    gold = gold_by_coder(out)
    assert gold["Claire"] == [
        ("Entretien_Mercier", "Jamais de la vie, ils copieraient tout.", ("mefiance", "divers")),
        ("Entretien_Perrin", "Avec les gars d'à côté on se connaît depuis l'école.",
         ("partenaires_de_proximite", "confiance")),
        ("Entretien_Perrin", "Une poignée de main et c'est réglé.", ("confiance_ancienne",)),
    ]
    assert gold["Hugo"] == [
        ("Entretien_Mercier", "Au pôle on échange un peu", ("partenaires_de_proximite",)),
        ("Entretien_Perrin", "Avec les gars d'à côté", ("partenaires_de_proximite",)),
        ("Entretien_Perrin", "Le bureau d'études de Stuttgart vient tous les mois.\nOn a dessiné la pièce avec eux.",
         ("partenaires_exterieurs",)),
    ]

    # Codebook: categories → dimensions, nested codes flattened, loose codes in their own dimension.
    cb = load_codebook(out / "codebook.yaml")
    assert [(d.name, [c.name for c in d.codes]) for d in cb.dimensions] == [
        ("strategie", ["partenaires_de_proximite", "partenaires_exterieurs"]),
        ("relation", ["confiance", "confiance_ancienne", "mefiance"]),
        ("codes", ["divers"]),
    ]
    assert cb.code("partenaires_de_proximite").definition == "Échange avec des partenaires géographiquement proches."
    assert cb.code("partenaires_de_proximite").label == "Partenaires de proximité"
    # The names the researcher sees stay: a category's description is not its label; no filler text.
    assert cb.dimensions[0].label == "Stratégie" and cb.dimensions[2].label == "Codes without a category"
    assert cb.code("partenaires_exterieurs").definition == "Partenaires extérieurs"
    assert cb.language == "und"

    # The gold is valid codeur gold: validate_gold against the written transcripts and codebook.
    transcripts = {p.stem: read_transcript(p) for p in (out / "transcripts").glob("*.txt")}
    assert validate_gold(read_gold(out / "gold"), transcripts, cb) == []

    # Cases: document variables from the TextSource (QualCoder) and from the nameless case (MAXQDA).
    with open(out / "cases.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [{"doc_id": "Entretien_Mercier", "Secteur": "mécatronique", "Effectif": "12"},
                    {"doc_id": "Entretien_Perrin", "Secteur": "décolletage", "Effectif": ""}]
    assert any("flattened" in n for n in report.notes)


def test_each_span_reads_back_through_codeurs_own_reader(tmp_path):
    out = tmp_path / "import"
    import_project(qualcoder_project(tmp_path), out)
    for span in read_gold(out / "gold"):
        transcript = read_transcript(out / "transcripts" / f"{span.doc_id}.txt")
        assert span.span.of(transcript.text) == span.text


def test_names_that_differ_from_codeurs_come_with_a_mapping_file_to_edit(tmp_path):
    project = qualcoder_project(tmp_path)
    import_project(project, tmp_path / "first")
    mapping = yaml.safe_load((tmp_path / "first" / "code-mapping.yaml").read_text(encoding="utf-8"))
    assert mapping["Partenaires de proximité"] == "partenaires_de_proximite"

    # She edits it: our names for two codes, 'Divers' left out, then imports again with it.
    mapping.update({"Partenaires de proximité": "proximite", PERRIN.upper(): "x",  # an unknown key is harmless
                    "Partenaires extérieurs": "exterieur", "Divers": None})
    edited = tmp_path / "map.yaml"
    edited.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["import-qdpx", str(project), "--out", str(tmp_path / "second"),
                                 "--mapping", str(edited)])
    assert result.exit_code == 0, result.output
    cb = load_codebook(tmp_path / "second" / "codebook.yaml")
    assert cb.codes == ["proximite", "exterieur", "confiance", "confiance_ancienne", "mefiance"]
    gold = gold_by_coder(tmp_path / "second")
    assert ("Entretien_Mercier", "Jamais de la vie, ils copieraient tout.", ("mefiance",)) in gold["Claire"]
    assert "1 coding(s) at codes the mapping leaves out skipped" in result.output


def test_a_mapping_that_names_a_code_badly_is_refused_with_the_key(tmp_path):
    bad = tmp_path / "map.yaml"
    bad.write_text("Confiance: Confiance!\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import-qdpx", str(qualcoder_project(tmp_path)), "--out", str(tmp_path / "o"),
                                      "--mapping", str(bad)])
    assert result.exit_code == 2
    assert "map.yaml" in result.output and "'Confiance'" in result.output


def test_the_import_command_says_what_it_did(tmp_path):
    result = CliRunner().invoke(app, ["import-qdpx", str(qualcoder_project(tmp_path)), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "positions: crlf-as-one" in result.output
    assert "Claire (3 spans)" in result.output and "Hugo (3 spans)" in result.output
    assert "3 dimension(s), 6 code(s)" in result.output


# --- positions: the three conventions -----------------------------------------------------------------

EMOJI_TEXT = crlf("Enquêtrice : Bonjour 🙂 vous travaillez avec vos voisins ?\n"
                  "M. Perrin : Avec les gars 👷 d'à côté on se connaît depuis l'école.\n"
                  "Enquêtrice : Et ailleurs ?\n"
                  "M. Perrin : Le bureau d'études de Stuttgart vient tous les mois.\n")
EMOJI_PHRASES = ["Avec les gars 👷 d'à côté", "on se connaît depuis l'école", "Le bureau d'études de Stuttgart",
                 "tous les mois"]


def one_source_project(tmp_path: Path, *, convention: str, origin: str = "", names: bool = True,
                       folder: str = "sources", text: str = EMOJI_TEXT, phrases=EMOJI_PHRASES,
                       bom: bool = False) -> Path:
    sels = "".join(selection(text, p, CLAIRE, [PROXIMITE], convention=convention, name=None if names else f"Q{i}")
                   for i, p in enumerate(phrases))
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="{origin}">
<Users><User guid="{CLAIRE}" name="Claire"/></Users>
<CodeBook><Codes><Code guid="{PROXIMITE}" name="proximite" isCodable="true"/></Codes></CodeBook>
<Sources><TextSource guid="{PERRIN}" name="E01" plainTextPath="internal://{PERRIN}.txt">{sels}</TextSource></Sources>
</Project>"""
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    return write_qdpx(tmp_path / f"{convention}.qdpx", qde, {f"{folder}/{PERRIN}.txt": data})


@pytest.mark.parametrize("convention", ["codepoints", "utf16", "crlf-as-one"])
@pytest.mark.parametrize("given", [True, False], ids=["given", "detected"])
def test_positions_in_each_convention_land_on_the_selected_words(tmp_path, convention, given):
    out = tmp_path / "o"
    report = import_project(one_source_project(tmp_path, convention=convention), out,
                            positions=convention if given else None)
    assert report.positions.convention == convention
    assert [g.text for g in read_gold(out / "gold")] == EMOJI_PHRASES


@pytest.mark.parametrize("convention,origin", [
    ("utf16", "NVivo 12.6"), ("crlf-as-one", "ATLAS.ti for Windows 23.2"), ("codepoints", "MAXQDA 2022")])
def test_without_selection_names_word_boundaries_and_the_tool_decide(tmp_path, convention, origin):
    out = tmp_path / "o"
    report = import_project(one_source_project(tmp_path, convention=convention, origin=origin, names=False), out)
    assert report.positions.convention == convention
    assert [g.text for g in read_gold(out / "gold")] == EMOJI_PHRASES


def test_crlf_counted_as_two_is_the_standard_and_as_one_is_atlas(tmp_path):
    """The same selection of the second line, written both ways, lands on the same words."""
    text = crlf("Enquêtrice : Et vos voisins ?\nM. Perrin : On se connaît depuis l'école.\n")
    for convention, expected in (("codepoints", 43), ("crlf-as-one", 42)):
        project = one_source_project(tmp_path, convention=convention, text=text, phrases=["On se connaît"])
        with zipfile.ZipFile(project) as zf:
            assert f'startPosition="{expected}"' in zf.read("project.qde").decode()
        import_project(project, tmp_path / convention, positions=convention)
        assert [g.text for g in read_gold(tmp_path / convention / "gold")] == ["On se connaît"]


def test_a_wrong_convention_is_refused_not_silently_shifted(tmp_path):
    """Forcing code points on an NVivo-style project would read every coding after the first emoji
    at shifted characters: refused with one line naming the file and the convention that fits."""
    out = tmp_path / "o"
    with pytest.raises(InputFileError) as caught:
        import_project(one_source_project(tmp_path, convention="utf16"), out, positions="codepoints")
    message = str(caught.value)
    assert "utf16.qdpx" in message and "--positions codepoints" in message and "detected: utf16" in message
    assert "\n" not in message and not out.exists()


def test_a_wrong_convention_on_a_few_selections_is_reported(tmp_path):
    """Too little evidence to refuse (one selection moves): imported, with a warning on that source."""
    out = tmp_path / "o"
    report = import_project(one_source_project(tmp_path, convention="utf16", phrases=EMOJI_PHRASES[:1]), out,
                            positions="codepoints")
    warnings = report.sources[0].warnings
    assert any("differ from the text they cover" in w for w in warnings), warnings
    assert any("--positions codepoints: 0/1 of the selections it moves fit the text" in n for n in report.notes)


# --- vendor quirks --------------------------------------------------------------------------------------

def nvivo_project(tmp_path: Path) -> Path:
    """NVivo 12: `Sources/`, upper-case GUIDs in braces, BOM, UTF-16 positions, names cut with '…',
    the interviewee as a case that is also listed as a code, case coding as a Coding at the case."""
    text = crlf("Intervieweur : Vous venez d'où ? 🙂\nBernard Perrin : De la vallée, comme mon père.\n")
    case_guid = "9D6A3E2B-7C1F-4B8E-9A2D-1F0E3C4B5A69"
    code_guid = "{" + PROXIMITE.upper() + "}"
    sel = selection(text, "De la vallée, comme mon père.", CLAIRE.upper(), [code_guid], convention="utf16",
                    name="De la vallée, comme…")
    sel = sel.replace("</PlainTextSelection>", f'<Coding guid="0A1B2C3D-0000-4000-8000-000000000009" '
                                               f'creatingUser="{CLAIRE.upper()}"><CodeRef targetGUID="{case_guid}"/>'
                                               "</Coding></PlainTextSelection>")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Thèse" origin="NVivo 12.6.0.959 (Windows)">
<Users><User guid="{CLAIRE.upper()}" name="Claire Martin" id="CM"/></Users>
<CodeBook><Codes>
<Code guid="{code_guid}" name="Proximité" isCodable="true"/>
<Code guid="{case_guid}" name="Bernard Perrin" isCodable="true"/>
</Codes></CodeBook>
<Variables><Variable guid="3F2504E0-4F89-11D3-9A0C-0305E82C3301" name="Cases:Âge" typeOfVariable="Integer"/></Variables>
<Cases><Case guid="{case_guid}" name="Bernard Perrin">
<VariableValue><VariableRef targetGUID="3F2504E0-4F89-11D3-9A0C-0305E82C3301"/><IntegerValue>58</IntegerValue></VariableValue>
</Case></Cases>
<Sources><TextSource guid="{{{PERRIN.upper()}}}" name="Perrin" plainTextPath="internal://{PERRIN.upper()}.txt">
{sel}<Coding guid="0A1B2C3D-0000-4000-8000-00000000000A" creatingUser="{CLAIRE.upper()}"><CodeRef targetGUID="{case_guid}"/></Coding>
</TextSource></Sources>
</Project>"""
    return write_qdpx(tmp_path / "nvivo.qdpx", qde,
                      {f"Sources/{PERRIN.upper()}.txt": b"\xef\xbb\xbf" + text.encode("utf-8")})


def test_nvivo_sources_folder_capitalised_utf16_positions_and_case_coding_skipped(tmp_path):
    out = tmp_path / "o"
    report = import_project(nvivo_project(tmp_path), out)
    assert report.positions.convention == "utf16"
    assert gold_by_coder(out) == {"Claire_Martin": [("Perrin", "De la vallée, comme mon père.", ("proximite",))]}
    # The case is not a code, and its coding is skipped with a note.
    assert load_codebook(out / "codebook.yaml").codes == ["proximite"]
    assert "2 coding(s) at a case skipped (NVivo case coding: not text coding)" in report.notes
    # Coding the whole source at the case is how NVivo says whose interview it is: cases.csv follows,
    # with the case's name.
    assert (out / "cases.csv").read_text(encoding="utf-8") == "doc_id,case,Cases:Âge\nPerrin,Bernard Perrin,58\n"


def test_selection_name_cut_with_an_ellipsis_still_identifies_the_convention(tmp_path):
    report = import_project(nvivo_project(tmp_path), tmp_path / "o")
    assert "1/1 selections match their name" in report.positions.reason


def test_inline_plain_text_content_is_imported(tmp_path):
    text = "Enquêtrice : Et vos voisins ?\nM. Perrin : On se connaît depuis l'école.\n"
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p">
<Users><User guid="{HUGO}" name="Hugo"/></Users>
<CodeBook><Codes><Code guid="{CONFIANCE}" name="confiance" isCodable="true"/></Codes></CodeBook>
<Sources><TextSource guid="{PERRIN}" name="E02"><PlainTextContent>{escape(text)}</PlainTextContent>
{selection(text, "On se connaît depuis l'école.", HUGO, [CONFIANCE], convention="codepoints")}</TextSource></Sources>
</Project>"""
    out = tmp_path / "o"
    import_project(write_qdpx(tmp_path / "inline.qdpx", qde, {}), out)
    assert (out / "transcripts" / "E02.txt").read_text(encoding="utf-8") == text
    assert gold_by_coder(out) == {"Hugo": [("E02", "On se connaît depuis l'école.", ("confiance",))]}


def test_relative_and_unusual_paths(tmp_path):
    text = "Enquêtrice : Et vos voisins ?\nM. Perrin : On se connaît depuis l'école.\n"
    sel = selection(text, "On se connaît", HUGO, [CONFIANCE], convention="codepoints")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p" basePath="C:/Users/claire/Projets">
<CodeBook><Codes><Code guid="{CONFIANCE}" name="confiance" isCodable="true"/></Codes></CodeBook>
<Sources>
<TextSource guid="{PERRIN}" name="E03.txt" plainTextPath="relative://Sources/E03.txt">{sel}</TextSource>
<TextSource guid="{MERCIER}" name="E04" plainTextPath="absolute://C:/Users/claire/E04.txt"/>
<PDFSource guid="{DIVERS}" name="article.pdf" path="internal://{DIVERS}.pdf"/>
</Sources></Project>"""
    out = tmp_path / "o"
    report = import_project(write_qdpx(tmp_path / "rel.qdpx", qde, {"sources/E03.txt": text.encode()}), out)
    status = {s.name: (s.status, s.reason) for s in report.sources}
    assert status["E03.txt"] == ("ok", "")
    assert status["E04"][0] == "skipped" and "outside the project" in status["E04"][1]
    assert status["article.pdf"] == ("skipped", "PDFSource: codeur reads text sources only; kept in the project")
    assert "1 non-text source(s) not imported (article.pdf)" in report.notes
    # No user in the project: the coder is the selection's user GUID.
    assert gold_by_coder(out) == {HUGO: [("E03", "On se connaît", ("confiance",))]}
    result = CliRunner().invoke(app, ["import-qdpx", str(tmp_path / "rel.qdpx"), "--out", str(tmp_path / "o2")])
    assert result.exit_code == 1  # some sources skipped, the rest written


def test_spans_across_speakers_are_imported_with_a_warning(tmp_path):
    text = "Enquêtrice : Et vos voisins ?\nM. Perrin : On se connaît depuis l'école.\n"
    project = one_source_project(tmp_path, convention="codepoints", text=text,
                                 phrases=["Et vos voisins ?\nM. Perrin : On se connaît"])
    report = import_project(project, tmp_path / "o")
    assert any("cross turns of several speakers" in w for w in report.sources[0].warnings)


def test_gold_files_are_jsonl_rows_of_pipeline_gold(tmp_path):
    out = tmp_path / "o"
    import_project(qualcoder_project(tmp_path), out)
    row = json.loads((out / "gold" / "Hugo.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert set(row) == {"doc", "start", "end", "codes", "coder", "text"} and row["coder"] == "Hugo"


def test_sources_with_the_same_name_get_distinct_documents(tmp_path):
    """MAXQDA can export two text sources of one name; neither may overwrite the other."""
    text = "Enquêtrice : Et vos voisins ?\nM. Perrin : On se connaît depuis l'école.\n"
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="MAXQDA 2022">
<CodeBook><Codes><Code guid="{CONFIANCE}" name="confiance" isCodable="true"/></Codes></CodeBook>
<Sources>
<TextSource guid="{PERRIN}" name="Entretien" plainTextPath="internal://{PERRIN}.txt"/>
<TextSource guid="{MERCIER}" name="Entretien" plainTextPath="internal://{MERCIER}.txt"/>
</Sources></Project>"""
    out = tmp_path / "o"
    report = import_project(write_qdpx(tmp_path / "dup.qdpx", qde, {f"sources/{PERRIN}.txt": text.encode(),
                                                                      f"sources/{MERCIER}.txt": text.upper().encode()}),
                            out)
    assert [s.doc_id for s in report.sources] == ["Entretien", "Entretien_2"]
    assert (out / "transcripts" / "Entretien_2.txt").read_text(encoding="utf-8") == text.upper()


@settings(max_examples=200, deadline=None)
@given(text=st.lists(st.sampled_from(["a", "é", " ", "\r\n", "\n", "🙂", "\r", "z"]), max_size=40).map("".join),
       data=st.data())
def test_positions_convert_both_ways_in_every_convention(text, data):
    """Any index of the text, written in a convention and read back, is the same index (an index
    inside a CRLF, which ATLAS.ti cannot express, reads back after the line break)."""
    i = data.draw(st.integers(0, len(text)))
    for convention in POSITIONS:
        pos = position_writer(text, convention)(i)
        assert pos == position(text, i, convention)
        back = PositionScale(text, convention).index(pos)
        inside_crlf = convention == "crlf-as-one" and text[i - 1:i + 1] == "\r\n" and i > 0
        assert back == (i + 1 if inside_crlf else i)


def test_a_project_without_codes_still_gives_its_transcripts(tmp_path):
    text = "Enquêtrice : Et vos voisins ?\nM. Perrin : On se connaît depuis l'école.\n"
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p">
<Sources><TextSource guid="{PERRIN}" name="E05"><PlainTextContent>{escape(text)}</PlainTextContent></TextSource>
</Sources></Project>"""
    out = tmp_path / "o"
    report = import_project(write_qdpx(tmp_path / "nocodes.qdpx", qde, {}), out)
    assert (out / "transcripts" / "E05.txt").read_text(encoding="utf-8") == text
    assert "the project has no codes: no codebook.yaml written" in report.notes
    assert not (out / "codebook.yaml").exists() and not (out / "gold").exists()
