"""A .qdpx comes from someone else. A hostile or broken one is refused with one line naming the
file and the reason; codeur never extracts the archive, never writes outside --out, and never
expands XML entities."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.exchange import archive as qdpx_archive
from pipeline.cli import app
from pipeline.core.errors import InputFileError
from pipeline.exchange.qdc import read_qdc
from pipeline.exchange.qdpx import import_project

GUID = "d4000000-0000-4000-8000-000000000001"
TEXT = "Enquêtrice : Et vos voisins ?\nM. Perrin : On se connaît depuis l'école.\n"
QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p">
<CodeBook><Codes><Code guid="a1000000-0000-4000-8000-000000000002" name="proximite" isCodable="true"/></Codes></CodeBook>
<Sources><TextSource guid="{GUID}" name="E01" plainTextPath="internal://{GUID}.txt"/></Sources>
</Project>"""


def archive(path: Path, entries: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)  # a ZipInfo keeps the name as given ('../x', 'C:/x')
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def refused(path: Path, out: Path, *reason: str) -> str:
    with pytest.raises(InputFileError) as caught:
        import_project(path, out)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message, message
    for part in reason:
        assert part in message, message
    assert not out.exists(), "nothing may be written for a refused archive"
    return message


def test_a_sound_archive_imports(tmp_path):
    ok = archive(tmp_path / "ok.qdpx", {"project.qde": QDE, f"sources/{GUID}.txt": TEXT})
    import_project(ok, tmp_path / "out")
    assert (tmp_path / "out" / "transcripts" / "E01.txt").read_text(encoding="utf-8") == TEXT


@pytest.mark.parametrize("entry", ["../../evil.txt", "sources/../../evil.txt", "/etc/cron.d/evil",
                                   "C:/Windows/evil.txt", "..\\evil.txt"])
def test_entries_that_escape_the_folder_are_refused(tmp_path, entry):
    bad = archive(tmp_path / "slip.qdpx", {"project.qde": QDE, f"sources/{GUID}.txt": TEXT, entry: "boom"})
    refused(bad, tmp_path / "out", repr(entry), "outside the archive folder")
    assert not (tmp_path / "evil.txt").exists()


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    bomb = archive(tmp_path / "bomb.qdpx", {"project.qde": QDE, f"sources/{GUID}.txt": b"\0" * (8 * 1024 * 1024)})
    refused(bomb, tmp_path / "out", "compressed", "zip bomb")


def test_an_archive_too_large_in_total_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(qdpx_archive, "MAX_TOTAL_BYTES", 1000)
    big = archive(tmp_path / "big.qdpx", {"project.qde": QDE, f"sources/{GUID}.txt": TEXT * 20})
    refused(big, tmp_path / "out", "more than 1000 bytes")


def test_an_entry_too_large_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(qdpx_archive, "MAX_ENTRY_BYTES", 100)
    big = archive(tmp_path / "big.qdpx", {"project.qde": QDE, f"sources/{GUID}.txt": TEXT})
    refused(big, tmp_path / "out", "'project.qde' unpacks to", "at most 100")


def test_too_many_entries_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(qdpx_archive, "MAX_ENTRIES", 5)
    many = archive(tmp_path / "many.qdpx", {"project.qde": QDE, **{f"sources/{i}.txt": "x" for i in range(5)}})
    refused(many, tmp_path / "out", "too many entries (6; at most 5)")


@pytest.mark.parametrize("doctype,reference", [
    ('<!DOCTYPE Project [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>', "&b;"),
    ('<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
    ('<!DOCTYPE Project SYSTEM "http://example.org/evil.dtd">', "p"),
], ids=["entity-expansion", "external-entity", "external-dtd"])
def test_xml_with_a_dtd_or_entities_is_refused(tmp_path, doctype, reference):
    qde = QDE.replace("<Project ", doctype + "\n<Project ", 1).replace('name="p"', f'name="{reference}"', 1)
    evil = archive(tmp_path / "evil.qdpx", {"project.qde": qde, f"sources/{GUID}.txt": TEXT})
    refused(evil, tmp_path / "out", "project.qde", "DTD or XML entities")


def test_a_qdc_with_entities_is_refused_too(tmp_path):
    qdc = tmp_path / "evil.qdc"
    qdc.write_text('<?xml version="1.0"?>\n<!DOCTYPE CodeBook [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                   '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="a1000000-0000-4000-8000-'
                   '000000000002" name="&x;" isCodable="true"/></Codes></CodeBook>', encoding="utf-8")
    with pytest.raises(InputFileError, match="DTD or XML entities"):
        read_qdc(qdc)


def test_a_plain_text_path_that_climbs_out_skips_that_source(tmp_path):
    qde = QDE.replace(f'plainTextPath="internal://{GUID}.txt"', 'plainTextPath="internal://../../../etc/passwd"')
    bad = archive(tmp_path / "climb.qdpx", {"project.qde": qde, f"sources/{GUID}.txt": TEXT})
    with pytest.raises(InputFileError, match="points outside the project: refused"):
        import_project(bad, tmp_path / "out")  # the only source is refused, so nothing is imported


@pytest.mark.parametrize("content,reason", [
    (b"not a zip at all", "not a zip archive"),
    (None, "no project.qde in the archive"),
])
def test_files_that_are_not_projects(tmp_path, content, reason):
    path = tmp_path / "x.qdpx"
    if content is None:
        archive(path, {"readme.txt": "hello"})
    else:
        path.write_bytes(content)
    refused(path, tmp_path / "out", reason)


def test_the_command_prints_one_line_and_exits_2(tmp_path):
    bad = archive(tmp_path / "slip.qdpx", {"project.qde": QDE, "../evil.txt": "boom"})
    result = CliRunner().invoke(app, ["import-qdpx", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "[E010]" in result.output and "slip.qdpx" in result.output and "Traceback" not in result.output


def test_the_archive_is_never_extracted(tmp_path, monkeypatch):
    """Reading goes through ZipFile.open in memory: extract/extractall are never called."""
    def forbidden(*args, **kwargs):
        raise AssertionError("codeur extracted the archive")

    monkeypatch.setattr(zipfile.ZipFile, "extract", forbidden)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", forbidden)
    ok = archive(tmp_path / "ok.qdpx", {"project.qde": QDE, f"sources/{GUID}.txt": TEXT,
                                        "sources/other.exe": b"MZ\x90\x00"})
    import_project(ok, tmp_path / "out")
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    # The project itself is kept as the archive it came in (for export-qdpx --project), not unpacked.
    assert written == ["codebook.yaml", "project/map.json", "project/original.qdpx", "transcripts/E01.txt"]
    assert (tmp_path / "out" / "project" / "original.qdpx").read_bytes() == ok.read_bytes()
