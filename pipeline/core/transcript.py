"""The `Transcript`: what every reader produces, whatever the file format.

`Transcript.text` is the canonical plain text of the document (decoded, line endings normalised
to "\\n"). Every turn, passage, gold span and prediction points into it with a `Span`.
`row_problem` says why a passage (or prediction) row read from a table cannot be used.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from .spans import Span

Role = Literal["interviewer", "interviewee", "other", "unknown"]
ROLES: tuple[str, ...] = ("interviewer", "interviewee", "other", "unknown")


@dataclass(slots=True)
class Turn:
    """One speaker turn. `span` covers the spoken text only (not the speaker label)."""

    speaker: str
    span: Span
    role: Role = "unknown"
    start_time: float | None = None
    end_time: float | None = None
    overlapping: bool = False  # several people speaking at once (Transcriber `Who`)

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "role": self.role,
            "start": self.span.start,
            "end": self.span.end,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "overlapping": self.overlapping,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Turn":
        return cls(
            speaker=d["speaker"],
            span=Span(d["start"], d["end"]),
            role=d.get("role", "unknown"),
            start_time=d.get("start_time"),
            end_time=d.get("end_time"),
            overlapping=d.get("overlapping", False),
        )


@dataclass(slots=True)
class Transcript:
    doc_id: str
    source: str
    format: str
    text: str
    turns: list[Turn]
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    role_method: str = ""  # how speaker roles were decided (config, metadata, heuristic)

    def turn_text(self, turn: Turn) -> str:
        return turn.span.of(self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "source": self.source,
            "format": self.format,
            "text": self.text,
            "turns": [t.to_dict() for t in self.turns],
            "metadata": self.metadata,
            "warnings": self.warnings,
            "role_method": self.role_method,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Transcript":
        return cls(
            doc_id=d["doc_id"],
            source=d["source"],
            format=d["format"],
            text=d["text"],
            turns=[Turn.from_dict(t) for t in d["turns"]],
            metadata=d.get("metadata", {}),
            warnings=d.get("warnings", []),
            role_method=d.get("role_method", ""),
        )


@dataclass(slots=True)
class Passage:
    """A unit of coding: part of one speaker's speech, located by `span` in the plain text.

    `text` is exactly `transcript.text[span.start:span.end]`; `clean_text` is what classifiers see.
    A passage made of several turns (joined across a backchannel) spans the backchannel too, but
    its `clean_text` holds only the speaker's own words.
    """

    id: str
    doc_id: str
    speaker: str
    role: str
    span: Span
    text: str
    clean_text: str
    n_words: int = 0
    turn_indices: tuple[int, ...] = ()
    question: str = ""  # the interviewer's words just before it (see pipeline/passages/context.py)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "speaker": self.speaker,
            "role": self.role,
            "start": self.span.start,
            "end": self.span.end,
            "text": self.text,
            "clean_text": self.clean_text,
            "n_words": self.n_words,
            "turns": list(self.turn_indices),
            "question": self.question,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Passage":
        return cls(
            id=d["id"],
            doc_id=d["doc_id"],
            speaker=d.get("speaker", ""),
            role=d.get("role", "interviewee"),
            span=Span(d["start"], d["end"]),
            text=d["text"],
            clean_text=d.get("clean_text", d["text"]),
            n_words=d.get("n_words", 0),
            turn_indices=tuple(d.get("turns", ())),
            question=d.get("question") or "",
        )


def passage_id(doc_id: str, span: Span) -> str:
    """Passage ids name their location, so a researcher can find the passage from the id alone."""
    return f"{doc_id}:{span.start}-{span.end}"


def row_problem(obj: dict) -> str | None:
    """Why a table row cannot be used as it is, or None: ids must be strings or whole numbers (never a
    list, so two rows can be told apart), texts strings, offsets whole numbers with 0 <= start <= end."""
    if "id" in obj:
        i = obj["id"]
        if isinstance(i, bool) or not isinstance(i, (str, int)) or i == "":
            return f"'id' must be a non-empty string or a whole number, not {_kind(i)}"
    for key in ("doc_id", "doc"):
        if key in obj and (not isinstance(obj[key], str) or not obj[key]):
            return f"{key!r} must be a non-empty string, not {_kind(obj[key])}"
    if "text" in obj and not isinstance(obj["text"], str):
        return f"'text' must be a string, not {_kind(obj['text'])}"
    bounds = [obj.get(k) for k in ("start", "end")]
    if any(k in obj for k in ("start", "end")):
        if any(isinstance(b, bool) or not isinstance(b, int) for b in bounds):
            return (f"'start' and 'end' must be whole numbers (character offsets), not "
                    f"{_kind(bounds[0])} and {_kind(bounds[1])}")
        start, end = bounds
        if not 0 <= start <= end:
            return f"impossible offsets: start {start}, end {end} (0 <= start <= end expected)"
    return None


def _kind(value) -> str:
    if value is None:
        return "null"
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return f"{type(value).__name__} {shown[:40]}"
