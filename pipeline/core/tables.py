"""Stage files: passages and predictions as JSONL (default), Parquet or CSV, with a declared schema.

Each stage writes a file the next one reads, so a user can stop, inspect and resume anywhere. Tables
live here: `write_rows` writes them, `read_rows` (JSONL, Parquet) and `read_table` (also CSV as
`write_rows` wrote it) read them back, `read_passages` and `read_predictions` as typed records.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import atomic_path, write_jsonl
from .csvfile import read_csv
from .errors import OptionError, TableError
from .prediction import Prediction
from .transcript import Passage, Transcript, row_problem

PASSAGE_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("speaker", pa.string()),
    pa.field("role", pa.string()),
    pa.field("start", pa.int64(), nullable=False),
    pa.field("end", pa.int64(), nullable=False),
    pa.field("text", pa.string(), nullable=False),
    pa.field("clean_text", pa.string()),
    pa.field("n_words", pa.int64()),
    pa.field("turns", pa.list_(pa.int64())),
    pa.field("question", pa.string()),
])

#: a cell a spreadsheet would take for a formula: = + - @ tab CR, possibly after escaping quotes
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_text(value):
    """A CSV cell a spreadsheet shows as text: a string that starts like a formula (« - Oui, bien
    sûr », « =A1 », « @ ») gets a leading apostrophe, so Excel or LibreOffice neither evaluate it
    nor show #NAME?. Numbers are left alone. `from_spreadsheet_text` undoes it exactly."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def from_spreadsheet_text(cell: str) -> str:
    """The value `spreadsheet_text` was given."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell


_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}


def output_format(path: str | Path, fmt: str | None = None) -> str:
    """The format to write: `fmt` if given, else from the file's extension (JSONL by default). A
    `fmt` that contradicts a known extension (--format parquet --out x.jsonl) is refused: the file
    would be unreadable by the next command, which goes by the extension."""
    suffix = Path(path).suffix.lower()
    if fmt:
        fmt = fmt.lower()
        if suffix in _SUFFIXES and _SUFFIXES[suffix] != fmt:
            raise OptionError(f"--format {fmt} but the file name ends in {suffix}", path=str(path),
                              hint=f"name the file *.{fmt}, or leave --format out")
        return fmt
    return _SUFFIXES.get(suffix, "jsonl")


def write_rows(path: str | Path, rows: Sequence[dict], *, fmt: str | None = None,
               schema: pa.Schema | None = None) -> int:
    """Write rows atomically as JSONL, Parquet or CSV (nested values JSON-encoded in CSV)."""
    fmt = output_format(path, fmt)
    if fmt == "jsonl":
        return write_jsonl(path, rows)
    if fmt == "parquet":
        table = pa.Table.from_pylist(list(rows), schema=schema) if rows or schema else pa.table({})
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return len(rows)
    if fmt == "csv":
        import csv

        from .atomic import atomic_open

        cols: list[str] = []
        for r in rows:
            cols.extend(k for k in r if k not in cols)
        with atomic_open(path) as fh:
            fh.write("\ufeff")  # a byte-order mark, so spreadsheet programs read the accents right
            w = csv.writer(fh)
            w.writerow(cols)
            for r in rows:
                w.writerow([json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else spreadsheet_text(v)
                            for v in (r.get(c) for c in cols)])
        return len(rows)
    raise OptionError(f"unknown output format {fmt!r}", path=str(path), hint="use jsonl, parquet or csv")


def write_passages(path: str | Path, passages: Iterable[Passage], *, fmt: str | None = None) -> int:
    rows = [p.to_dict() for p in passages]
    return write_rows(path, rows, fmt=fmt, schema=PASSAGE_SCHEMA)


def write_transcripts(path: str | Path, transcripts: Iterable[Transcript]) -> int:
    return write_jsonl(path, (t.to_dict() for t in transcripts))


@dataclass
class RowsRead:
    rows: list[dict]
    errors: list[str] = field(default_factory=list)  # "line N: reason", for lines that were skipped


def read_rows(path: str | Path, *, required: Sequence[str] = ("id", "text")) -> RowsRead:
    """Read a JSONL or Parquet table. Malformed JSONL lines, and rows whose ids, offsets or text are of the
    wrong kind (`row_problem`), are reported by line (row) number and skipped."""
    path = Path(path)
    if not path.exists():
        raise TableError("file not found", path=str(path))
    if path.is_dir():
        raise TableError("is a folder, not a table (.jsonl or .parquet)", path=str(path))
    if path.suffix.lower() == ".parquet":
        try:
            rows = pq.read_table(path).to_pylist()
        except (pa.ArrowException, OSError, ValueError) as e:
            raise TableError(f"not a readable Parquet file ({e})", path=str(path)) from None
        missing = [c for c in required if rows and c not in rows[0]]
        if missing:
            raise TableError(f"missing column(s) {', '.join(missing)}", path=str(path))
        numbered = enumerate(rows, 1)
        where = "row"
    else:
        numbered = _jsonl_objects(path)
        where = "line"
    out = RowsRead([])
    seen: set = set()
    for n, obj in numbered:
        if isinstance(obj, str):  # a JSONL line that is not an object: the reason
            out.errors.append(obj)
            continue
        missing = [c for c in required if c not in obj or obj[c] is None]
        if missing:
            out.errors.append(f"{where} {n}: missing field(s) {', '.join(missing)}")
            continue
        problem = row_problem(obj)
        if problem:
            out.errors.append(f"{where} {n}: {problem}")
            continue
        if "id" in obj:
            if obj["id"] in seen:
                out.errors.append(f"{where} {n}: duplicate id {obj['id']!r}")
                continue
            seen.add(obj["id"])
        out.rows.append(obj)
    return out


def _jsonl_objects(path: Path):
    """(line number, object) for each non-blank line, or (line number, "line N: reason") for a bad one."""
    try:
        fh = path.open(encoding="utf-8", errors="replace")
    except OSError as e:
        raise TableError(f"cannot be read ({e.strerror or e})", path=str(path)) from None
    with fh:
        try:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                obj, problem = _parse_line(n, line)
                yield n, (problem if problem else obj)
        except OSError as e:
            raise TableError(f"cannot be read ({e.strerror or e})", path=str(path)) from None


def read_passages(path: str | Path) -> tuple[list[Passage], list[str]]:
    got = read_rows(path, required=("id", "doc_id", "start", "end", "text"))
    passages = []
    for r in got.rows:
        try:
            passages.append(Passage.from_dict(r))
        except (KeyError, TypeError, ValueError) as e:
            got.errors.append(f"passage {r.get('id')!r}: {e}")
    return passages, got.errors


def _parse_cell(column: str, value: str):
    """A CSV cell as `write_rows` wrote it (`codeur classify` output): offsets as integers, lists and
    dicts as JSON; `codes` not written as a JSON list ("a;b") is left to `Prediction.from_row`."""
    if value.strip() == "":
        return None
    value = from_spreadsheet_text(value)
    if column in ("start", "end", "n_words"):
        return int(value)
    if column in ("scores", "turns") or (column == "codes" and value.lstrip().startswith("[")):
        return json.loads(value)
    return value


def read_table(path: str | Path, *, required: Sequence[str]) -> tuple[list[dict], list[str]]:
    """Rows of a JSONL, Parquet or CSV table (CSV as `write_rows` writes it: lists and dicts
    JSON-encoded). Malformed rows are skipped and reported as "line N: reason"."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        got = read_rows(path, required=required)
        return got.rows, got.errors
    if not path.exists():
        raise TableError("file not found", path=str(path))
    rows: list[dict] = []
    errors: list[str] = []
    seen: set = set()
    _, table = read_csv(path, what="coding table", required=required, multiline=True)
    for n, raw in table:
        try:
            row = {k: _parse_cell(k, v or "") for k, v in raw.items() if k is not None}
        except (ValueError, json.JSONDecodeError) as e:
            errors.append(f"line {n}: unreadable value ({e})")
            continue
        problem = row_problem(row)
        if problem:
            errors.append(f"line {n}: {problem}")
            continue
        if row.get("id") in seen:
            errors.append(f"line {n}: duplicate id {row.get('id')!r}")
            continue
        seen.add(row.get("id"))
        rows.append(row)
    return rows, errors


