"""Each QDA tool's known quirks, one small project per tool (after what each writes, see
tests/data/refi-qda/README.md and ../shared/refi-qda-notes.md): codeur detects how the tool counts
positions, reads the human coding at its words, and writes the machine's coding back so that the
same tool, counting its own way, finds it on the passage codeur coded — everything else unchanged."""
from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import xmlschema

from pipeline.core.gold import read_gold
from pipeline.exchange.qdc import content_guid
from pipeline.exchange.qdpx import import_project
from pipeline.exchange.qdpx_project import export_kept_project
from pipeline.ingest.readers import read_transcript

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "data" / "refi-qda" / "Project.xsd")
TEXT = ("Enquêtrice : Vous travaillez avec vos voisins ? 🙂\r\n"
        "M. Perrin : Avec les gars 👷 d'à côté on se connaît depuis l'école.\r\n"
        "Enquêtrice : Et ailleurs ?\r\n"
        "M. Perrin : Le bureau d'études de Stuttgart vient tous les mois.\r\n")
HUMAN = ["Avec les gars 👷 d'à côté", "on se connaît depuis l'école", "Le bureau d'études de Stuttgart"]
MACHINE = "vient tous les mois"
USER, CODE, PARENT, SOURCE, OTHER = ("5c94bc9e-db8c-4f1d-9cd6-e900c7440860", "a1000000-0000-4000-8000-000000000002",
                                     "a1000000-0000-4000-8000-000000000001", "d4000000-0000-4000-8000-000000000001",
                                     "d4000000-0000-4000-8000-000000000002")


def count(text: str, index: int, convention: str) -> int:
    """A tool's position of code-point index `index` of the stored text (independent of pipeline.exchange.qdpx)."""
    if convention == "utf16":
        return len(text[:index].encode("utf-16-le")) // 2
    if convention == "crlf-as-one":
        return len(text[:index].replace("\r\n", "\n"))
    return index


def read_as(text: str, start: int, end: int, convention: str) -> str:
    """What a tool shows for positions start-end, counting its way."""
    if convention == "utf16":
        return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")
    if convention == "crlf-as-one":
        return text.replace("\r\n", "\n")[start:end]
    return text[start:end]


@dataclass
class Vendor:
    name: str
    origin: str
    convention: str
    folder: str = "sources"
    guid: callable = str            # how the tool writes GUIDs
    bom: bool = False
    names: str = "text"             # selection names: the text, cut with '…', or none
    empty_source: bool = False      # a second source with no coding, written as <TextSource …/>
    users: bool = True
    prefix: str = ""                # a namespace prefix on every element
    cases: str = ""


VENDORS = [
    Vendor("nvivo", "NVivo 12.6.0.959 (Windows)", "utf16", folder="Sources", guid=lambda g: "{" + g.upper() + "}",
           bom=True, names="cut"),
    Vendor("atlasti", "ATLAS.ti for Windows 23.2.1", "crlf-as-one", guid=str.upper, names="none"),
    Vendor("maxqda", "MAXQDA 2022 (Release 22.7.0)", "codepoints", names="none", empty_source=True,
           cases=f'<Cases><Case guid="e7000000-0000-4000-8000-000000000001"><VariableValue><VariableRef '
                 f'targetGUID="c3000000-0000-4000-8000-000000000001"/><TextValue>mécatronique</TextValue>'
                 f'</VariableValue><SourceRef targetGUID="{SOURCE}"/></Case></Cases>'),
    Vendor("qualcoder", "QualCoder 3.6", "crlf-as-one", bom=True, empty_source=True),
    Vendor("prefixed-no-users", "", "codepoints", prefix="qda:", users=False),
]


