"""Reader for OpenDocument transcripts (.odt, LibreOffice): labelled paragraphs, `speaker | text` tables.

Plain text: one line per paragraph or heading and per table row (`Speaker : text`), in document
order. Footnotes and reviewers' comments are not speech and are left out.
"""
from __future__ import annotations

from pathlib import Path

from odf.element import Node
from odf.opendocument import load

from ...core.errors import InputFileError
from ...core.transcript import Transcript
from .labels import Label, LabelFinder
from .layout import lay_out_lines
from .office import add_table_lines, check_package
from .speakers import SpeakerConfig

TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
PARAGRAPHS = {(TEXT_NS, "p"), (TEXT_NS, "h")}
NOT_SPEECH = {(TEXT_NS, "note"), (OFFICE_NS, "annotation"), (TEXT_NS, "tracked-changes")}


def read_odt(path: Path, config: SpeakerConfig) -> Transcript:
    check_package(path, "content.xml", ".odt")
    finder = LabelFinder(config)
    lines: list[str] = []
    given: dict[int, Label] = {}
    try:
        body = load(str(path)).text
    except Exception as e:  # odfpy raises many kinds on a damaged package
        raise InputFileError(f"corrupt .odt ({type(e).__name__}: {e})", path=str(path),
                             hint="open it in LibreOffice and save it again") from None
    if body is None:
        raise InputFileError("corrupt .odt: content.xml has no text body (office:body/office:text)",
                             path=str(path), hint="open it in LibreOffice and save it again")
    _walk(body, finder, lines, given)
    layout = lay_out_lines(lines, config, given=given, unit="paragraph")
    return Transcript(
        doc_id=path.stem, source=str(path), format="odt", text=layout.text, turns=layout.turns,
        metadata=dict(layout.metadata), warnings=layout.warnings,
    )


def _walk(element, finder: LabelFinder, lines: list[str], given: dict[int, Label]) -> None:
    for child in element.childNodes:
        if child.nodeType != Node.ELEMENT_NODE or child.qname in NOT_SPEECH:
            continue
        if child.qname in PARAGRAPHS:
            lines.extend(_text_of(child).split("\n"))
        elif child.qname == (TABLE_NS, "table"):
            add_table_lines(_table_cells(child), finder, lines, given)
        else:  # lists, sections, frames: their paragraphs count, in order
            _walk(child, finder, lines, given)


def _table_cells(table) -> list[list[str]]:
    return [[" ".join(_text_of(p) for p in _descendants(cell, PARAGRAPHS)) for cell in _cells(row)]
            for row in _descendants(table, {(TABLE_NS, "table-row")})]


def _cells(row):
    return [c for c in row.childNodes if c.nodeType == Node.ELEMENT_NODE and c.qname == (TABLE_NS, "table-cell")]


def _descendants(element, names: set):
    for child in element.childNodes:
        if child.nodeType != Node.ELEMENT_NODE:
            continue
        if child.qname in names:
            yield child
        else:
            yield from _descendants(child, names)


def _text_of(element) -> str:
    """A paragraph's text: <text:s c="3"/> → 3 spaces, tab, line break; notes and comments skipped."""
    parts: list[str] = []
    for child in element.childNodes:
        if child.nodeType == Node.TEXT_NODE:
            parts.append(child.data)
        elif child.nodeType != Node.ELEMENT_NODE or child.qname in NOT_SPEECH:
            continue
        elif child.qname == (TEXT_NS, "s"):
            parts.append(" " * int(child.getAttrNS(TEXT_NS, "c") or 1))
        elif child.qname == (TEXT_NS, "tab"):
            parts.append("\t")
        elif child.qname == (TEXT_NS, "line-break"):
            parts.append("\n")
        else:
            parts.append(_text_of(child))
    return "".join(parts)