def read_predictions(path: str | Path, *, required: Sequence[str] = ("id",)) -> tuple[list[Prediction], list[str]]:
    """The rows of a JSONL, Parquet or CSV table (`codeur classify` output, a corpus export, a pool of
    passages) as `Prediction`s. Rows lacking a `required` field or that `Prediction.from_row` refuses
    are skipped and reported, "line N: reason" or "passage 'ID': reason"; the caller decides whether
    a skipped row is an error."""
    rows, problems = read_table(path, required=required)
    out: list[Prediction] = []
    for r in rows:
        try:
            out.append(Prediction.from_row(r))
        except ValueError as e:
            problems.append(f"passage {str(r.get('id'))!r}: {e}")
    return out, problems


def _parse_line(n: int, line: str) -> tuple[dict | None, str | None]:
    """One JSONL line → (object, None), or (None, "line N: reason")."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        return None, f"line {n}: not valid JSON ({e.msg})"
    if not isinstance(obj, dict):
        return None, f"line {n}: not a JSON object"
    return obj, None


def iter_jsonl(path: str | Path, *, what: str = "record"):
    """Yield (line number, object) from a JSONL file; the first malformed line is an error naming it."""
    path = Path(path)
    try:
        fh = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise TableError("file not found", path=str(path)) from None
    with fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            obj, problem = _parse_line(n, line)
            if problem:
                raise TableError(f"{problem} (a {what} per line expected)", path=str(path))
            yield n, obj
