"""Putting two codings on one list of passages: `align` gives the passages × codes matrices of both
sides (and B's scores), matching passages by id, labelling them from the span side's gold spans by the
overlap rule of pipeline.core.gold, or both; it refuses codings that do not cover the same passages
unless a partial comparison is asked for, and notes what was left out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from ..core.errors import MismatchError, OptionError
from ..core.gold import passage_labels
from .codings import Coding, PassageRef


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


def docs_list(docs: Iterable[str], limit: int = 8) -> str:
    docs = sorted(docs)
    more = f" … ({len(docs)} in all)" if len(docs) > limit else ""
    return ", ".join(docs[:limit]) + more


def label_matrix(coding: Coding, refs: Sequence[PassageRef], codes: Sequence[str]) -> np.ndarray:
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
        return f" (interviews {docs_list(docs)})" if docs else f" (e.g. {docs_list(only, 3)})"

    msg = (f"the two codings do not cover the same passages: {len(only_a)} of {a.name}'s {len(ids_a)} passages "
           f"are missing from {b.name}{where(only_a)}, and {len(only_b)} of {b.name}'s {len(ids_b)} are missing "
           f"from {a.name}{where(only_b)}")
    if not allow_partial:
        raise MismatchError(msg, path=f"{a.source} vs {b.source}", hint=PARTIAL_HINT)
    coverage["partial"] = True
    notes.append(f"partial comparison: {msg}; compared on the {len(ids)} passages both code")
    return ids


def _double_coded(a: Coding, b: Coding, passages: dict[str, PassageRef] | None, allow_partial: bool,
                  coverage: dict[str, Any], notes: list[str]) -> set[str]:
    """Spans vs spans: the passages of the interviews both code."""
    if not passages:
        raise OptionError("two span codings need the passages to compare them on", path=f"{a.source} vs {b.source}",
                          hint="give them with --passages FILE (the output of `codeur prepare`)")
    docs_a, docs_b = a.docs, b.docs
    both = docs_a & docs_b
    if not both:
        raise MismatchError(f"{a.name} and {b.name} code no interview in common "
                            f"({a.name}: {docs_list(docs_a)}; {b.name}: {docs_list(docs_b)})")
    coverage.update(interviews_only_in_a=sorted(docs_a - docs_b), interviews_only_in_b=sorted(docs_b - docs_a))
    lacking = both - {r.doc_id for r in passages.values()}
    if lacking:
        msg = (f"{len(lacking)} interview(s) coded by both have no passage in the passages file: "
               f"{docs_list(lacking)}")
        if not allow_partial:
            raise MismatchError(msg, hint=PARTIAL_HINT)
        coverage["partial"] = True
        notes.append(f"partial comparison: {msg}")
    if docs_a ^ docs_b:
        notes.append(f"compared on the {len(both - lacking)} interview(s) both coded; left out, coded by "
                     f"{a.name} only: {docs_list(docs_a - docs_b) or 'none'}; by {b.name} only: "
                     f"{docs_list(docs_b - docs_a) or 'none'}")
    return {pid for pid, r in passages.items() if r.doc_id in both}


def _under_spans(a: Coding, b: Coding, located: dict[str, PassageRef], allow_partial: bool,
                 coverage: dict[str, Any], notes: list[str]) -> set[str]:
    """Spans vs passages: the passage side's passages, in the interviews the span side codes."""
    p_side, s_side = (a, b) if a.kind == "passages" else (b, a)
    p_key, s_key = ("a", "b") if p_side is a else ("b", "a")
    ids_p = set(p_side.labels)
    unplaced = sorted(i for i in ids_p if not located[i].located)
    if unplaced:
        raise MismatchError(f"{len(unplaced)} of {p_side.name}'s passages have no offsets (doc_id, start, end; "
                            f"e.g. {unplaced[0]!r}), so {s_side.name}'s spans cannot be placed on them",
                            path=p_side.source,
                            hint="give the passages with their offsets: --passages FILE "
                                 "(the output of `codeur prepare`)")
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
               f"that {s_side.name} does not code: {docs_list(outside_docs)}")
        if not allow_partial:
            raise MismatchError(msg, path=p_side.source, hint=PARTIAL_HINT)
        coverage["partial"] = True
        notes.append(f"partial comparison: {msg}; compared on the {len(ids)} others")
    if left_out:
        notes.append(f"{len(left_out)} interview(s) coded by {s_side.name} are not in the coding of {p_side.name} "
                     f"and are left out: {docs_list(left_out)}")
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
                raise MismatchError(
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
        raise MismatchError(f"{a.name} and {b.name} have no passage in common", path=f"{a.source} vs {b.source}")
    refs = sorted((located[i] for i in ids), key=lambda r: (r.doc_id or "", r.span.start if r.span else -1, r.id))
    coverage["n_passages"] = len(refs)
    return Alignment(refs, list(codes), label_matrix(a, refs, codes), label_matrix(b, refs, codes),
                     _score_matrix(b, refs, codes), coverage, notes)
