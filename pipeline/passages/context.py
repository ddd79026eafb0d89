"""What a coder reads around a passage: the interviewer's question before it, and the passage before.

A human coder never codes a passage alone: « Et avec vos voisins, ça se passe comment ? » tells
what « oui, très bien, on se rend service » is about. Models trained with `context: true`
(`configs/train.yaml`) read both, next to the passage itself:

- `question`: the cleaned words of the interviewer's turn(s) just before the passage's first turn
  (at most two contiguous interviewer turns, skipping other speakers' turns in between). The
  segmenter records it on each `Passage` (`question` field of `codeur prepare` output).
- `previous`: the passage before it in the same document (by offsets), taken from the same input:
  the same transcript, or the rows of a passages table that share its `doc_id`.

A passages table without `question` fields (or without `doc_id`/`start` for ordering) gives
empty contexts: such passages are coded from their own words only (the baseline keeps a
passage-only pipeline for them), with the scores measured in the model card
(`test_without_context`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

QUESTION_TURNS = 2  # contiguous interviewer turns read before a passage
_WORD = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class Context:
    question: str = ""
    previous: str = ""

    def map(self, f: Callable[[str], str]) -> "Context":
        return Context(f(self.question), f(self.previous))


def question_before(roles: Sequence[str], texts: Sequence[str], first_turn: int,
                    max_turns: int = QUESTION_TURNS) -> str:
    """The interviewer's words before turn `first_turn`: the nearest interviewer turn and, when the
    interviewer spoke several turns in a row, the one before it (up to `max_turns`). Turns left
    without a word (a « hm hm » the cleaner removed) are passed over."""
    i = first_turn - 1
    while i >= 0 and roles[i] != "interviewer":
        i -= 1
    parts: list[str] = []
    while i >= 0 and roles[i] == "interviewer" and len(parts) < max_turns:
        if _WORD.search(texts[i]):
            parts.insert(0, texts[i].strip())
        i -= 1
    return " ".join(parts)


def contexts_for_rows(rows: Sequence[Mapping], text_of: Callable[[Mapping], str]) -> list[Context]:
    """One `Context` per row: its `question` field, and the text of the row just before it in the
    same document (rows with a `doc_id` and integer `start`, ordered by offsets, whatever their
    order in the input)."""
    previous: dict[int, str] = {}
    by_doc: dict[str, list[int]] = {}
    for k, r in enumerate(rows):
        doc, start = r.get("doc_id"), r.get("start")
        if isinstance(doc, str) and isinstance(start, int) and not isinstance(start, bool):
            by_doc.setdefault(doc, []).append(k)
    for ks in by_doc.values():
        ks.sort(key=lambda k: (rows[k]["start"], rows[k].get("end") or 0))
        for a, b in zip(ks, ks[1:]):
            previous[b] = text_of(rows[a])
    out = []
    for k, r in enumerate(rows):
        q = r.get("question")
        out.append(Context(q if isinstance(q, str) else "", previous.get(k, "")))
    return out


def has_questions(rows: Iterable[Mapping]) -> bool:
    """Whether the rows carry a `question` field at all (False: a table made without it)."""
    return any(isinstance(r.get("question"), str) for r in rows)