def build(tmp_path: Path, v: Vendor) -> Path:
    p, g = v.prefix, v.guid
    sels = []
    for i, phrase in enumerate(HUMAN):
        a = TEXT.index(phrase)
        b = a + len(phrase)
        name = {"text": f' name="{phrase}"', "cut": f' name="{phrase[:12]}…"', "none": ""}[v.names]
        sels.append(f'<{p}PlainTextSelection guid="{g(f"f1000000-0000-4000-8000-00000000000{i}")}"{name} '
                    f'startPosition="{count(TEXT, a, v.convention)}" endPosition="{count(TEXT, b, v.convention)}" '
                    f'creatingUser="{g(USER)}"><{p}Coding guid="{g(f"f2000000-0000-4000-8000-00000000000{i}")}" '
                    f'creatingUser="{g(USER)}"><{p}CodeRef targetGUID="{g(CODE)}"/></{p}Coding>'
                    f"</{p}PlainTextSelection>\n")
    users = f'<{p}Users><{p}User guid="{g(USER)}" name="Claire"/></{p}Users>\n' if v.users else ""
    variables = (f'<{p}Variables><{p}Variable guid="c3000000-0000-4000-8000-000000000001" name="Secteur" '
                 f'typeOfVariable="Text"><{p}Description /></{p}Variable></{p}Variables>\n' if v.cases else "")
    empty = (f'<{p}TextSource guid="{g(OTHER)}" name="E02" plainTextPath="internal://{g(OTHER).strip("{}")}.txt" />\n'
             if v.empty_source else "")
    ns = f'xmlns:{p[:-1]}="urn:QDA-XML:project:1.0"' if p else 'xmlns="urn:QDA-XML:project:1.0"'
    qde = (f'<?xml version="1.0" encoding="utf-8"?>\n<{p}Project {ns} name="PME du pôle" origin="{v.origin}">\n'
           f"{users}<{p}CodeBook><{p}Codes>\n"
           f'<{p}Code guid="{g(PARENT)}" name="Stratégie" isCodable="true">'
           f'<{p}Code guid="{g(CODE)}" name="Proximité" isCodable="true" color="#F781F3"/></{p}Code>\n'
           f"</{p}Codes></{p}CodeBook>\n{variables}{v.cases}\n<{p}Sources>\n"
           f'<{p}TextSource guid="{g(SOURCE)}" name="E01.docx" plainTextPath="internal://{g(SOURCE).strip("{}")}.txt">'
           f"<{p}Description>Entretien du 12 mars</{p}Description>\n{''.join(sels)}</{p}TextSource>\n{empty}"
           f"</{p}Sources>\n</{p}Project>\n")
    path = tmp_path / f"{v.name}.qdpx"
    bom = b"\xef\xbb\xbf" if v.bom else b""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde.encode("utf-8"))
        zf.writestr(f"{v.folder}/{g(SOURCE).strip('{}')}.txt", bom + TEXT.encode("utf-8"))
        if v.empty_source:
            zf.writestr(f"{v.folder}/{g(OTHER).strip('{}')}.txt", bom + TEXT.upper().encode("utf-8"))
    return path


@pytest.mark.parametrize("vendor", VENDORS, ids=[v.name for v in VENDORS])
def test_each_tools_project_goes_in_and_comes_back_with_the_machine_coding_where_that_tool_counts(tmp_path, vendor):
    project = build(tmp_path, vendor)
    qde = zipfile.ZipFile(project).read("project.qde")
    if not vendor.prefix:  # xmlschema reads prefixed documents too, but keep the check on the plain ones
        SCHEMA.validate(qde.decode("utf-8"))
    out = tmp_path / "imported"
    report = import_project(project, out)
    assert report.positions.convention == vendor.convention
    assert [g.text for g in read_gold(out / "gold")] == HUMAN

    # The model codes a passage after an emoji and two CRLFs, and a passage of the uncoded source.
    docs = sorted(p.stem for p in (out / "transcripts").glob("*.txt"))
    rows = []
    for doc in docs:
        text = read_transcript(out / "transcripts" / f"{doc}.txt").text
        phrase = MACHINE if doc == "E01" else MACHINE.upper()
        start = text.index(phrase)
        rows.append({"doc_id": doc, "start": start, "end": start + len(phrase), "text": phrase,
                     "codes": ["proximite"], "scores": {"proximite": 0.87, "strategie": 0.2}, "model": "m1"})
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = export_kept_project(out, tmp_path / "back.qdpx", pred=pred)
    assert result.convention == vendor.convention and result.added == {"codeur m1": len(docs)}

    back = zipfile.ZipFile(tmp_path / "back.qdpx")
    new = back.read("project.qde").decode("utf-8")
    if not vendor.prefix:
        SCHEMA.validate(new)
    user = content_guid("user", "codeur m1")
    p = vendor.prefix
    added = re.compile(rf'\n<{p}User guid="{user}"[^>]*/>|\n<{p}PlainTextSelection [^>]*creatingUser="{user}">.*?'
                       rf"</{p}PlainTextSelection>", re.S)
    found = re.findall(rf'startPosition="(\d+)" endPosition="(\d+)" creatingUser="{user}"', new)
    assert len(found) == len(docs)
    for (start, end), doc in zip(found, docs):
        stored = TEXT if doc == "E01" else TEXT.upper()
        assert read_as(stored, int(start), int(end), vendor.convention) == (MACHINE if doc == "E01" else MACHINE.upper())
    if vendor.users and not vendor.empty_source:
        assert added.sub("", new) == qde.decode("utf-8")  # only insertions, the rest byte for byte
    else:  # a <Users> made for the machine, or an empty <TextSource …/> opened to hold its coding
        stripped = added.sub("", new)
        stripped = re.sub(rf"\n<{p}Users>\n</{p}Users>", "", stripped)
        stripped = re.sub(rf'(<{p}TextSource [^>]*") >\n</{p}TextSource>', r"\1 />", stripped)
        assert stripped == qde.decode("utf-8")
    for info in zipfile.ZipFile(project).infolist():
        if info.filename != "project.qde":
            assert back.read(info.filename) == zipfile.ZipFile(project).read(info)


@pytest.mark.parametrize("vendor", [v for v in VENDORS if v.convention != "codepoints"], ids=lambda v: v.name)
def test_forcing_the_standards_count_on_a_tool_that_counts_otherwise_is_refused(tmp_path, vendor):
    from pipeline.core.errors import InputFileError

    with pytest.raises(InputFileError, match=f"detected: {vendor.convention}"):
        import_project(build(tmp_path, vendor), tmp_path / "o", positions="codepoints")
    assert not (tmp_path / "o").exists()
