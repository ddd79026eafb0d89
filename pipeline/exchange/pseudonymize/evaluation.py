"""Scoring the pseudonymiser on hand-marked passages (`codeur pseudonymize --evaluate FILE`): the
marked source format (``{PER:Jean-Luc Mermoud}``), its JSONL form, recall and precision by kind."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ...core.errors import TableError
from ...core.spans import Span
from ...core.tables import iter_jsonl
from .config import KINDS
from .pseudonymizer import Pseudonymizer

MARK_KINDS = {"PER": "PERSONNE", "ORG": "ENTREPRISE", "LOC": "LIEU", "MAIL": "EMAIL", "TEL": "TELEPHONE",
              "ADR": "ADRESSE"}
_MARK_RE = re.compile(r"\{(PER|ORG|LOC|MAIL|TEL|ADR):([^{}]+)\}")


def parse_marked(source: str) -> list[dict]:
    """Passages written with inline marks ``{PER:Jean-Luc Mermoud}`` → rows {text, entities}.
    Blocks are separated by a blank line; lines starting with '#' are comments."""
    lines = [line for line in source.splitlines() if not line.startswith("#")]
    rows = []
    for block in re.split(r"\n\s*\n", "\n".join(lines)):
        block = block.strip("\n")
        if not block.strip():
            continue
        text, entities, last = [], [], 0
        length = 0
        for m in _MARK_RE.finditer(block):
            before = block[last:m.start()]
            text.append(before)
            length += len(before)
            entities.append({"start": length, "end": length + len(m.group(2)), "kind": MARK_KINDS[m.group(1)]})
            text.append(m.group(2))
            length += len(m.group(2))
            last = m.end()
        text.append(block[last:])
        plain = "".join(text)
        if "{" in plain or "}" in plain:
            raise TableError(f"unbalanced mark in passage starting {block[:40]!r}")
        rows.append({"text": plain, "entities": entities})
    return rows


def read_eval(path: str | Path) -> list[dict]:

    rows = []
    for n, d in iter_jsonl(path, what="evaluation passage"):
        text, ents = d.get("text"), d.get("entities")
        if not isinstance(text, str) or not isinstance(ents, list):
            raise TableError(f"line {n}: expected {{\"text\": ..., \"entities\": [{{start, end, kind}}]}}",
                            path=str(path))
        for e in ents:
            if not (isinstance(e, dict) and 0 <= e.get("start", -1) < e.get("end", -1) <= len(text)
                    and e.get("kind") in KINDS):
                raise TableError(f"line {n}: bad entity {e!r} (start < end within the text, kind one of "
                                f"{', '.join(KINDS)})", path=str(path))
        rows.append({"text": text, "entities": ents})
    return rows


@dataclass
class EvalReport:
    """Recall: share of marked entities whose every word character is inside a replacement (what
    matters for privacy). Precision: share of replacements that overlap a marked entity."""

    passages: int
    recall: dict[str, tuple[int, int]] = field(default_factory=dict)      # kind → (found, marked)
    precision: dict[str, tuple[int, int]] = field(default_factory=dict)   # kind → (correct, replaced)
    kind_agreement: tuple[int, int] = (0, 0)   # replacements of a marked entity with the marked kind
    misses: list[tuple[str, str]] = field(default_factory=list)           # (kind, surface)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)     # (kind, surface)

    @staticmethod
    def ratio(pair: tuple[int, int]) -> float:
        return pair[0] / pair[1] if pair[1] else float("nan")

    @property
    def overall_recall(self) -> float:
        return self.ratio((sum(a for a, _ in self.recall.values()), sum(b for _, b in self.recall.values())))

    @property
    def overall_precision(self) -> float:
        return self.ratio((sum(a for a, _ in self.precision.values()), sum(b for _, b in self.precision.values())))

    def to_dict(self) -> dict:
        return {
            "passages": self.passages,
            "recall": {k: {"found": a, "marked": b, "recall": round(self.ratio((a, b)), 4)}
                       for k, (a, b) in self.recall.items()},
            "precision": {k: {"correct": a, "replaced": b, "precision": round(self.ratio((a, b)), 4)}
                          for k, (a, b) in self.precision.items()},
            "overall_recall": round(self.overall_recall, 4),
            "overall_precision": round(self.overall_precision, 4),
            "kind_agreement": round(self.ratio(self.kind_agreement), 4),
        }


def evaluate(rows: Sequence[dict], pseudonymizer: Pseudonymizer) -> EvalReport:
    """Pseudonymise the passages as one corpus and score the replacements against the marks."""
    texts = {f"p{i:04d}": r["text"] for i, r in enumerate(rows)}
    result = pseudonymizer.run(texts)
    report = EvalReport(passages=len(rows))
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    precision: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    agree = [0, 0]
    for doc_id, row in zip(texts, rows):
        text, reps = row["text"], result.docs[doc_id].replacements
        covered = [False] * len(text)
        for r in reps:
            for j in range(r.span.start, r.span.end):
                covered[j] = True
        for e in row["entities"]:
            wanted = [j for j in range(e["start"], e["end"]) if text[j].isalnum()]
            ok = all(covered[j] for j in wanted)
            recall[e["kind"]][1] += 1
            recall[e["kind"]][0] += ok
            if not ok:
                report.misses.append((e["kind"], text[e["start"]:e["end"]]))
        for r in reps:
            hits = [e for e in row["entities"] if r.span.overlap(Span(e["start"], e["end"]))]
            precision[r.kind][1] += 1
            precision[r.kind][0] += bool(hits)
            if hits:
                agree[1] += 1
                agree[0] += any(e["kind"] == r.kind for e in hits)
            else:
                report.false_alarms.append((r.kind, r.original))
    report.recall = {k: tuple(recall[k]) for k in KINDS if k in recall}
    report.precision = {k: tuple(precision[k]) for k in [*KINDS, *sorted(set(precision) - set(KINDS))]
                        if k in precision}
    report.kind_agreement = tuple(agree)
    return report
