"""One careful CSV reader for the small tables researchers edit in a spreadsheet (cases.csv, a
pseudonym map, predictions or codings exported as CSV).

Python's csv module forgives too much: a quote left open swallows every following row into one value,
and a row with a stray comma gets an extra unnamed column, both without a word. Here each is an error
naming the line: an unclosed quote, a quoted value running over several lines where the table has no
reason to hold one, a row with more or fewer fields than the header.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterator, Sequence

from .errors import CaseTableError, TableError


def read_csv(path: str | Path, *, what: str = "table", required: Sequence[str] = (),
             multiline: bool = False, missing_hint: str | None = None) -> tuple[list[str], list[tuple[int, dict]]]:
    """(column names, [(line number, row)]) of a UTF-8 CSV (a byte-order mark is allowed).

    Raises `TableError` (a `DataError`) naming the file and line for anything that would silently
    shift or swallow values; `multiline=True` allows quoted values that hold line breaks (free text such as a passage)."""
    path = Path(path)
    if path.is_dir():
        raise TableError(f"is a folder, not a {what} (.csv)", path=str(path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TableError(f"{what} not found", path=str(path), hint=missing_hint) from None
    except OSError as e:
        raise TableError(f"cannot be read ({e.strerror or e})", path=str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TableError(f"not UTF-8 text (byte {e.start}): save the {what} as 'CSV UTF-8'", path=str(path)) from None
    if "\x00" in text:
        raise TableError(f"not a text file (NUL bytes): a {what} must be CSV text", path=str(path))
    rows = list(_rows(text, path, multiline=multiline))
    if not rows:
        raise TableError(f"empty {what}: the first line must name the columns", path=str(path))
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise TableError(f"line {header_line}: column(s) named twice: {', '.join(dup)}", path=str(path))
    missing = [c for c in required if c not in header]
    if missing:
        raise TableError(f"missing column(s) {', '.join(missing)}", path=str(path),
                        hint=f"the first line must name the columns ({', '.join(required)})")
    out: list[tuple[int, dict]] = []
    for line, values in rows[1:]:
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise TableError(f"line {line}: {len(values)} field(s) where the header has {len(header)} "
                            "(a stray comma or quote?)", path=str(path))
        out.append((line, dict(zip(header, values))))
    return header, out


def read_cases(path: str | Path) -> dict[str, dict[str, str]]:
    """doc_id → attributes, from a CSV whose first column names include `doc_id`."""
    _, rows = read_csv(path, what="case attributes file", required=("doc_id",),
                       missing_hint="build the corpus (codeur corpus-build) or give --cases")
    cases: dict[str, dict[str, str]] = {}
    for n, row in rows:
        doc = (row.get("doc_id") or "").strip()
        if not doc:
            raise CaseTableError(f"line {n}: empty doc_id", path=str(path))
        if doc in cases:
            raise CaseTableError(f"line {n}: doc_id {doc!r} appears twice", path=str(path))
        cases[doc] = {k: (v or "").strip() for k, v in row.items() if k}
    return cases


def _rows(text: str, path: Path, *, multiline: bool) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            if "end of data" in str(e) or "EOF" in str(e):
                raise TableError(f"line {start}: a quote opened on this line is never closed", path=str(path),
                                hint="every \" that starts a value must end it") from None
            if reader.line_num > start:
                raise TableError(f"line {start}: not valid CSV ({e} on line {reader.line_num}): a quote opened on "
                                f"line {start} runs to line {reader.line_num}", path=str(path),
                                hint="every \" that starts a value must end it") from None
            raise TableError(f"line {start}: not valid CSV ({e})", path=str(path)) from None
        end = reader.line_num
        if not multiline and end > start and any("\n" in v or "\r" in v for v in values):
            raise TableError(f"line {start}: a quoted value runs over lines {start}-{end} (an unclosed quote?)",
                            path=str(path))
        yield start, values
        start = end + 1
