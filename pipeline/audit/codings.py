"""Codings, what the audit compares: who coded which passages with which codes, read from a file.

A coding is one coder's gold spans (pipeline.core.gold; labelled onto passages once the passages are
known) or passage-level codes (predictions, a corpus export; read with
pipeline.core.tables.read_predictions). `read_coding` tells the two apart from the file itself;
`read_passage_refs` reads the passages with their offsets that `--passages` gives.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..core.codebook import Codebook
from ..core.errors import EmptyInputError, GoldError, MismatchError, TableError
from ..core.gold import GoldSpan, read_gold
from ..core.prediction import Prediction
from ..core.spans import Span
from ..core.tables import read_predictions, read_table
from ..core.transcript import Passage

#: Passage ids name their location (pipeline.core.transcript.passage_id): "E03:120-345".
_PASSAGE_ID = re.compile(r"^(?P<doc>.+):(?P<start>\d+)-(?P<end>\d+)$")


@dataclass(frozen=True, slots=True)
class PassageRef:
    """Where a passage is: its id, interview and plain-text span, as far as an input says.

    `doc_id` and `span` are None when the input gave no offsets and the id does not name them."""

    id: str
    doc_id: str | None
    span: Span | None
    text: str = ""
    question: str = ""  # the interviewer's words before it, when the input carries them

    @property
    def located(self) -> bool:
        return self.doc_id is not None and self.span is not None

    def as_passage(self) -> Passage:
        return Passage(self.id, self.doc_id or "", "", "", self.span or Span(0, 0), self.text, self.text)


@dataclass
class Coding:
    """One side of a comparison: who coded (`name`), from which file (`source`), and what.

    `kind` is "passages" (codes per passage id: predictions, a corpus export) or "spans" (one
    coder's gold spans, labelled onto passages by the overlap rule of pipeline.core.gold once the
    passages are known). A classifier's coding also has `scores` ({code: probability} per passage).
    """

    name: str
    source: str
    kind: str
    labels: dict[str, frozenset[str]] = field(default_factory=dict)
    passages: dict[str, PassageRef] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    spans: list[GoldSpan] = field(default_factory=list)
    model: str | None = None        # the `model` field the rows share, for predictions
    problems: list[str] = field(default_factory=list)  # rows skipped while reading, "line N: reason"

    @property
    def docs(self) -> set[str]:
        """Interviews this coding covers (for spans: those with at least one span)."""
        if self.kind == "spans":
            return {s.doc_id for s in self.spans}
        return {p.doc_id for p in self.passages.values() if p.doc_id is not None}

    @property
    def size(self) -> int:
        return len(self.spans) if self.kind == "spans" else len(self.labels)

    def describe(self) -> dict[str, Any]:
        what = "spans" if self.kind == "spans" else "passages"
        return {"name": self.name, "source": self.source, "kind": self.kind, f"n_{what}": self.size,
                "n_interviews": len(self.docs), "model": self.model, "skipped_rows": len(self.problems)}


def _sniff_kind(path: Path) -> str:
    """"spans" or "passages": a folder or a JSONL whose records have doc/start/end and no id is spans."""
    if path.is_dir():
        return "spans"
    if not path.exists():
        raise TableError("file not found", path=str(path))
    if path.suffix.lower() in (".csv", ".parquet"):
        return "passages"
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and "id" in obj:
                return "passages"
            if isinstance(obj, dict) and {"doc", "start", "end"} <= obj.keys():
                return "spans"
            raise TableError("the first record is neither a passage ({\"id\", \"codes\", …}) nor a gold span "
                             "({\"doc\", \"start\", \"end\", \"codes\", \"coder\"})", path=str(path))
    raise EmptyInputError("empty file: no passage or gold span in it", path=str(path))


def _unknown_codes_error(unknown: Iterable[str], codebook: Codebook, path: str, cls=MismatchError):
    return cls(f"unknown code(s) {', '.join(sorted(set(unknown)))}", path=path,
               hint=f"codebook {codebook.name!r} has: {', '.join(codebook.codes)}")


def read_coding(path: str | Path, codebook: Codebook, *, name: str | None = None) -> Coding:
    """Read a coding from gold spans (a JSONL of {doc, start, end, codes, coder}, or a folder of them)
    or from a passage table with `id` and `codes` (JSONL, CSV or Parquet; predictions also carry
    `scores`, and `doc_id`/`start`/`end` locate the passages).

    Refuses unknown code names (naming them and the codebook's codes), an empty input, and a span
    file holding several coders. Malformed passage rows are skipped and listed in `problems`.
    """
    path = Path(path)
    if _sniff_kind(path) == "spans":
        spans = read_gold(path)
        if not spans:
            raise GoldError("no gold span in it", path=str(path))
        by_coder = Counter(s.coder for s in spans)
        if len(by_coder) > 1:
            listed = ", ".join(f"{c} ({n} spans)" for c, n in sorted(by_coder.items()))
            raise GoldError(f"holds the coding of several coders: {listed}", path=str(path),
                            hint="give one coder's file, e.g. corpus/gold/coder1.jsonl")
        unknown = {c for s in spans for c in s.codes if c not in codebook.codes}
        if unknown:
            first = next(i for i, s in enumerate(spans, 1) if set(s.codes) & unknown)
            err = _unknown_codes_error(unknown, codebook, str(path), GoldError)
            err.reason += f" (first in span {first}: {spans[first - 1].doc_id} {spans[first - 1].span.start}-" \
                          f"{spans[first - 1].span.end})"
            raise GoldError(err.reason, path=err.path, hint=err.hint)
        return Coding(name or next(iter(by_coder)), str(path), "spans", spans=spans)

    predictions, problems = read_predictions(path, required=("id", "codes"))
    coding = Coding(name or path.stem, str(path), "passages", problems=problems)
    unknown: set[str] = set()
    models: set[str] = set()
    for p in predictions:
        if p.scores is not None:
            unknown.update(c for c in p.scores if c not in codebook.codes)
            coding.scores[p.id] = dict(p.scores)
        unknown.update(c for c in p.labels if c not in codebook.codes)
        coding.passages[p.id] = _passage_ref(p)
        coding.labels[p.id] = p.labels
        if p.model:
            models.add(p.model)
    if unknown:
        raise _unknown_codes_error(unknown, codebook, str(path))
    if not coding.labels:
        detail = f" ({len(coding.problems)} row(s) skipped, first: {coding.problems[0]})" if coding.problems else ""
        raise EmptyInputError(f"no usable passage in it{detail}", path=str(path),
                              hint="expected JSONL/CSV/Parquet rows with at least 'id' and 'codes'")
    if len(models) == 1:
        coding.model = models.pop()
        if name is None:
            coding.name = coding.model
    return coding


def _passage_ref(p: Prediction) -> PassageRef:
    """Where a prediction's passage is: its own offsets, else those its id names ("E03:120-345")."""
    doc, start, end = p.doc_id, p.start, p.end
    m = _PASSAGE_ID.match(p.id)
    if doc is None and m:
        doc = m["doc"]
        if start is None and end is None:
            start, end = int(m["start"]), int(m["end"])
    span = Span(start, end) if start is not None and end is not None else None
    return PassageRef(p.id, doc, span, p.text or "", p.question or "")


def read_passage_refs(path: str | Path) -> tuple[dict[str, PassageRef], list[str]]:
    """Passages with their offsets (`codeur prepare` output, or predictions) for `--passages`."""
    rows, problems = read_table(path, required=("id", "doc_id", "start", "end"))
    out: dict[str, PassageRef] = {}
    for r in rows:
        try:
            out[str(r["id"])] = PassageRef(str(r["id"]), str(r["doc_id"]), Span(int(r["start"]), int(r["end"])),
                                           r.get("text") if isinstance(r.get("text"), str) else "")
        except (TypeError, ValueError) as e:
            problems.append(f"passage {r.get('id')!r}: bad offsets ({e})")
    if not out:
        raise EmptyInputError("no passage with offsets in it", path=str(path),
                              hint="give the output of `codeur prepare` (id, doc_id, start, end, text)")
    return out, problems
