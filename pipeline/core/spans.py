"""Character offsets into a document's plain text.

Every passage, gold span and prediction in codeur points into `Transcript.text` with a `Span`:
half-open `[start, end)`, counted in Python code points (str indices).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Span:
    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start <= self.end):
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    def __len__(self) -> int:
        return self.end - self.start

    def of(self, text: str) -> str:
        """The characters of `text` that this span covers."""
        return text[self.start : self.end]

    def overlap(self, other: "Span") -> int:
        """Number of characters shared with `other`."""
        return max(0, min(self.end, other.end) - max(self.start, other.start))

    def contains(self, other: "Span") -> bool:
        return self.start <= other.start and other.end <= self.end

    def shift(self, delta: int) -> "Span":
        return Span(self.start + delta, self.end + delta)
