"""Reader for Word transcripts (.docx): labelled paragraphs and `speaker | text` tables.

Plain text: one line per paragraph and per table row (`Speaker : text`), in document order.
"""
from __future__ import annotations

from pathlib import Path

import docx
from docx.text.paragraph import Paragraph

from ...core.errors import InputFileError
from ...core.transcript import Transcript
from .labels import Label, LabelFinder
from .layout import lay_out_lines
from .office import add_table_lines, check_package
from .speakers import SpeakerConfig


def read_docx(path: Path, config: SpeakerConfig) -> Transcript:
    check_package(path, "word/document.xml", ".docx")
    try:
        document = docx.Document(str(path))
        # Paragraph texts and table cells, in document order; python-docx parses lazily.
        blocks: list[str | list[list[str]]] = [
            block.text if isinstance(block, Paragraph) else
            [[cell.text for cell in _unique_cells(row.cells)] for row in block.rows]
            for block in document.iter_inner_content()
        ]
        metadata = _core_properties(document)
    except Exception as e:  # python-docx and lxml raise many kinds on a damaged package
        raise InputFileError(f"corrupt .docx ({type(e).__name__}: {e})", path=str(path),
                             hint="open it in Word or LibreOffice and save it again") from None

    finder = LabelFinder(config)
    lines: list[str] = []
    given: dict[int, Label] = {}
    for block in blocks:
        if isinstance(block, str):
            lines.extend(block.split("\n"))  # a manual line break starts a new line
        else:
            add_table_lines(block, finder, lines, given)
    layout = lay_out_lines(lines, config, given=given, unit="paragraph")
    return Transcript(
        doc_id=path.stem, source=str(path), format="docx", text=layout.text, turns=layout.turns,
        metadata={**metadata, **layout.metadata}, warnings=layout.warnings,
    )


def _unique_cells(cells):
    # python-docx repeats a merged cell once per grid column it spans; keep one copy.
    seen: list = []
    for cell in cells:
        if not seen or cell._tc is not seen[-1]._tc:
            seen.append(cell)
    return seen


def _core_properties(document) -> dict[str, str]:
    props = document.core_properties
    found = {"title": props.title, "author": props.author,
             "created": props.created.isoformat() if props.created else None}
    return {k: v for k, v in found.items() if v}
