"""What the .docx and .odt readers share: both are zip packages of XML, and both may hold a
two-column table `speaker | text`.

The package is checked before the library (python-docx, odfpy) opens it, so that a corrupt zip
or an XML part with entity declarations is refused with a clear message instead of a traceback
or, worse, a silent empty document.
"""
from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree as SafeET

from ...core.errors import InputFileError
from ...core.limits import current as current_limits
from .encoding import read_bytes
from .labels import Label, LabelFinder, parse_clock

_UNSAFE_XML = re.compile(rb"<!ENTITY|<!DOCTYPE", re.IGNORECASE)

# First row of a turn table that is a header, recognised by its first or second cell.
SPEAKER_HEADERS = {"locuteur", "locutrice", "locuteurs", "intervenant", "intervenante", "speaker", "nom",
                   "qui", "personne", "interlocuteur", "role", "rôle"}
TEXT_HEADERS = {"texte", "text", "propos", "verbatim", "transcription", "discours", "contenu", "paroles",
                "réponse", "réponses", "intervention"}


def check_package(path: Path, required: str, kind: str) -> None:
    """Refuse a file that is not a sound zip holding `required`, or whose XML is unsafe."""
    if read_bytes(path, head=4) == b"\xd0\xcf\x11\xe0":  # OLE container, not zip
        raise InputFileError(f"not a {kind} package: an old binary Office file, or a password-protected one",
                             path=str(path), hint=f"save it again as {kind} without a password")
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
            if required not in names:
                raise InputFileError(f"corrupt {kind}: the package has no {required}", path=str(path))
            check_unpacked_sizes(package.infolist(), path, kind)
            for info in package.infolist():
                if not info.filename.endswith(".xml"):
                    continue
                if _UNSAFE_XML.search(package.read(info)):
                    raise InputFileError(
                        f"refused {kind}: {info.filename} declares a DOCTYPE or XML entities, which codeur "
                        "never expands", path=str(path))
            try:
                # odfpy prints a malformed part to stdout and carries on with an empty document.
                SafeET.fromstring(package.read(required))
            except SafeET.ParseError as e:
                raise InputFileError(f"corrupt {kind}: {required} is malformed XML ({e})", path=str(path)) from None
            bad = package.testzip()
            if bad is not None:
                raise InputFileError(f"corrupt {kind}: damaged zip member {bad}", path=str(path))
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError, OSError, ValueError) as e:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression method;
        # OSError / ValueError: offsets in the zip directory that point outside the file.
        raise InputFileError(f"corrupt {kind}: not a valid zip package ({e})", path=str(path),
                             hint=f"open it in a word processor and save it again as {kind}") from None


def check_unpacked_sizes(infos: list[zipfile.ZipInfo], path: Path, kind: str) -> None:
    """The checks the QDPX reader applies, before anything is unpacked: the number of parts, each part's
    and the whole package's uncompressed size, and the compression ratio of large parts (zip bombs)."""
    limits = current_limits()
    if len(infos) > limits.max_zip_entries:
        raise InputFileError(f"refused {kind}: {len(infos)} parts in the package (at most {limits.max_zip_entries})",
                             path=str(path))
    total = 0
    for info in infos:
        if info.file_size > limits.max_unpacked_bytes:
            raise InputFileError(f"refused {kind}: {info.filename} unpacks to {info.file_size:,} bytes (at most "
                                 f"{limits.max_unpacked_bytes:,})", path=str(path),
                                 hint="raise the limit with CODEUR_MAX_UNPACKED_MB if the file is genuine")
        if (info.file_size > limits.ratio_floor_bytes
                and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1)):
            ratio = info.file_size / max(info.compress_size, 1)
            raise InputFileError(f"refused {kind}: {info.filename} is compressed {ratio:,.0f} times (at most "
                                 f"{limits.max_zip_ratio:,.0f}): a zip bomb?", path=str(path),
                                 hint="raise the limit with CODEUR_MAX_ZIP_RATIO if the file is genuine")
        total += info.file_size
    if total > limits.max_unpacked_bytes:
        raise InputFileError(f"refused {kind}: the package unpacks to {total:,} bytes (at most "
                             f"{limits.max_unpacked_bytes:,})", path=str(path),
                             hint="raise the limit with CODEUR_MAX_UNPACKED_MB if the file is genuine")


@dataclass
class TableRow:
    """One table row rendered as a plain-text line, with its label if it is a speaker turn."""

    line: str
    label: Label | None


def turn_table_rows(rows: list[list[str]], finder: LabelFinder) -> list[TableRow] | None:
    """Rows of a `speaker | text` (or `time | speaker | text`) table as `Speaker : text` lines.

    Returns None when the table is not a turn table (other column counts), so the caller
    reads its cells as ordinary paragraphs. A first row of column titles is dropped.
    """
    rows = [[" ".join(cell.split()) for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows or any(len(row) not in (2, 3) for row in rows):
        return None
    with_time = all(len(row) == 3 for row in rows)
    if not with_time and any(len(row) != 2 for row in rows):
        return None
    if _is_header(rows[0][-2:]):
        rows = rows[1:]
    out: list[TableRow] = []
    for row in rows:
        time = parse_clock(row[0]) if with_time else None
        speaker, said = row[-2], row[-1]
        if not speaker:  # an empty speaker cell continues the previous speaker's turn
            out.append(TableRow(said, None))
            continue
        line = f"{speaker} : {said}"
        believed = finder.looks_like_name(speaker)
        out.append(TableRow(line, Label(speaker, len(speaker) + 3, time, "table") if believed else None))
    return out


def add_table_lines(cells: list[list[str]], finder: LabelFinder, lines: list[str], given: dict[int, Label]) -> None:
    """Append a table's lines to a document's `lines`: a turn table as `Speaker : text` lines
    (their labels recorded in `given` by line number), any other table cell by cell, like
    paragraphs. Shared by the .docx and .odt readers."""
    rows = turn_table_rows(cells, finder)
    if rows is None:
        lines.extend(line for row in cells for text in row if text.strip() for line in text.split("\n"))
        return
    for row in rows:
        if row.label is not None:
            given[len(lines)] = row.label
        lines.append(row.line)


def _is_header(cells: list[str]) -> bool:
    first, second = (c.casefold().strip(" :") for c in cells)
    return first in SPEAKER_HEADERS or second in TEXT_HEADERS
