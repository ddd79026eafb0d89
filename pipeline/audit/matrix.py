"""Case matrices: which codes, in which kinds of firms — the finding a paper reports.

Case attributes (corpus/cases.csv: market, headcount, activity...) join the coded passages by
`doc_id`; per code and attribute value we count coded passages and the share of interviews with at
least one, for the human coding (gold spans mapped onto the same passages) and the machine side by
side. Whether the machine's errors depend on an attribute is pipeline.audit.bias; the matrix as HTML
and as a section of the audit report, pipeline.audit.matrix_html.
"""
from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ..core.atomic import atomic_open
from ..core.errors import CaseTableError, TableError
from ..core.prediction import Prediction
from ..core.tables import spreadsheet_text

ALL = "(all)"            # the attribute/value of the row that covers every interview


# --- inputs ---------------------------------------------------------------------------------------

def check_attributes(cases: Mapping[str, Mapping[str, str]], attributes: Sequence[str], *, where: str) -> None:
    columns = set().union(*(c.keys() for c in cases.values())) if cases else set()
    unknown = [a for a in attributes if a not in columns]
    if unknown:
        raise CaseTableError(f"unknown attribute(s) {', '.join(unknown)}", path=where,
                             hint=f"columns are: {', '.join(sorted(columns - {'doc_id'}))}")


@dataclass
class CodedPassages:
    """Passages of the interviews with the codes each side gave them. `human` is None without gold;
    `human_docs` are the interviews the human coded (documents with at least one gold span)."""

    ids: list[str]
    doc_ids: list[str]
    machine: list[set[str]]
    human: list[set[str]] | None = None
    human_docs: set[str] = field(default_factory=set)

    def docs(self) -> list[str]:
        return sorted(set(self.doc_ids))


def coded_passages(predictions: Sequence[Prediction], gold_spans=None, *,
                   where: str = "predictions") -> CodedPassages:
    """Predictions (+ optional gold spans mapped with `pipeline.core.gold.passage_labels`)."""
    ids, docs, machine = [], [], []
    for p in predictions:
        if p.doc_id is None:
            raise TableError(f"passage {p.id!r} has no 'doc_id'", path=where,
                             hint="classify transcripts or a passage table from `codeur prepare`")
        ids.append(p.id)
        docs.append(p.doc_id)
        machine.append(set(p.labels))
    out = CodedPassages(ids, docs, machine)
    if gold_spans is not None:
        from ..core.gold import passage_labels

        try:
            passages = [p.as_passage() for p in predictions]
        except ValueError as e:
            raise TableError(f"a passage lacks its offsets ({e}): gold spans need 'start', 'end' and 'text'",
                             path=where) from None
        labels = passage_labels(passages, gold_spans)
        out.human = [set(labels.get(i, ())) for i in ids]
        out.human_docs = {gs.doc_id for gs in gold_spans} & set(docs)
    return out


# --- the matrix -----------------------------------------------------------------------------------

MATRIX_COLUMNS = ("attribute", "value", "code", "dimension", "n_interviews", "n_passages",
                  "human_interviews", "human_passages", "human_coded_interviews", "human_share",
                  "human_passage_share", "machine_passages", "machine_coded_interviews", "machine_share",
                  "machine_passage_share")


def build_matrix(coded: CodedPassages, cases: Mapping[str, Mapping[str, str]], by: Sequence[str],
                 codes: Sequence[str], dimensions: Mapping[str, str] | None = None,
                 min_passages: int = 1) -> list[dict]:
    """One row per (attribute, value, code), first the whole corpus (attribute = value = "(all)").

    n_passages: passages of the group's interviews; `*_passages`: those coded with the code, and
    `*_passage_share` their share of the group's passages; `*_coded_interviews`: interviews with at
    least `min_passages` such passages, and `*_share` their share of the group's interviews (the
    human side counts only interviews the human coded: `human_interviews`). Long interviews touch
    most codes once: raise `min_passages` to ask who *dwells* on a code. Interviews without case
    attributes are left out by the caller.
    """
    dimensions = dimensions or {}
    per_doc_n: Counter = Counter(coded.doc_ids)
    machine_n: dict[str, Counter] = defaultdict(Counter)
    human_n: dict[str, Counter] = defaultdict(Counter)
    for i, doc in enumerate(coded.doc_ids):
        for c in coded.machine[i]:
            machine_n[doc][c] += 1
        if coded.human is not None and doc in coded.human_docs:
            for c in coded.human[i]:
                human_n[doc][c] += 1
    groups: list[tuple[str, str, list[str]]] = [(ALL, ALL, sorted(per_doc_n))]
    for attr in by:
        values: dict[str, list[str]] = defaultdict(list)
        for doc in sorted(per_doc_n):
            values[cases[doc].get(attr, "")].append(doc)
        groups.extend((attr, v, ds) for v, ds in sorted(values.items(), key=lambda kv: value_order(kv[0])))
    rows = []
    for attr, value, docs in groups:
        hdocs = [d for d in docs if d in coded.human_docs] if coded.human is not None else []
        for code in codes:
            m_pass = sum(machine_n[d][code] for d in docs)
            m_int = sum(1 for d in docs if machine_n[d][code] >= min_passages)
            n_pass = sum(per_doc_n[d] for d in docs)
            h_pass_total = sum(per_doc_n[d] for d in hdocs)
            row = {
                "attribute": attr, "value": value, "code": code, "dimension": dimensions.get(code, ""),
                "n_interviews": len(docs), "n_passages": n_pass,
                "human_interviews": len(hdocs) if coded.human is not None else None,
                "human_passages": sum(human_n[d][code] for d in hdocs) if coded.human is not None else None,
                "human_coded_interviews": (sum(1 for d in hdocs if human_n[d][code] >= min_passages)
                                           if coded.human is not None else None),
                "human_share": None, "human_passage_share": None,
                "machine_passages": m_pass, "machine_coded_interviews": m_int,
                "machine_share": m_int / len(docs) if docs else None,
                "machine_passage_share": m_pass / n_pass if n_pass else None,
            }
            if coded.human is not None and hdocs:
                row["human_share"] = row["human_coded_interviews"] / len(hdocs)
                row["human_passage_share"] = row["human_passages"] / h_pass_total if h_pass_total else None
            rows.append(row)
    return rows


def value_order(value: str):
    """Headcount bands in numeric order ('<10' < '10-19' < '100-249'), other values alphabetically."""
    digits = "".join(ch if ch.isdigit() else " " for ch in value).split()
    return (0, int(digits[0]) if not value.startswith("<") else -1, value) if digits else (1, 0, value)


def write_csv(path: str | Path, rows: Sequence[dict], columns: Sequence[str]) -> None:
    """Rows as CSV (UTF-8 with a byte-order mark, so spreadsheets show the accents); missing values
    empty, floats to 6 significant digits."""

    def cell(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        return f"{v:.6g}" if isinstance(v, float) else spreadsheet_text(v)

    with atomic_open(path) as fh:
        fh.write("\ufeff")
        w = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: cell(r.get(k)) for k in columns})
