"""The `Transcript`: what every reader produces, whatever the file format.

`Transcript.text` is the canonical plain text of the document (decoded, line endings normalised
to "\\n"). Every turn, passage, gold span and prediction points into it with a `Span`.
"""
from __future__ import annotations

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
