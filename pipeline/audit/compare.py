"""The audit, last stage of the pipeline: two codings of the same passages → an `AgreementReport`.

A coding is gold spans (pipeline.core.gold) or passage-level codes (predictions, a corpus export). Both
are put on one set of passages, then compared code by code with the statistics of
pipeline.core.agreement, with 95 % intervals from a bootstrap over interviews, calibration of the
scores, the disagreements to adjudicate, and optionally a second human coder as reference.
"""
from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..core.agreement import (cluster_bootstrap, expected_calibration_error, percentile_interval, reliability_curve,
                        summary_scores)
from ..core.atomic import atomic_open, write_json, write_text
from ..core.codebook import Codebook
from ..core.errors import DataError, GoldError
from ..core.gold import OVERLAP_SHARE, GoldSpan, passage_labels, read_gold
from ..core.spans import Span
from ..core.prediction import Prediction
from ..core.tables import read_predictions, read_table, spreadsheet_text
from ..core.transcript import Passage

#: Bootstrap defaults: 1000 resamples of the interviews, seed 0, 95 % percentile intervals.
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
CONFIDENCE = 0.95
#: Equal-width bins of the reliability curve.
CALIBRATION_BINS = 10
#: Below this many interviews, percentile intervals of an interview bootstrap tend to be too narrow.
FEW_INTERVIEWS = 10
#: Statistics that get an interval, per code and averaged.
CODE_STATS = ("precision", "recall", "f1", "kappa", "alpha", "agreement")
OVERALL_STATS = ("macro_f1", "micro_f1", "mean_kappa", "mean_alpha", "macro_precision", "macro_recall")
DIMENSION_STATS = ("f1", "kappa", "alpha")
#: Passage ids name their location (pipeline.core.transcript.passage_id): "E03:120-345".
_PASSAGE_ID = re.compile(r"^(?P<doc>.+):(?P<start>\d+)-(?P<end>\d+)$")
CSV_ENCODING = "utf-8-sig"  # with a BOM, so that spreadsheet programs read the accents right


# --- codings -------------------------------------------------------------------------------------

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
        raise DataError("file not found", path=str(path))
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
            raise DataError("the first record is neither a passage ({\"id\", \"codes\", …}) nor a gold span "
                            "({\"doc\", \"start\", \"end\", \"codes\", \"coder\"})", path=str(path))
    raise DataError("empty file: no passage or gold span in it", path=str(path))


