"""Replacing mentions: a `Replacement` of a `Span` of the original text, the text with its
replacements applied, and an `OffsetMap` that carries gold spans (and any other offset) over to
the pseudonymised text."""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from ...core.gold import GoldSpan
from ...core.spans import Span

@dataclass(frozen=True, slots=True)
class Replacement:
    """`span` of the original text is replaced by `pseudonym` (the text actually written)."""

    span: Span
    original: str
    pseudonym: str
    kind: str


class OffsetMap:
    """Original offsets → pseudonymised offsets, from sorted, non-overlapping replacements.

    An offset outside every replacement moves by the length change of the replacements before it.
    A span boundary that falls inside a replaced name snaps outward (a start to the pseudonym's
    start, an end to its end), so a carried span always covers whole pseudonyms.
    """

    def __init__(self, replacements: Sequence[Replacement]):
        self.old: list[Span] = []
        self.new: list[Span] = []
        delta, last = 0, 0
        for r in replacements:
            if r.span.start < last:
                raise ValueError("replacements must be sorted and must not overlap")
            start = r.span.start + delta
            self.old.append(r.span)
            self.new.append(Span(start, start + len(r.pseudonym)))
            delta += len(r.pseudonym) - len(r.span)
            last = r.span.end
        self._old_starts = [s.start for s in self.old]

    def _locate(self, pos: int) -> tuple[int, int]:
        """(index of the last replacement starting before `pos`, shift of text before `pos`)."""
        i = bisect.bisect_left(self._old_starts, pos) - 1
        if i < 0:
            return -1, 0
        return i, self.new[i].end - self.old[i].end

    def start(self, pos: int) -> int:
        i, delta = self._locate(pos)
        if i >= 0 and pos < self.old[i].end:
            return self.new[i].start
        return pos + delta

    def end(self, pos: int) -> int:
        i, delta = self._locate(pos)
        if i >= 0 and pos < self.old[i].end:
            return self.new[i].end
        return pos + delta

    def carry(self, span: Span) -> Span:
        start = self.start(span.start)
        if not len(span):
            return Span(start, start)
        return Span(start, max(start, self.end(span.end)))


def apply_replacements(text: str, replacements: Sequence[Replacement]) -> str:
    parts, last = [], 0
    for r in replacements:
        parts.append(text[last:r.span.start])
        parts.append(r.pseudonym)
        last = r.span.end
    parts.append(text[last:])
    return "".join(parts)


@dataclass
class PseudonymizedDoc:
    doc_id: str
    text: str                          # the pseudonymised plain text
    replacements: list[Replacement]    # sorted, non-overlapping, in original offsets
    offsets: OffsetMap


def carry_gold(spans: Iterable[GoldSpan], docs: Mapping[str, PseudonymizedDoc]) -> tuple[list[GoldSpan], int]:
    """Gold spans moved onto the pseudonymised texts (their stored text updated); spans of documents
    that were not pseudonymised are left out and counted."""
    out, skipped = [], 0
    for gs in spans:
        doc = docs.get(gs.doc_id)
        if doc is None:
            skipped += 1
            continue
        span = doc.offsets.carry(gs.span)
        out.append(GoldSpan(gs.doc_id, span, gs.codes, gs.coder, span.of(doc.text)))
    return out, skipped
