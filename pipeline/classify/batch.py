"""Batch classification: transcripts (whole pipeline) or a passages table → coded passages.

Each output row keeps the input fields and adds `codes` (names above the model's per-code
thresholds) and `scores` ({code: probability}); rows from transcripts carry document id and offsets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..core.errors import DataError, TableError
from ..core.tables import read_rows
from ..passages.context import Context, contexts_for_rows, has_questions
from .model import TrainedModel

TABLE_SUFFIXES = (".jsonl", ".parquet")


@dataclass
class ClassifyResult:
    rows: list[dict]
    problems: list[str] = field(default_factory=list)   # "file: reason" for inputs or lines skipped
    reports: list = field(default_factory=list)          # FileReports of transcript inputs

    @property
    def n_skipped(self) -> int:
        return len(self.problems) + sum(r.status == "error" for r in self.reports)


def _model_text(row: dict, text_field: str) -> str:
    if text_field == "clean_text":
        if row.get("clean_text"):
            return row["clean_text"]
        from ..passages.clean import clean_text

        return clean_text(row["text"]).text
    return row["text"]


def gather_rows(inputs: Sequence[str | Path], *, strict: bool = False, speaker_config=None,
                on_file: Callable | None = None) -> ClassifyResult:
    """Passages from transcript files/folders (prepared here) and from passage tables, in input order."""
    from ..passages.prepare import prepare

    tables = [Path(p) for p in inputs if Path(p).suffix.lower() in TABLE_SUFFIXES and Path(p).is_file()]
    others = [p for p in inputs if Path(p) not in tables]
    result = ClassifyResult([])
    for t in tables:
        try:
            got = read_rows(t, required=("id", "text"))
        except DataError as e:
            if strict:
                raise
            result.problems.append(f"{t}: {e.reason}")  # a bad table is skipped; the others still run
            continue
        if strict and got.errors:
            raise TableError(got.errors[0], path=str(t))
        result.problems.extend(f"{t}: {e}" for e in got.errors)
        for r in got.rows:
            if not isinstance(r.get("text"), str):
                result.problems.append(f"{t}: passage {r.get('id')!r}: 'text' is not a string")
                continue
            result.rows.append(r)
    if others:
        prepared = prepare(others, speaker_config=speaker_config, strict=strict, on_file=on_file)
        result.reports = prepared.reports
        result.rows.extend(p.to_dict() for p in prepared.passages)
    return result


def context_note(model: TrainedModel, rows: list[dict]) -> str | None:
    """A warning when the model reads contexts but the rows give it none to read."""
    if not model.reads_context or not rows or has_questions(rows):
        return None
    bare = model.card.get("scores", {}).get("test_without_context", {}).get("macro_f1")
    full = model.card.get("scores", {}).get("test", {}).get("macro_f1")
    measured = (f" (on the test interviews: macro-F1 {bare:.3f} without, {full:.3f} with)"
                if bare is not None and full is not None else "")
    return ("this model also reads the interviewer's question before each passage, and these passages have "
            f"no 'question' field, so they are coded from their own words only, less accurately{measured}; "
            "classify the transcripts themselves, or passages written by a recent `codeur prepare`")


def model_contexts(model: TrainedModel, rows: list[dict]) -> list[Context] | None:
    """What a model that reads contexts is given beside each row (None for one that does not)."""
    if not model.reads_context:
        return None
    text_field = model.card.get("text_field", "text")
    return contexts_for_rows(rows, lambda r: _model_text(r, text_field))


def classify_rows(model: TrainedModel, rows: list[dict], *, batch_size: int = 256, n_process: int = 1,
                  on_batch: Callable[[int], None] | None = None,
                  contexts: Sequence[Context] | None = None) -> list[dict]:
    """Add `codes` and `scores` to each row (in place) and return the rows. `contexts` (one per row)
    are those of a larger table the rows were cut from (`model_contexts` of the whole table);
    by default they are read from `rows` themselves."""
    text_field = model.card.get("text_field", "text")
    codes = model.codes
    if not model.reads_context:
        contexts = None
    elif contexts is None:
        contexts = model_contexts(model, rows)
    elif len(contexts) != len(rows):
        raise ValueError(f"{len(contexts)} contexts for {len(rows)} rows")
    chunk = max(batch_size * 4, 1)
    for i in range(0, len(rows), chunk):
        part = rows[i:i + chunk]
        probs = model.predict_proba([_model_text(r, text_field) for r in part], batch_size=batch_size,
                                    n_process=n_process,
                                    contexts=contexts[i:i + chunk] if contexts is not None else None)
        decided = model.decide(probs)
        for r, pr, dec in zip(part, probs, decided):
            r["codes"] = [c for c, d in zip(codes, dec) if d]
            r["scores"] = {c: round(float(p), 5) for c, p in zip(codes, pr)}
            r["model"] = model.name
        if on_batch:
            on_batch(len(part))
    return rows