def _unknown_codes_error(unknown: Iterable[str], codebook: Codebook, path: str, cls=DataError):
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
        raise DataError(f"no usable passage in it{detail}", path=str(path),
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
        raise DataError("no passage with offsets in it", path=str(path),
                        hint="give the output of `codeur prepare` (id, doc_id, start, end, text)")
    return out, problems


# --- putting two codings on one set of passages ------------------------------------------------

@dataclass
class Alignment:
    """Two codings on one list of passages: `y_a`, `y_b` are passages × codes (0/1); `scores_b` holds
    B's probabilities (NaN where B gave none) when B is a classifier."""

    passages: list[PassageRef]
    codes: list[str]
    y_a: np.ndarray
    y_b: np.ndarray
    scores_b: np.ndarray | None
    coverage: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def interviews(self) -> list[str]:
        return sorted({p.doc_id for p in self.passages if p.doc_id is not None})


def _docs_list(docs: Iterable[str], limit: int = 8) -> str:
    docs = sorted(docs)
    more = f" … ({len(docs)} in all)" if len(docs) > limit else ""
    return ", ".join(docs[:limit]) + more


def _label_matrix(coding: Coding, refs: Sequence[PassageRef], codes: Sequence[str]) -> np.ndarray:
    if coding.kind == "spans":
        got = passage_labels([r.as_passage() for r in refs], coding.spans)
        sets = [got[r.id] for r in refs]
    else:
        sets = [coding.labels[r.id] for r in refs]
    return np.array([[int(c in s) for c in codes] for s in sets], dtype=np.int8).reshape(len(refs), len(codes))


def _score_matrix(coding: Coding, refs: Sequence[PassageRef], codes: Sequence[str]) -> np.ndarray | None:
    if coding.kind != "passages" or not coding.scores:
        return None
    m = np.full((len(refs), len(codes)), np.nan)
    for i, r in enumerate(refs):
        s = coding.scores.get(r.id, {})
        for j, c in enumerate(codes):
            if c in s:
                m[i, j] = s[c]
    return m


PARTIAL_HINT = "pass --allow-partial to compare on what both cover (the gap is recorded in the report)"


def _match_ids(a: Coding, b: Coding, located: dict[str, PassageRef], allow_partial: bool,
               coverage: dict[str, Any], notes: list[str]) -> set[str]:
    """Passages vs passages: the ids both code; a difference is refused unless `allow_partial`."""
    ids_a, ids_b = set(a.labels), set(b.labels)
    only_a, only_b = ids_a - ids_b, ids_b - ids_a
    ids = ids_a & ids_b
    coverage.update(passages_only_in_a=len(only_a), passages_only_in_b=len(only_b))
    if not (only_a or only_b):
        return ids

    def where(only: set[str]) -> str:
        if not only:
            return ""
        docs = {located[i].doc_id for i in only if located[i].doc_id}
        return f" (interviews {_docs_list(docs)})" if docs else f" (e.g. {_docs_list(only, 3)})"

    msg = (f"the two codings do not cover the same passages: {len(only_a)} of {a.name}'s {len(ids_a)} passages "
           f"are missing from {b.name}{where(only_a)}, and {len(only_b)} of {b.name}'s {len(ids_b)} are missing "
           f"from {a.name}{where(only_b)}")
    if not allow_partial:
        raise DataError(msg, path=f"{a.source} vs {b.source}", hint=PARTIAL_HINT)
    coverage["partial"] = True
    notes.append(f"partial comparison: {msg}; compared on the {len(ids)} passages both code")
    return ids


def _double_coded(a: Coding, b: Coding, passages: dict[str, PassageRef] | None, allow_partial: bool,
                  coverage: dict[str, Any], notes: list[str]) -> set[str]:
    """Spans vs spans: the passages of the interviews both code."""
    if not passages:
        raise DataError("two span codings need the passages to compare them on", path=f"{a.source} vs {b.source}",
                        hint="give them with --passages FILE (the output of `codeur prepare`)")
    docs_a, docs_b = a.docs, b.docs
    both = docs_a & docs_b
    if not both:
        raise DataError(f"{a.name} and {b.name} code no interview in common "
                        f"({a.name}: {_docs_list(docs_a)}; {b.name}: {_docs_list(docs_b)})")
    coverage.update(interviews_only_in_a=sorted(docs_a - docs_b), interviews_only_in_b=sorted(docs_b - docs_a))
    lacking = both - {r.doc_id for r in passages.values()}
    if lacking:
        msg = (f"{len(lacking)} interview(s) coded by both have no passage in the passages file: "
               f"{_docs_list(lacking)}")
        if not allow_partial:
            raise DataError(msg, hint=PARTIAL_HINT)
        coverage["partial"] = True
        notes.append(f"partial comparison: {msg}")
    if docs_a ^ docs_b:
        notes.append(f"compared on the {len(both - lacking)} interview(s) both coded; left out, coded by "
                     f"{a.name} only: {_docs_list(docs_a - docs_b) or 'none'}; by {b.name} only: "
                     f"{_docs_list(docs_b - docs_a) or 'none'}")
    return {pid for pid, r in passages.items() if r.doc_id in both}


def _under_spans(a: Coding, b: Coding, located: dict[str, PassageRef], allow_partial: bool,
                 coverage: dict[str, Any], notes: list[str]) -> set[str]:
    """Spans vs passages: the passage side's passages, in the interviews the span side codes."""
    p_side, s_side = (a, b) if a.kind == "passages" else (b, a)
    p_key, s_key = ("a", "b") if p_side is a else ("b", "a")
    ids_p = set(p_side.labels)
    unplaced = sorted(i for i in ids_p if not located[i].located)
    if unplaced:
        raise DataError(f"{len(unplaced)} of {p_side.name}'s passages have no offsets (doc_id, start, end; "
                        f"e.g. {unplaced[0]!r}), so {s_side.name}'s spans cannot be placed on them",
                        path=p_side.source,
                        hint="give the passages with their offsets: --passages FILE (the output of `codeur prepare`)")
    span_docs = s_side.docs
    outside = {i for i in ids_p if located[i].doc_id not in span_docs}
    outside_docs = {located[i].doc_id for i in outside}
    ids = ids_p - outside
    left_out = sorted(span_docs - {located[i].doc_id for i in ids_p})
    coverage[f"passages_only_in_{p_key}"] = len(outside)
    coverage[f"interviews_only_in_{p_key}"] = sorted(outside_docs)
    coverage[f"interviews_only_in_{s_key}"] = left_out
    if outside:
        msg = (f"{len(outside)} of {p_side.name}'s {len(ids_p)} passages lie in {len(outside_docs)} interview(s) "
               f"that {s_side.name} does not code: {_docs_list(outside_docs)}")
        if not allow_partial:
            raise DataError(msg, path=p_side.source, hint=PARTIAL_HINT)
        coverage["partial"] = True
        notes.append(f"partial comparison: {msg}; compared on the {len(ids)} others")
    if left_out:
        notes.append(f"{len(left_out)} interview(s) coded by {s_side.name} are not in the coding of {p_side.name} "
                     f"and are left out: {_docs_list(left_out)}")
    check_spans_on_passages(s_side, [located[i] for i in ids], notes)
    return ids


def check_spans_on_passages(side: Coding, refs: Sequence[PassageRef], notes: list[str]) -> None:
    """Spans that cannot belong to the text the passages were cut from: a span whose stored text differs
    from the passages' text at the same offsets is refused (the coding was made on another version of
    the transcript, so every label would be misplaced); spans that lie after the last passage of their
    interview (past the end of its text?) or touch no passage are counted and named in a note."""
    by_doc: dict[str, list[PassageRef]] = {}
    for r in refs:
        if r.located:
            by_doc.setdefault(r.doc_id, []).append(r)
    for d in by_doc.values():
        d.sort(key=lambda r: r.span.start)
    past: list[str] = []
    untouched = 0
    for n, gs in enumerate(side.spans, 1):
        doc = by_doc.get(gs.doc_id)
        if not doc:
            continue
        hits = [r for r in doc if r.span.overlap(gs.span) > 0]
        for r in hits:
            if not gs.text or not r.text or len(r.text) != len(r.span):
                continue
            lo, hi = max(gs.span.start, r.span.start), min(gs.span.end, r.span.end)
            if gs.text[lo - gs.span.start:hi - gs.span.start] != r.text[lo - r.span.start:hi - r.span.start]:
                raise DataError(
                    f"span {n} ({gs.doc_id} {gs.span.start}-{gs.span.end}): its text differs from passage {r.id} at "
                    f"characters {lo}-{hi}, so the coding and the passages come from different versions of the "
                    "transcript", path=side.source,
                    hint="classify the same transcripts the coding was made on (or import the coding again)")
        if not hits:
            untouched += 1
            end = max(r.span.end for r in doc)
            if gs.span.start >= end:
                past.append(f"{gs.doc_id} {gs.span.start}-{gs.span.end} (last passage ends at {end})")
    if past:
        notes.append(f"{len(past)} span(s) of {side.name} ({side.source}) lie after the last passage of their interview, past the "
                     f"end of its text?: {'; '.join(past[:5])}{' …' if len(past) > 5 else ''}")
    if untouched > len(past):
        notes.append(f"{untouched - len(past)} span(s) of {side.name} ({side.source}) touch no passage (interviewer's speech?) and "
                     "take no part in the comparison")


def align(a: Coding, b: Coding, codes: Sequence[str], *, passages: dict[str, PassageRef] | None = None,
          allow_partial: bool = False) -> Alignment:
    """Put codings A and B on one list of passages.

    - passages vs passages: matched by id. If the id sets differ, refuse (saying how many are
      missing on each side) unless `allow_partial`, then keep the intersection and record the gap.
    - spans vs passages: the passages are the passage side's (offsets from its rows, from its ids
      "doc:start-end", or from `passages`); the span side labels them by the overlap rule. Passages
      in interviews the span side does not code count as missing from it (refused unless
      `allow_partial`); interviews only the span side codes are left out and listed (a gold file
      usually codes more interviews than were classified).
    - spans vs spans: on `passages` (required), restricted to the interviews both code (the
      double-coded ones); the other interviews are listed. Doubly coded interviews with no passage in
      `passages` are refused unless `allow_partial`.
    """
    located: dict[str, PassageRef] = {}
    for side in (b, a):
        for pid, ref in side.passages.items():
            if pid not in located or (ref.located and not located[pid].located):
                located[pid] = ref
    if passages:
        for pid, ref in passages.items():
            old = located.get(pid)
            located[pid] = PassageRef(pid, ref.doc_id, ref.span, ref.text or (old.text if old else ""),
                                      ref.question or (old.question if old else ""))

    coverage: dict[str, Any] = {"passages_only_in_a": 0, "passages_only_in_b": 0,
                                "interviews_only_in_a": [], "interviews_only_in_b": [], "partial": False}
    notes: list[str] = []
    if a.kind == "passages" and b.kind == "passages":
        ids = _match_ids(a, b, located, allow_partial, coverage, notes)
    elif a.kind == "spans" and b.kind == "spans":
        ids = _double_coded(a, b, passages, allow_partial, coverage, notes)
    else:
        ids = _under_spans(a, b, located, allow_partial, coverage, notes)
    if not ids:
        raise DataError(f"{a.name} and {b.name} have no passage in common", path=f"{a.source} vs {b.source}")
    refs = sorted((located[i] for i in ids), key=lambda r: (r.doc_id or "", r.span.start if r.span else -1, r.id))
    coverage["n_passages"] = len(refs)
    return Alignment(refs, list(codes), _label_matrix(a, refs, codes), _label_matrix(b, refs, codes),
                     _score_matrix(b, refs, codes), coverage, notes)


# --- the report ----------------------------------------------------------------------------------

@dataclass
class AgreementStats:
    """Statistics of one comparison (B against reference A) on one set of passages: per code, the
    macro/micro/mean figures and per dimension, each with its bootstrap interval under `ci`."""

    a_name: str
    b_name: str
    n_passages: int
    interviews: list[str]
    bootstrap: dict[str, Any]
    per_code: dict[str, dict[str, Any]]
    overall: dict[str, Any]
    per_dimension: dict[str, dict[str, Any]]


@dataclass
class Calibration:
    """Reliability curve and expected calibration error of B's scores against A's codes."""

    n_bins: int
    n_decisions: int
    ece: float
    curve: list[dict]
    per_code: dict[str, dict[str, Any]]


@dataclass
class Disagreement:
    """One (passage, code) on which A and B differ, for a researcher to adjudicate."""

    passage_id: str
    doc_id: str | None
    start: int | None
    end: int | None
    code: str
    a: int
    b: int
    b_score: float | None
    threshold: float | None
    confidence: float | None  # B's probability for its own decision: score if B coded it, else 1 − score
    text: str
    question: str = ""  # the interviewer's words before the passage, when known


@dataclass
class AgreementReport:
    """Everything the audit found; `metrics.json` is `to_dict()` and the HTML report is drawn from it."""

    created: str
    a: dict[str, Any]
    b: dict[str, Any]
    codebook: dict[str, Any]
    model: dict[str, Any] | None
    coverage: dict[str, Any]
    agreement: AgreementStats
    calibration: Calibration | None
    disagreements: list[Disagreement]
    reference: AgreementStats | None = None
    reference_source: dict[str, Any] | None = None
    machine_on_reference: AgreementStats | None = None  # B vs A on the reference's passages, when fewer
    comparison: dict[str, Any] | None = None  # B against another coding C, both against A (paired)
    overlap_rule: str = ""
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(x: Any) -> Any:
    """NaN (an undefined statistic) becomes null: metrics.json stays valid JSON."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(x) else float(x)
    return x


def _ci(samples) -> list[float]:
    return list(percentile_interval(samples, CONFIDENCE))


def agreement_stats(y_a: np.ndarray, y_b: np.ndarray, codes: Sequence[str], groups: Sequence[str],
                    codebook: Codebook, *, a_name: str, b_name: str, unit: str = "interview",
                    n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> AgreementStats:
    """B against reference A: point estimates from pipeline.core.agreement.summary_scores, intervals from
    a cluster bootstrap over `groups` (the passages' interviews; pipeline.core.agreement.cluster_bootstrap):
    percentile intervals at 95 %, resamples where a statistic is undefined left out.
    `n_resamples=0` gives no intervals."""
    point = summary_scores(y_a, y_b, codes)
    boot = cluster_bootstrap(y_a, y_b, groups, n_resamples=n_resamples, seed=seed) if n_resamples else None
    per_code: dict[str, dict[str, Any]] = {}
    for j, code in enumerate(codes):
        row = {"dimension": codebook.dimension_of(code), **point["per_code"][code]}
        if boot is not None:
            row["ci"] = {s: _ci(boot.per_code[s][:, j]) for s in CODE_STATS}
            row["undefined_resamples"] = {s: int(np.isnan(boot.per_code[s][:, j]).sum()) for s in ("kappa", "alpha")}
        per_code[code] = row
    overall: dict[str, Any] = {s: point[s] for s in OVERALL_STATS}
    if boot is not None:
        overall["ci"] = {s: _ci(boot.overall[s]) for s in OVERALL_STATS}
    per_dimension: dict[str, dict[str, Any]] = {}
    for dim in codebook.dimensions:
        cols = [j for j, c in enumerate(codes) if c in {x.name for x in dim.codes}]
        if not cols:
            continue
        d: dict[str, Any] = {"label": dim.label, "codes": [codes[j] for j in cols]}
        for s in DIMENSION_STATS:
            d[f"mean_{s}"] = _nanmean([per_code[codes[j]][s] for j in cols])
        if boot is not None:
            d["ci"] = {f"mean_{s}": _ci(_nanmean_rows(boot.per_code[s][:, cols])) for s in DIMENSION_STATS}
        per_dimension[dim.name] = d
    boot_info = {"unit": unit, "n_resamples": n_resamples, "seed": seed, "confidence": CONFIDENCE,
                 "n_units": len(set(groups)), "method": "percentile"}
    return AgreementStats(a_name, b_name, int(len(y_a)), sorted(set(groups)) if unit == "interview" else [],
                          boot_info, per_code, overall, per_dimension)


def _nanmean(xs: Sequence[float]) -> float:
    vals = [x for x in xs if not math.isnan(x)]
    return float(np.mean(vals)) if vals else math.nan


def _nanmean_rows(m: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(m)
    n = ok.sum(axis=1)
    total = np.where(ok, m, 0.0).sum(axis=1)
    return np.divide(total, n, out=np.full(len(m), np.nan), where=n > 0)


def calibration(y_a: np.ndarray, scores: np.ndarray, codes: Sequence[str],
                n_bins: int = CALIBRATION_BINS) -> Calibration:
    """Reliability curve and ECE (pipeline.core.agreement) of B's scores against A's codes, pooled over all
    (passage, code) pairs and per code."""
    per_code = {c: {"ece": expected_calibration_error(y_a[:, j], scores[:, j], n_bins),
                    "curve": reliability_curve(y_a[:, j], scores[:, j], n_bins)} for j, c in enumerate(codes)}
    return Calibration(n_bins, int(scores.size), expected_calibration_error(y_a, scores, n_bins),
                       reliability_curve(y_a, scores, n_bins), per_code)


def disagreements(al: Alignment, thresholds: dict[str, float] | None = None) -> list[Disagreement]:
    """One row per (passage, code) where A and B differ, most confident first: sorted by B's
    probability for its own decision (score if B coded it, 1 − score if not), then by interview,
    position and codebook order. Without scores, in interview, position and codebook order."""
    rows: list[Disagreement] = []
    for i, j in zip(*np.nonzero(al.y_a != al.y_b)):
        p, code = al.passages[i], al.codes[j]
        b = int(al.y_b[i, j])
        score = None
        if al.scores_b is not None and not math.isnan(al.scores_b[i, j]):
            score = float(al.scores_b[i, j])
        rows.append(Disagreement(p.id, p.doc_id, p.span.start if p.span else None, p.span.end if p.span else None,
                                 code, int(al.y_a[i, j]), b, score, (thresholds or {}).get(code),
                                 None if score is None else round(score if b else 1 - score, 6), p.text,
                                 p.question))
    # `rows` is already in passage then code order; a stable sort keeps it within equal confidence
    rows.sort(key=lambda d: -(d.confidence if d.confidence is not None else -1.0))
    return rows


def _groups(refs: Sequence[PassageRef]) -> tuple[list[str], str]:
    if all(r.doc_id is not None for r in refs):
        return [r.doc_id for r in refs], "interview"
    return [r.id for r in refs], "passage"


def build_report(a: Coding, b: Coding, codebook: Codebook, *, passages: dict[str, PassageRef] | None = None,
                 allow_partial: bool = False, reference: Coding | None = None,
                 model_card: dict[str, Any] | None = None, n_resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED, compare: Coding | None = None) -> AgreementReport:
    """Compare B (e.g. the classifier, coder 2) against reference A (gold, coder 1) on the codebook's
    codes; optionally a second human coder `reference` against A on the double-coded interviews, and
    another model's predictions `compare` (C) against B, both scored against A on the same passages."""
    codes = codebook.codes
    al = align(a, b, codes, passages=passages, allow_partial=allow_partial)
    notes = list(al.notes)
    groups, unit = _groups(al.passages)
    if unit == "passage":
        notes.append("the passages carry no interview id (doc_id), so the bootstrap resamples passages: "
                     "the intervals are too narrow if passages of one interview resemble each other")
    elif len(set(groups)) < FEW_INTERVIEWS:
        notes.append(f"only {len(set(groups))} interview(s): the bootstrap intervals are rough (with few "
                     "interviews they tend to be too narrow)")
    stats = agreement_stats(al.y_a, al.y_b, codes, groups, codebook, a_name=a.name, b_name=b.name, unit=unit,
                            n_resamples=n_resamples, seed=seed)
    for code, r in stats.per_code.items():
        if r["tp"] + r["fn"] == 0 and r["tp"] + r["fp"] == 0:
            notes.append(f"{code}: neither coding uses it on these passages; kappa and alpha are undefined")

    thresholds = {c: float(t) for c, t in (model_card or {}).get("thresholds", {}).items()}
    model_info = None
    if model_card is not None:
        model_info = {k: model_card.get(k) for k in ("name", "backend", "codebook_name", "codebook_hash", "created",
                                                     "seed", "data_hash")}
        model_info["thresholds"] = thresholds
        if b.model and b.model != model_card.get("name"):
            notes.append(f"{b.name}'s rows name the model {b.model!r}, the model card {model_card.get('name')!r}")

    cal = None
    if al.scores_b is not None:
        if np.isnan(al.scores_b).any():
            notes.append(f"{b.name} has scores for only some passages or codes: no calibration")
        else:
            cal = calibration(al.y_a, al.scores_b, codes)
            if thresholds:
                th = np.array([thresholds.get(c, np.nan) for c in codes])
                off = int(np.sum((al.scores_b >= th[None, :]) != al.y_b.astype(bool)))
                if off:
                    notes.append(f"{off} of {b.name}'s decisions do not follow the model card's thresholds "
                                 "(were the predictions made with another model?)")

    report = AgreementReport(
        created=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        a=a.describe(), b=b.describe(),
        codebook={"name": codebook.name, "hash": codebook.content_hash(), "codes": codes,
                  "dimensions": {d.name: [c.name for c in d.codes] for d in codebook.dimensions}},
        model=model_info, coverage=al.coverage, agreement=stats, calibration=cal,
        disagreements=disagreements(al, thresholds), notes=notes,
        overlap_rule=(f"a passage takes a code when a span with that code covers at least {OVERLAP_SHARE:.0%} of the "
                      f"passage, or at least {OVERLAP_SHARE:.0%} of the span lies inside the passage"),
    )
    for side in (a, b):
        notes.extend(f"{side.source}: skipped {p}" for p in side.problems[:20])
        if len(side.problems) > 20:
            notes.append(f"{side.source}: … {len(side.problems) - 20} more skipped row(s)")
    if reference is not None:
        _add_reference(report, al, a, reference, codebook, n_resamples=n_resamples, seed=seed)
    if compare is not None:
        _add_comparison(report, al, compare, groups, n_resamples=n_resamples, seed=seed)
    return report


def paired_difference(y_a: np.ndarray, y_b: np.ndarray, y_c: np.ndarray, codes: Sequence[str],
                      groups: Sequence[str], *, n_resamples: int = DEFAULT_RESAMPLES,
                      seed: int = DEFAULT_SEED) -> dict[str, dict[str, Any]]:
    """How much better B agrees with A than C does, per overall statistic: the difference of the
    point estimates, its 95 % percentile interval from a paired cluster bootstrap (B and C are
    scored on the very same resamples of the interviews, so what the interviews have in common
    cancels out), and the share of resamples where B is ahead."""
    point_b, point_c = summary_scores(y_a, y_b, codes), summary_scores(y_a, y_c, codes)
    out: dict[str, dict[str, Any]] = {}
    boot_b = cluster_bootstrap(y_a, y_b, groups, n_resamples=n_resamples, seed=seed) if n_resamples else None
    boot_c = cluster_bootstrap(y_a, y_c, groups, n_resamples=n_resamples, seed=seed) if n_resamples else None
    for st in OVERALL_STATS:
        row: dict[str, Any] = {"b": point_b[st], "c": point_c[st], "difference": point_b[st] - point_c[st]}
        if boot_b is not None:
            d = boot_b.overall[st] - boot_c.overall[st]
            row["ci"] = _ci(d)
            ok = ~np.isnan(d)
            row["share_b_ahead"] = float(np.mean(d[ok] > 0)) if ok.any() else math.nan
        out[st] = row
    return out


def _add_comparison(report: AgreementReport, al: Alignment, c: Coding, groups: Sequence[str], *,
                    n_resamples: int, seed: int) -> None:
    if c.kind == "spans":
        raise DataError("--compare takes predictions (passages with 'id' and 'codes'), not spans", path=c.source)
    missing = [p.id for p in al.passages if p.id not in c.labels]
    if missing:
        raise DataError(f"{len(missing)} of the {len(al.passages)} compared passages are not in {c.name} "
                        f"(first: {missing[0]})", path=c.source,
                        hint="classify the same inputs with both models, so both code the same passages")
    y_c = _label_matrix(c, al.passages, al.codes)
    report.comparison = {"name": c.name, "source": c.source, "n_passages": len(al.passages),
                         "statistics": paired_difference(al.y_a, al.y_b, y_c, al.codes, groups,
                                                         n_resamples=n_resamples, seed=seed)}
    report.notes.extend(f"{c.source}: skipped {p}" for p in c.problems[:20])


def _add_reference(report: AgreementReport, al: Alignment, a: Coding, ref: Coding, codebook: Codebook, *,
                   n_resamples: int, seed: int) -> None:
    """Human reference: `ref` (a second coder) against A on the compared passages that `ref` codes."""
    if ref.kind == "spans":
        if not all(p.located for p in al.passages):
            raise DataError("the compared passages have no offsets, so the reference spans cannot be placed on them",
                            path=ref.source, hint="give --passages FILE (the output of `codeur prepare`)")
        docs = ref.docs
        mask = np.array([p.doc_id in docs for p in al.passages])
    else:
        mask = np.array([p.id in ref.labels for p in al.passages])
    if not mask.any():
        raise DataError(f"the reference {ref.name} codes none of the {len(al.passages)} compared passages "
                        f"(interviews {_docs_list(al.interviews)})", path=ref.source)
    refs = [p for p, m in zip(al.passages, mask) if m]
    y_a, y_b = al.y_a[mask], al.y_b[mask]
    y_ref = _label_matrix(ref, refs, al.codes)
    groups, unit = _groups(refs)
    report.reference = agreement_stats(y_a, y_ref, al.codes, groups, codebook, a_name=a.name, b_name=ref.name,
                                       unit=unit, n_resamples=n_resamples, seed=seed)
    report.reference_source = ref.describe()
    if not mask.all():
        report.machine_on_reference = agreement_stats(y_a, y_b, al.codes, groups, codebook, a_name=a.name,
                                                      b_name=report.agreement.b_name, unit=unit,
                                                      n_resamples=n_resamples, seed=seed)
        report.notes.append(f"the human reference covers {len(refs)} of the {len(al.passages)} passages "
                            f"({len(set(groups))} interviews); {report.agreement.b_name} on those same passages "
                            "is shown beside it")
    report.notes.extend(f"{ref.source}: skipped {p}" for p in ref.problems[:20])


# --- output ------------------------------------------------------------------------------------

def _csv_columns(report: AgreementReport) -> list[str]:
    fixed = ["passage_id", "doc_id", "start", "end", "code", "b_score", "threshold", "confidence", "question", "text",
             "decision"]
    a_col, b_col = report.a["name"], report.b["name"]
    if a_col == b_col or a_col in fixed:
        a_col = f"{a_col} (A)"
    if b_col in fixed or b_col == a_col:
        b_col = f"{b_col} (B)"
    return fixed[:5] + [a_col, b_col] + fixed[5:]


def write_disagreements(path: str | Path, report: AgreementReport) -> int:
    """The disagreements as CSV to adjudicate: columns passage_id, doc_id, start, end, code, one column
    per coding (named after it, 1 = coded), b_score, threshold, confidence, text and an empty
    `decision` for the researcher. UTF-8 with a BOM, so spreadsheet programs read the accents."""
    cols = _csv_columns(report)
    with atomic_open(path, encoding=CSV_ENCODING) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for d in report.disagreements:
            w.writerow([spreadsheet_text(d.passage_id), spreadsheet_text(d.doc_id), d.start, d.end, d.code, d.a, d.b,
                        "" if d.b_score is None else d.b_score, "" if d.threshold is None else d.threshold,
                        "" if d.confidence is None else d.confidence, spreadsheet_text(d.question),
                        spreadsheet_text(d.text), ""])
    return len(report.disagreements)


def write_audit(report: AgreementReport, out_dir: str | Path, extra_sections=()) -> dict[str, Path]:
    """Write report.html, metrics.json and disagreements.csv into `out_dir`, each atomically;
    `extra_sections` are (title, HTML fragment) pairs added to the report."""
    from .html import render_report

    out_dir = Path(out_dir)
    names = {"report": "report.html", "metrics": "metrics.json", "disagreements": "disagreements.csv"}
    report.files = dict(names)
    data = report.to_dict()
    write_disagreements(out_dir / names["disagreements"], report)
    write_json(out_dir / names["metrics"], data)
    write_text(out_dir / names["report"], render_report(data, extra_sections))
    return {k: out_dir / v for k, v in names.items()}


def format_estimate(value: float | None, ci: Sequence[float | None] | None = None, digits: int = 3) -> str:
    """"0.712 [0.650, 0.771]"; "—" for an undefined value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    s = f"{value:.{digits}f}"
    if ci and ci[0] is not None and ci[1] is not None and not any(math.isnan(x) for x in ci):
        s += f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
    return s


def headline_lines(metrics: dict[str, Any], metrics_path: str | Path | None = None) -> list[str]:
    """The headline of a metrics.json: the averages with their intervals, the human reference beside
    them, and where the report is."""
    def figures(st: dict) -> str:
        o, ci = st["overall"], st["overall"].get("ci") or {}
        return " · ".join(f"{label} {format_estimate(o[k], ci.get(k))}" for k, label in
                          (("macro_f1", "macro-F1"), ("micro_f1", "micro-F1"), ("mean_kappa", "mean kappa"),
                           ("mean_alpha", "mean alpha")))

    ag = metrics["agreement"]
    boot = ag["bootstrap"]
    lines = [f"{ag['b_name']} vs {ag['a_name']}: {ag['n_passages']} passages, {boot['n_units']} {boot['unit']}s"]
    lines.append("  " + figures(ag))
    if boot["n_resamples"]:
        lines.append(f"  (95 % intervals: percentile bootstrap over {boot['unit']}s, {boot['n_resamples']} resamples, "
                     f"seed {boot['seed']})")
    ref = metrics.get("reference")
    if ref:
        lines.append(f"human reference, {ref['b_name']} vs {ref['a_name']}: {ref['n_passages']} passages, "
                     f"{ref['bootstrap']['n_units']} {ref['bootstrap']['unit']}s")
        lines.append("  " + figures(ref))
        mor = metrics.get("machine_on_reference")
        if mor:
            lines.append(f"{mor['b_name']} on the same passages:")
            lines.append("  " + figures(mor))
    cmp = metrics.get("comparison")
    if cmp:
        from .html import format_difference

        st = cmp["statistics"]
        lines.append(f"{ag['b_name']} minus {cmp['name']}, same passages (paired bootstrap): "
                     + " · ".join(f"{label} {format_difference(st[k])}" for k, label in
                                  (("macro_f1", "macro-F1"), ("micro_f1", "micro-F1"), ("mean_kappa", "mean kappa"))))
        ahead = st["macro_f1"].get("share_b_ahead")
        if ahead is not None and not math.isnan(ahead):
            lines.append(f"  {cmp['name']}: macro-F1 {st['macro_f1']['c']:.3f}; {ag['b_name']} ahead in "
                         f"{ahead:.1%} of the resamples")
    cal = metrics.get("calibration")
    if cal:
        lines.append(f"calibration: expected calibration error {format_estimate(cal['ece'])}")
    files = metrics.get("files") or {}
    if files.get("report"):
        base = Path(metrics_path).parent if metrics_path else Path(".")
        lines.append(f"report: {base / files['report']}")
        if files.get("disagreements"):
            lines.append(f"disagreements to adjudicate ({len(metrics.get('disagreements') or [])}): "
                         f"{base / files['disagreements']}")
    return lines


def read_metrics(path: str | Path) -> dict[str, Any]:
    """An audit's metrics.json (given the file or the audit's folder)."""
    path = Path(path)
    if path.is_dir():
        if not (path / "metrics.json").is_file():
            raise DataError("a folder without metrics.json", path=str(path),
                            hint="give the metrics.json of an audit, or the folder `codeur evaluate --out` wrote")
        path = path / "metrics.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("metrics file not found", path=str(path), hint="run `codeur evaluate` first") from None
    except UnicodeDecodeError:
        raise DataError("not a text file (a metrics.json is JSON text)", path=str(path)) from None
    except OSError as e:
        raise DataError(f"cannot be read ({e.strerror or e})", path=str(path)) from None
    except json.JSONDecodeError as e:
        raise DataError(f"not valid JSON ({e.msg}, line {e.lineno})", path=str(path)) from None
    if not isinstance(data, dict) or "agreement" not in data:
        raise DataError("not a metrics.json written by `codeur evaluate` or `codeur audit`", path=str(path))
    return data
