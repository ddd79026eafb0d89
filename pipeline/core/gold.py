"""Gold coding: human codes as spans of a document's plain text, and their passage labels.

Gold spans are stored like the coding references a QDA tool exports (`doc`, `start`, `end`,
`codes`, `coder`), not as labels of today's passages, so changing the segmenter never silently
changes the gold. `passage_labels` turns spans into passage labels with one documented rule.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .codebook import Codebook
from .errors import GoldError
from .spans import Span
from .transcript import Passage, Transcript

#: A passage takes a code when a span with that code covers at least this share of the passage,
#: or when at least this share of the span lies inside the passage.
OVERLAP_SHARE = 0.5
#: the longest turn of another speaker that a span may run over (« oui c'est cela oui »)
INTERJECTION_MAX_WORDS = 8


@dataclass(frozen=True, slots=True)
class GoldSpan:
    doc_id: str
    span: Span
    codes: tuple[str, ...]
    coder: str
    text: str = ""  # the covered plain text, kept so a reader of the file sees what was coded

    def to_dict(self) -> dict:
        return {"doc": self.doc_id, "start": self.span.start, "end": self.span.end,
                "codes": list(self.codes), "coder": self.coder, "text": self.text}


def read_gold(path: str | Path, coder: str | None = None) -> list[GoldSpan]:
    """Read gold spans from a JSONL file (or every *.jsonl of a folder)."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise GoldError("no gold files (*.jsonl) found", path=str(path))
    out: list[GoldSpan] = []
    for f in files:
        try:
            lines = f.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise GoldError("gold file not found", path=str(f)) from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                gs = GoldSpan(
                    doc_id=str(d["doc"]),
                    span=Span(int(d["start"]), int(d["end"])),
                    codes=tuple(d["codes"]),
                    coder=str(d.get("coder") or f.stem),
                    text=d.get("text", ""),
                )
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                raise GoldError(f"line {n}: not a gold span ({type(e).__name__}: {e}); "
                                "expected {\"doc\", \"start\", \"end\", \"codes\", \"coder\"}", path=str(f)) from None
            if coder is None or gs.coder == coder:
                out.append(gs)
    return out


def validate_gold(spans: Iterable[GoldSpan], transcripts: Mapping[str, Transcript], codebook: Codebook,
                  *, where: str = "gold") -> list[str]:
    """Raise `GoldError` on the first hard error; return warnings (e.g. a span crossing speakers' turns
    of the same speaker, which is allowed)."""
    known = set(codebook.codes)
    warnings: list[str] = []
    for i, gs in enumerate(spans, 1):
        tr = transcripts.get(gs.doc_id)
        if tr is None:
            raise GoldError(f"span {i}: document {gs.doc_id!r} has no transcript", path=where,
                            hint="check the doc id or add the transcript to the corpus")
        if gs.span.end > len(tr.text):
            raise GoldError(f"span {i} ({gs.doc_id} {gs.span.start}-{gs.span.end}): offsets out of range "
                            f"(the plain text has {len(tr.text)} characters)", path=where)
        if not gs.codes:
            raise GoldError(f"span {i} ({gs.doc_id} {gs.span.start}-{gs.span.end}): no codes", path=where)
        unknown = [c for c in gs.codes if c not in known]
        if unknown:
            raise GoldError(f"span {i} ({gs.doc_id} {gs.span.start}-{gs.span.end}): unknown code(s) "
                            f"{', '.join(unknown)}", path=where, hint=f"codebook has {', '.join(codebook.codes)}")
        if gs.text and gs.span.of(tr.text) != gs.text:
            raise GoldError(f"span {i} ({gs.doc_id} {gs.span.start}-{gs.span.end}): the stored text does not "
                            "match the transcript at these offsets (was the transcript edited?)", path=where)
        inside = [t for t in tr.turns if t.span.overlap(gs.span) > 0]
        speakers = {t.speaker for t in inside}
        # a passage of spoken interview may run over the interviewer's « oui », « hm hm »: a span
        # may cross other speakers' short interjections when it starts and ends in one speaker's turns
        interjections = len(speakers) > 1 and inside[0].speaker == inside[-1].speaker and all(
            len(t.span.of(tr.text).split()) <= INTERJECTION_MAX_WORDS for t in inside if t.speaker != inside[0].speaker)
        if len(speakers) > 1 and not interjections:
            raise GoldError(f"span {i} ({gs.doc_id} {gs.span.start}-{gs.span.end}): the span crosses turns of "
                            f"several speakers ({', '.join(sorted(speakers))})", path=where)
    return warnings


def passage_labels(passages: Sequence[Passage], spans: Iterable[GoldSpan],
                   share: float = OVERLAP_SHARE) -> dict[str, set[str]]:
    """Passage id → the codes it takes from the gold spans.

    Rule: a passage P takes code c when some span S coded c overlaps it with
    ``|P ∩ S| >= share * |P|`` (the span covers most of the passage) or
    ``|P ∩ S| >= share * |S|`` (most of the span lies in the passage). Every passage of a coded
    document gets an entry, possibly empty: an uncoded passage is a negative for every code.
    """
    by_doc: dict[str, list[GoldSpan]] = defaultdict(list)
    for gs in spans:
        by_doc[gs.doc_id].append(gs)
    labels: dict[str, set[str]] = {}
    for p in passages:
        got: set[str] = set()
        for gs in by_doc.get(p.doc_id, ()):
            ov = p.span.overlap(gs.span)
            if ov and (ov >= share * len(p.span) or ov >= share * len(gs.span)):
                got.update(gs.codes)
        labels[p.id] = got
    return labels


def coders(spans: Iterable[GoldSpan]) -> dict[str, list[GoldSpan]]:
    out: dict[str, list[GoldSpan]] = defaultdict(list)
    for gs in spans:
        out[gs.coder].append(gs)
    return dict(out)
