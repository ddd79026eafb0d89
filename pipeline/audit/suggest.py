"""What to code next: the passages a trained model is least sure of (active learning).

Uncertainty sampling (Lewis & Gale 1994, "A sequential algorithm for training text classifiers"):
a passage's margin is the distance between a code's score and that code's decision threshold,
|score − threshold|, and the passage is as uncertain as its most uncertain code,
margin = min over codes. The passages with the smallest margins are the ones whose coding would most
likely change the model's decisions; each suggestion names the code concerned.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..core.errors import EmptyInputError
from ..core.prediction import Prediction
from ..core.tables import read_predictions

DEFAULT_N = 50


@dataclass(frozen=True)
class Suggestion:
    """A passage to code next, and the code whose decision is closest to its threshold."""

    rank: int
    id: str
    doc_id: str | None
    start: int | None
    end: int | None
    code: str
    score: float
    threshold: float
    margin: float
    predicted_codes: list[str]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def uncertainty_margins(scores: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per passage (rows of `scores`, passages × codes): the smallest |score − threshold| over codes,
    and the index of the code where it is reached (the first such code on ties)."""
    scores = np.asarray(scores, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    if scores.ndim != 2 or scores.shape[1] != thresholds.shape[0]:
        raise ValueError("scores must be passages × codes, with one threshold per code")
    gaps = np.abs(scores - thresholds[None, :])
    which = np.argmin(gaps, axis=1) if len(gaps) else np.zeros(0, dtype=int)
    return gaps[np.arange(len(gaps)), which], which


def interview_of(p: Prediction) -> str:
    """A passage's interview: its `doc_id`, else the part of its id before ":"."""
    return p.doc_id or p.id.split(":")[0]


def suggest(rows: Sequence[Prediction], codes: Sequence[str], thresholds: Sequence[float],
            n: int = DEFAULT_N, per_interview: int | None = None) -> list[Suggestion]:
    """The `n` predictions (each with `scores` for every code, and ideally `doc_id`, `start`, `end`,
    `text`) with the smallest margin; ties broken by passage id so the order is reproducible.
    `per_interview` caps how many come from one interview (its `doc_id`, else the part of the id
    before ":"), so that a batch to code is not one interview's hardest stretch."""
    if n < 1:
        raise ValueError("n must be at least 1")
    if per_interview is not None and per_interview < 1:
        raise ValueError("per_interview must be at least 1")
    if not rows:
        return []
    scores = np.array([[r.scores[c] for c in codes] for r in rows])
    th = np.asarray(thresholds, dtype=float)
    margin, which = uncertainty_margins(scores, th)
    ranked = sorted(range(len(rows)), key=lambda i: (margin[i], rows[i].id))
    if per_interview is None:
        order = ranked[:n]
    else:
        taken: dict[str, int] = {}
        order = []
        for i in ranked:
            doc = interview_of(rows[i])
            if taken.get(doc, 0) < per_interview:
                taken[doc] = taken.get(doc, 0) + 1
                order.append(i)
                if len(order) == n:
                    break
    out = []
    for rank, i in enumerate(order, 1):
        r, j = rows[i], int(which[i])
        predicted = [c for c, s, t in zip(codes, scores[i], th) if s >= t]
        out.append(Suggestion(rank, r.id, r.doc_id, r.start, r.end, codes[j], round(float(scores[i, j]), 5),
                              float(th[j]), round(float(margin[i]), 5), predicted, r.text or ""))
    return out


@dataclass
class Pool:
    """The passages to choose from, each with the model's scores."""

    rows: list[Prediction]
    n_scored_here: int        # rows the model scored now (the others came with scores)
    notes: list[str]


def read_pool(path: str | Path, codes: Sequence[str]) -> tuple[list[Prediction], list[str]]:
    """Passages (`codeur prepare` output) or predictions (`codeur classify` output); a passage
    needs `id`, and `text` unless it already has a score for every code."""
    rows, problems = read_predictions(path, required=("id",))
    kept = []
    for r in rows:
        if not r.has_scores_for(codes) and r.text is None:
            problems.append(f"passage {r.id!r}: no 'text' to score and no 'scores' for every code")
            continue
        kept.append(r)
    if not kept:
        detail = f" ({len(problems)} row(s) skipped, first: {problems[0]})" if problems else ""
        raise EmptyInputError(f"no passage in the pool{detail}", path=str(path),
                              hint="give passages (`codeur prepare`) or predictions (`codeur classify`)")
    return kept, problems


def score_pool(rows: list[Prediction], codes: Sequence[str], load_model: Callable[[], Any], *,
               model_name: str | None = None, on_batch: Callable[[int], None] | None = None) -> Pool:
    """Scores for every row: rows that already carry a score for each code keep them (the model is
    not run again); the others are classified with the model, loaded only if needed."""
    from ..classify.batch import classify_rows

    todo = [r for r in rows if not r.has_scores_for(codes)]
    notes = []
    if todo:
        scored = classify_rows(load_model(), [r.to_row() for r in todo], on_batch=on_batch)
        for r, row in zip(todo, scored):
            r.codes, r.scores, r.model = row["codes"], row["scores"], row["model"]
    scored_here = {id(r) for r in todo}
    others = {r.model for r in rows if id(r) not in scored_here and r.model}
    if model_name and others - {model_name}:
        notes.append(f"the pool's scores come from {', '.join(sorted(others))}; the thresholds from {model_name}")
    return Pool(rows, len(todo), notes)
