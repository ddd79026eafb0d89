"""The `Prediction`: the row `codeur classify` writes, a `Passage` with the model's codes and scores.

Classify writes each input row back with `codes` (the codes above the model's thresholds), `scores`
({code: probability}) and `model` added. Every later command reads those rows with
`pipeline.core.tables.read_predictions`, which makes them `Prediction`s with `from_row`: the fields
a consumer uses are checked once, here, and every other field of the row is kept in `extra`, so
`to_row` gives the row back as it came (same keys, same order).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from .spans import Span
from .transcript import Passage, passage_id, row_problem

#: The fields of a prediction, in the order `codeur classify` writes them; the other fields of a
#: passage row (speaker, role, n_words, turns...) come between `doc_id` and `codes` and are kept in
#: `Prediction.extra`.
PREDICTION_FIELDS = ("id", "doc_id", "start", "end", "text", "clean_text", "question", "codes", "scores", "model")
CODES_PROBLEM = "'codes' must be a list of code names"
SCORES_PROBLEM = "'scores' must map code names to probabilities in [0, 1]"


def parse_codes(value: Any) -> list[str] | None:
    """A row's `codes`: a list of code names, or one of its forms in a CSV cell, the JSON list
    `["a", "b"]` or `a;b` (commas also separate); None when the row has none. A ValueError says what
    is wrong."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError(f"'codes' is not a JSON list: {text[:40]!r}") from None
        else:
            return [c.strip() for c in text.replace(";", ",").split(",") if c.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(c, str) for c in value):
        raise ValueError(CODES_PROBLEM)
    return list(value)


def parse_scores(value: Any) -> dict[str, float] | None:
    """A row's `scores`: {code: probability in [0, 1]}, None when the row has none."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in value.values()):
        raise ValueError(SCORES_PROBLEM)
    return {str(c): float(v) for c, v in value.items()}


def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string")
    return value


@dataclass
class Prediction:
    """One coded passage. `codes` is None for a row without them (a passage not yet classified),
    `scores` None for a coding without probabilities (a human's passage codes); offsets and texts are
    None when the row does not give them. `extra` holds the row's other fields, as they came."""

    id: str
    doc_id: str | None = None
    start: int | None = None
    end: int | None = None
    text: str | None = None
    clean_text: str | None = None
    question: str | None = None
    codes: list[str] | None = None
    scores: dict[str, float] | None = None
    model: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the row's keys in their order, so that `to_row` writes them back in the same order
    keys: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def labels(self) -> frozenset[str]:
        """The codes given, as a set (empty when none)."""
        return frozenset(self.codes or ())

    @property
    def span(self) -> Span | None:
        return Span(self.start, self.end) if self.start is not None and self.end is not None else None

    @property
    def located(self) -> bool:
        """Has an interview and offsets: can be placed in its transcript."""
        return self.doc_id is not None and self.span is not None

    def as_passage(self) -> Passage:
        """The passage coded (for the overlap rule of pipeline.core.gold); a ValueError when the row
        lacks its interview, offsets or text."""
        if not self.located or self.text is None:
            missing = [k for k in ("doc_id", "start", "end", "text") if getattr(self, k) is None]
            raise ValueError(f"missing {', '.join(missing)}")
        return Passage(self.id, self.doc_id, str(self.extra.get("speaker") or ""),
                       str(self.extra.get("role") or "interviewee"), self.span, self.text,
                       self.clean_text if self.clean_text is not None else self.text,
                       question=self.question or "")

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Prediction":
        """A prediction from a table row (JSONL object, Parquet row, CSV row with its cells parsed).
        A ValueError says why the row cannot be used: ids, offsets and text as
        `pipeline.core.transcript.row_problem` checks them; `codes` a list of code names or its CSV
        forms; `scores` code → probability in [0, 1]. A row without `id` takes the id its location
        gives ("E03:120-345")."""
        problem = row_problem(dict(row))
        if problem:
            raise ValueError(problem)
        start, end = row.get("start"), row.get("end")  # both or neither (row_problem)
        pid = row.get("id")
        if pid is None:
            if row.get("doc_id") is None or start is None:
                raise ValueError("no 'id', and no 'doc_id', 'start' and 'end' to name the passage by")
            pid = passage_id(row["doc_id"], Span(start, end))
        codes = parse_codes(row.get("codes"))
        scores = parse_scores(row.get("scores"))
        model = row.get("model")
        return cls(id=str(pid), doc_id=row.get("doc_id"), start=start, end=end, text=_text(row, "text"),
                   clean_text=_text(row, "clean_text"), question=_text(row, "question"), codes=codes,
                   scores=scores, model=None if model is None else str(model),
                   extra={k: v for k, v in row.items() if k not in PREDICTION_FIELDS}, keys=tuple(row))

    def to_row(self) -> dict[str, Any]:
        """The row: the fields it was read with, in their order, then any field set since (None
        fields left out); a prediction made in code gets the fields of PREDICTION_FIELDS in order."""
        row: dict[str, Any] = {}
        for key in self.keys:
            row[key] = getattr(self, key) if key in PREDICTION_FIELDS else self.extra.get(key)
        for key in PREDICTION_FIELDS:
            if key not in row and getattr(self, key) is not None:
                row[key] = getattr(self, key)
        for key, value in self.extra.items():
            row.setdefault(key, value)
        return row

    def has_scores_for(self, codes) -> bool:
        """A probability for every one of `codes`."""
        return self.scores is not None and all(c in self.scores for c in codes)
