"""Bad input files: the user gets one line naming the file and the reason, never a traceback
and never a network fetch."""
from __future__ import annotations

import io
import socket
import zipfile
from pathlib import Path

import docx
import pytest

from pipeline.core.errors import InputFileError, UnsupportedFormatError
from pipeline.ingest.readers import read_transcript

TRS_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
TRS_BODY = ('<Trans><Speakers><Speaker id="spk1" name="Enquêteur"/></Speakers><Episode><Section type="report">'
            '<Turn speaker="spk1" startTime="0" endTime="1"><Sync time="0"/>{said}</Turn>'
            '</Section></Episode></Trans>')


def refused(path: Path, *reason: str, error=InputFileError) -> str:
    with pytest.raises(error) as caught:
        read_transcript(path)
    message = str(caught.value)
    assert str(path) in message, message
    for part in reason:
        assert part in message, message
    assert "\n" not in message
    return message


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    def forbidden(*args, **kwargs):
        raise AssertionError("codeur tried to reach the network")
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(socket, "create_connection", forbidden)
    monkeypatch.setattr("urllib.request.urlopen", forbidden)


@pytest.mark.parametrize("name", ["vide.txt", "vide.docx", "vide.trs", "vide.vtt", "vide.odt"])
def test_an_empty_file_is_refused(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    refused(path, "empty file")


def test_a_file_of_blank_lines_is_refused_as_empty(tmp_path):
    path = tmp_path / "blanc.txt"
    path.write_bytes(b"\r\n  \n\t\n")
    refused(path, "empty file")


def test_a_missing_file_is_reported(tmp_path):
    refused(tmp_path / "absent.txt", "file not found")


@pytest.mark.parametrize("content, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    (b"%PDF-1.7\n%\xe2\xe3", "PDF"),
    (b"PK\x03\x04\x14\x00", "zip package"),
    (b"Q : bonjour\x00\x00\x01\x02", "NUL bytes"),
])
def test_a_binary_file_named_txt_is_refused(tmp_path, content, reason):
    path = tmp_path / "entretien.txt"
    path.write_bytes(content)
    refused(path, "binary file", reason)


def test_a_file_whose_byte_order_mark_lies_is_undecodable(tmp_path):
    path = tmp_path / "entretien.txt"
    path.write_bytes(b"\xef\xbb\xbfQ : \xe9t\xe9")  # UTF-8 BOM, then latin-1 bytes
    refused(path, "undecodable", "UTF-8")


def test_a_truncated_utf16_file_is_undecodable(tmp_path):
    path = tmp_path / "entretien.txt"
    path.write_bytes(b"\xff\xfe" + "Q : oui".encode("utf-16-le") + b"\x00")
    refused(path, "undecodable", "UTF-16")


@pytest.mark.parametrize("name, hint", [("entretien.doc", "save it as .docx"), ("entretien.pdf", "export"),
                                        ("entretien.xlsx", "codeur reads"), ("entretien", "no file extension")])
def test_an_unknown_extension_is_refused_with_what_to_do(tmp_path, name, hint):
    path = tmp_path / name
    path.write_text("Q : bonjour\nR : bonjour\n", encoding="utf-8")
    message = refused(path, hint, error=UnsupportedFormatError)
    assert ".docx" in message and ".trs" in message


def test_a_metadata_file_is_not_read_as_a_transcript(tmp_path):
    path = tmp_path / "E07.txt.meta.yaml"
    path.write_text("interviewer: [Claire]\n", encoding="utf-8")
    refused(path, "metadata file", error=UnsupportedFormatError)


# --- XML --------------------------------------------------------------------------------------

def test_malformed_transcriber_xml_is_refused_with_the_position(tmp_path):
    path = tmp_path / "casse.trs"
    path.write_text(TRS_HEAD + TRS_BODY.format(said="bonjour").replace("</Section>", ""), encoding="utf-8")
    refused(path, "malformed XML", "line")


def test_an_xml_file_that_is_not_transcriber_is_refused(tmp_path):
    path = tmp_path / "autre.trs"
    path.write_text(TRS_HEAD + "<html><body>bonjour</body></html>", encoding="utf-8")
    refused(path, "not a Transcriber file", "<html>")


def test_entity_declarations_are_refused_not_expanded(tmp_path, no_network):
    laughs = ('<!DOCTYPE Trans [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
              '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n')
    path = tmp_path / "bombe.trs"
    path.write_text(TRS_HEAD + laughs + TRS_BODY.format(said="&lol3;"), encoding="utf-8")
    refused(path, "refused", "entity", "never expands")


def test_an_external_entity_is_refused_and_nothing_is_read_or_fetched(tmp_path, no_network):
    path = tmp_path / "xxe.trs"
    path.write_text(TRS_HEAD + '<!DOCTYPE Trans [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
                    + TRS_BODY.format(said="&secret;"), encoding="utf-8")
    refused(path, "refused", "entity")


def test_an_entity_that_only_an_external_dtd_defines_is_refused(tmp_path, no_network):
    path = tmp_path / "dtd.trs"
    path.write_text(TRS_HEAD + '<!DOCTYPE Trans SYSTEM "http://example.org/trans-14.dtd">\n'
                    + TRS_BODY.format(said="caf&eacute;"), encoding="utf-8")
    refused(path, "external DTD", "never fetches")


def test_the_usual_transcriber_doctype_is_accepted_without_fetching_it(tmp_path, no_network):
    for system_id in ("trans-14.dtd", "http://example.org/trans-14.dtd"):
        path = tmp_path / "ok.trs"
        path.write_text(TRS_HEAD + f'<!DOCTYPE Trans SYSTEM "{system_id}">\n' + TRS_BODY.format(said="bonjour"),
                        encoding="utf-8")
        assert read_transcript(path).turns[0].speaker == "Enquêteur"


# --- word processors --------------------------------------------------------------------------

def minimal_docx(text: str = "Q : bonjour") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["casse.docx", "casse.odt"])
def test_a_corrupt_word_processor_file_is_refused(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"ceci n'est pas un zip, juste du texte")
    refused(path, "corrupt", "not a valid zip")


def test_a_truncated_docx_is_refused(tmp_path):
    path = tmp_path / "tronque.docx"
    path.write_bytes(minimal_docx()[:700])
    refused(path, "corrupt")


def test_a_zip_that_is_not_a_docx_is_refused(tmp_path):
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("notes.txt", "rien")
    refused(path, "corrupt .docx", "word/document.xml")


def test_an_odt_with_malformed_content_is_refused(tmp_path):
    path = tmp_path / "casse.odt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<office:document-content><office:body>")
    refused(path, "corrupt .odt", "malformed XML")


def test_a_docx_whose_xml_declares_entities_is_refused(tmp_path, no_network):
    source = zipfile.ZipFile(io.BytesIO(minimal_docx()))
    path = tmp_path / "piege.docx"
    with zipfile.ZipFile(path, "w") as z:
        for name in source.namelist():
            data = source.read(name)
            if name == "word/document.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
            z.writestr(name, data)
    refused(path, "refused .docx", "DOCTYPE or XML entities")


# --- nothing said -----------------------------------------------------------------------------

def test_a_transcriber_file_with_only_silence_and_noises_has_no_turns(tmp_path):
    path = tmp_path / "silence.trs"
    path.write_text(TRS_HEAD + TRS_BODY.format(said='\n<Event desc="rire" type="noise" extent="instantaneous"/>\n'),
                    encoding="utf-8")
    refused(path, "no speaker turns")


def test_subtitles_without_any_cue_are_refused(tmp_path):
    path = tmp_path / "vide.vtt"
    path.write_text("WEBVTT\n\nNOTE rien ici\n", encoding="utf-8")
    refused(path, "no subtitle cues")


def test_a_docx_without_text_has_no_turns(tmp_path):
    path = tmp_path / "blanc.docx"
    path.write_bytes(minimal_docx("   "))
    refused(path, "no speaker turns")


def test_a_password_protected_word_file_is_explained(tmp_path):
    path = tmp_path / "protege.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)  # an OLE container
    refused(path, "password-protected")


def test_a_docx_with_a_damaged_secondary_part_is_refused(tmp_path):
    source = zipfile.ZipFile(io.BytesIO(minimal_docx()))
    path = tmp_path / "abime.docx"
    with zipfile.ZipFile(path, "w") as z:
        for name in source.namelist():
            z.writestr(name, b"<w:styles" if name == "word/styles.xml" else source.read(name))
    refused(path, "corrupt .docx")
