"""Case matrices: which codes, in which kinds of firms — the finding a paper reports.

Case attributes (corpus/cases.csv: market, headcount, activity...) join the coded passages by
`doc_id`; per code and attribute value we count coded passages and the share of interviews with at
least one, for the human coding (gold spans mapped onto the same passages) and the machine side by
side. `bias_tests` asks whether the machine's errors depend on an attribute, as the World Bank's
iQual does (OLS of the human − machine difference on dummy-coded attributes, joint F-test).
"""
from __future__ import annotations

import csv
import html
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..core.csvfile import read_cases  # noqa: F401  (the case table, read here by callers)
from ..core.errors import DataError
from ..core.prediction import Prediction
from ..core.tables import spreadsheet_text

ALL = "(all)"            # the attribute/value of the row that covers every interview
MIN_GROUP = 3            # fewer interviews than this in a group: the test is flagged as fragile
ALPHA = 0.05             # threshold of the plain-language reading


# --- inputs ---------------------------------------------------------------------------------------

def check_attributes(cases: Mapping[str, Mapping[str, str]], attributes: Sequence[str], *, where: str) -> None:
    columns = set().union(*(c.keys() for c in cases.values())) if cases else set()
    unknown = [a for a in attributes if a not in columns]
    if unknown:
        raise DataError(f"unknown attribute(s) {', '.join(unknown)}", path=where,
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
            raise DataError(f"passage {p.id!r} has no 'doc_id'", path=where,
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
            raise DataError(f"a passage lacks its offsets ({e}): gold spans need 'start', 'end' and 'text'",
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
MEASURES = {"interviews": "share", "passages": "passage_share"}


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
        groups.extend((attr, v, ds) for v, ds in sorted(values.items(), key=lambda kv: _value_order(kv[0])))
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


def _value_order(value: str):
    """Headcount bands in numeric order ('<10' < '10-19' < '100-249'), other values alphabetically."""
    digits = "".join(ch if ch.isdigit() else " " for ch in value).split()
    return (0, int(digits[0]) if not value.startswith("<") else -1, value) if digits else (1, 0, value)


def write_csv(path: str | Path, rows: Sequence[dict], columns: Sequence[str]) -> None:
    """Rows as CSV (UTF-8 with a byte-order mark, so spreadsheets show the accents); missing values
    empty, floats to 6 significant digits."""
    from ..core.atomic import atomic_open

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


# --- do the machine's errors depend on an attribute? -----------------------------------------------

def interview_errors(coded: CodedPassages, codes: Sequence[str]) -> dict[str, dict[str, float]]:
    """code → interview → human share − machine share of the interview's passages coded with it
    (positive: the machine under-codes that interview). Only interviews the human coded."""
    if coded.human is None:
        raise DataError("the error analysis needs the human coding", hint="give --gold")
    n: Counter = Counter()
    diff: dict[str, Counter] = defaultdict(Counter)
    for i, doc in enumerate(coded.doc_ids):
        if doc not in coded.human_docs:
            continue
        n[doc] += 1
        for c in codes:
            diff[c][doc] += (c in coded.human[i]) - (c in coded.machine[i])
    return {c: {d: diff[c][d] / n[d] for d in sorted(n)} for c in codes}


@dataclass
class OLSResult:
    """y = Xβ + ε by least squares. `columns` name the kept columns of X (collinear ones dropped)."""

    columns: list[str]
    beta: np.ndarray
    std_error: np.ndarray
    t: np.ndarray
    p: np.ndarray
    rss: float
    df_resid: int
    dropped: list[str] = field(default_factory=list)


def full_rank_columns(X: np.ndarray, tol: float = 1e-10) -> list[int]:
    """Indices of columns kept left to right, each one adding to the rank (a dummy that repeats
    another attribute's dummies — e.g. all institutions in one market — is dropped)."""
    kept: list[int] = []
    for j in range(X.shape[1]):
        trial = kept + [j]
        if np.linalg.matrix_rank(X[:, trial], tol=tol * max(1.0, float(np.abs(X).max()))) == len(trial):
            kept.append(j)
    return kept


def ols(y: Sequence[float], X: np.ndarray, columns: Sequence[str]) -> OLSResult:
    """Ordinary least squares with classical standard errors.

    β = (X'X)⁻¹X'y; residual variance s² = RSS / (n − k); Var(β) = s²(X'X)⁻¹; t = β / se, two-sided
    p-values from Student's t with n − k degrees of freedom (Greene, Econometric Analysis, ch. 4–5).
    """
    from scipy import stats

    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    keep = full_rank_columns(X)
    dropped = [columns[j] for j in range(X.shape[1]) if j not in keep]
    Xk = X[:, keep]
    n, k = Xk.shape
    beta, *_ = np.linalg.lstsq(Xk, y, rcond=None)
    resid = y - Xk @ beta
    rss = float(resid @ resid)
    df = n - k
    if df > 0:
        s2 = rss / df
        cov = s2 * np.linalg.inv(Xk.T @ Xk)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(se > 0, beta / se, np.nan)
        p = np.where(np.isnan(t), np.nan, 2 * stats.t.sf(np.abs(np.nan_to_num(t)), df))
    else:
        se = t = p = np.full(k, np.nan)
    return OLSResult([columns[j] for j in keep], beta, se, t, p, rss, df, dropped)


def f_test(rss_restricted: float, rss_full: float, q: int, df_resid: int) -> tuple[float, float]:
    """F = ((RSS_r − RSS_f) / q) / (RSS_f / df_resid), p = P(F(q, df_resid) > F): do the q
    restricted coefficients add nothing? (NaN when undefined: q = 0, df ≤ 0 or RSS_r = RSS_f = 0.)"""
    from scipy import stats

    if q <= 0 or df_resid <= 0:
        return float("nan"), float("nan")
    num = max(rss_restricted - rss_full, 0.0) / q
    if rss_full <= 1e-15:
        if num <= 1e-15:
            return float("nan"), float("nan")
        return float("inf"), 0.0
    F = num / (rss_full / df_resid)
    return float(F), float(stats.f.sf(F, q, df_resid))


def dummy_design(docs: Sequence[str], cases: Mapping[str, Mapping[str, str]],
                 attributes: Sequence[str]) -> tuple[np.ndarray, list[str], dict[str, list[int]], dict[str, str]]:
    """Intercept + one 0/1 column per attribute value except a reference value (the most frequent,
    ties alphabetically). Returns X, column names ("market=médical"), the columns of each attribute,
    and each attribute's reference value."""
    cols: list[np.ndarray] = [np.ones(len(docs))]
    names = ["(intercept)"]
    by_attr: dict[str, list[int]] = {}
    reference: dict[str, str] = {}
    for attr in attributes:
        values = [cases[d].get(attr, "") for d in docs]
        counts = Counter(values)
        ref = sorted(counts, key=lambda v: (-counts[v], _value_order(v)))[0]
        reference[attr] = ref
        by_attr[attr] = []
        for v in sorted(counts, key=_value_order):
            if v == ref:
                continue
            by_attr[attr].append(len(cols))
            cols.append(np.array([1.0 if x == v else 0.0 for x in values]))
            names.append(f"{attr}={v}")
    return np.column_stack(cols), names, by_attr, reference


BIAS_COLUMNS = ("code", "test", "term", "estimate", "std_error", "statistic", "df_num", "df_den", "p_value",
                "n_interviews", "smallest_group", "note", "reading")


def bias_tests(errors: Mapping[str, Mapping[str, float]], cases: Mapping[str, Mapping[str, str]],
               attributes: Sequence[str], *, min_group: int = MIN_GROUP, alpha: float = ALPHA) -> list[dict]:
    """Per code: OLS of the interview errors (human − machine share of coded passages) on the
    dummy-coded attributes; rows for the joint F-test of all attributes, a partial F-test per
    attribute, and each coefficient's t-test. Method of iQual's bias test (Ashwin et al. 2022,
    "A Method to Scale-Up Interpretative Qualitative Analysis", World Bank Policy Research Working
    Paper 10046; github.com/worldbank/iQual, `iqual.tests.Bias`)."""
    rows: list[dict] = []
    for code, per_doc in errors.items():
        docs = [d for d in sorted(per_doc) if d in cases]
        y = np.array([per_doc[d] for d in docs])
        n = len(docs)
        if n < 2:
            rows.append({"code": code, "test": "joint", "term": "+".join(attributes), "n_interviews": n,
                         "note": "too few interviews", "reading": f"{code}: too few interviews to test ({n})"})
            continue
        X, names, by_attr, reference = dummy_design(docs, cases, attributes)
        fit = ols(y, X, names)
        kept = set(fit.columns)
        rss_const = float(((y - y.mean()) ** 2).sum())
        group_sizes = {a: Counter(cases[d].get(a, "") for d in docs) for a in attributes}
        smallest = {a: min(c.values()) for a, c in group_sizes.items()}
        no_errors = bool(np.allclose(y, 0))

        def note_for(attrs: Sequence[str], df_den: int) -> str:
            notes = []
            if no_errors:
                notes.append("no errors: human and machine agree on every interview")
            small = [f"{a} (smallest group {min(group_sizes[a], key=lambda v: (group_sizes[a][v], v))!r}: "
                     f"{smallest[a]})" for a in attrs if smallest[a] < min_group]
            if small:
                notes.append(f"too few interviews per group for {', '.join(small)}: read with caution")
            if 0 < df_den < 5:
                notes.append(f"only {df_den} residual degrees of freedom")
            if df_den <= 0:
                notes.append("too few interviews for this many groups: no test")
            dropped = [d for d in fit.dropped if d.split("=", 1)[0] in attrs]
            if dropped:
                notes.append(f"collinear dummies dropped: {', '.join(dropped)}")
            return "; ".join(notes)

        # joint test: all attributes against the intercept-only model
        q_all = len(fit.columns) - 1
        F, p = f_test(rss_const, fit.rss, q_all, fit.df_resid)
        label = " + ".join(attributes)
        rows.append({"code": code, "test": "joint", "term": label, "statistic": F, "df_num": q_all,
                     "df_den": fit.df_resid, "p_value": p, "n_interviews": n,
                     "smallest_group": min(smallest.values()) if smallest else None,
                     "note": note_for(attributes, fit.df_resid),
                     "reading": _reading(code, label, F, p, n, alpha, no_errors,
                                         _group_means(docs, y, cases, attributes[0])
                                         if len(attributes) == 1 else None,
                                         thin=_too_thin(fit.df_resid, [smallest[a] for a in attributes], min_group))})
        # one attribute at a time, the others held constant (partial F-test); with a single
        # attribute that is the joint test itself
        for attr in attributes if len(attributes) > 1 else ():
            own = [names[j] for j in by_attr[attr] if names[j] in kept]
            rest = [j for j, nm in enumerate(names) if nm in kept and nm not in own]
            restricted = ols(y, X[:, rest], [names[j] for j in rest])
            Fa, pa = f_test(restricted.rss, fit.rss, len(own), fit.df_resid)
            mean_by = _group_means(docs, y, cases, attr)
            rows.append({"code": code, "test": "attribute", "term": attr, "statistic": Fa, "df_num": len(own),
                         "df_den": fit.df_resid, "p_value": pa, "n_interviews": n,
                         "smallest_group": smallest[attr], "note": note_for([attr], fit.df_resid),
                         "reading": _reading(code, attr, Fa, pa, n, alpha, no_errors, mean_by, reference[attr],
                                             thin=_too_thin(fit.df_resid, [smallest[attr]], min_group))})
        for name, b, se, t, pv in zip(fit.columns, fit.beta, fit.std_error, fit.t, fit.p):
            rows.append({"code": code, "test": "coefficient", "term": name, "estimate": float(b),
                         "std_error": float(se), "statistic": float(t), "df_den": fit.df_resid,
                         "p_value": float(pv), "n_interviews": n})
    return rows


def _group_means(docs, y, cases, attr) -> dict[str, float]:
    acc: dict[str, list[float]] = defaultdict(list)
    for d, v in zip(docs, y):
        acc[cases[d].get(attr, "")].append(float(v))
    return {k: float(np.mean(v)) for k, v in acc.items()}


def _too_thin(df_resid: int, smallest_groups: Sequence[int], min_group: int) -> bool:
    """Too little data for a verdict: under 3 residual degrees of freedom, or a group too small."""
    return df_resid < 3 or any(g < min_group for g in smallest_groups)


def _reading(code: str, what: str, F: float, p: float, n: int, alpha: float, no_errors: bool,
             means: Mapping[str, float] | None = None, reference: str | None = None, *, thin: bool = False) -> str:
    if no_errors:
        return f"{code}: the machine agrees with the human on every interview (n={n})"
    if math.isnan(F):
        return f"{code}: cannot test {what} (too few interviews, n={n})"
    stat = f"F={F:.2f}, p={p:.3f}, n={n}"
    if thin:
        return f"{code}: too little data to tell whether errors depend on {what} ({stat}; see the note)"
    if p >= alpha:
        return f"{code}: no evidence that errors depend on {what} ({stat})"
    text = f"{code}: errors depend on {what} ({stat})"
    if means:
        worst = max(means, key=lambda v: abs(means[v]))
        side = "under-codes" if means[worst] > 0 else "over-codes"
        text += f"; the machine {side} most where {what} = {worst} (mean human − machine share {means[worst]:+.3f})"
    return text


# --- HTML ---------------------------------------------------------------------------------------------

def _colour(share: float | None, top: float = 1.0) -> str:
    """White (0) to deep blue (`top`); text turns white on dark cells."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "background:#f3f3f3;color:#999"
    s = max(0.0, min(1.0, float(share) / top))
    r, g, b = (round(255 + (v - 255) * s) for v in (33, 102, 172))
    return f"background:rgb({r},{g},{b});color:{'#fff' if s > 0.55 else '#111'}"


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def heatmap_html(rows: Sequence[dict], *, title: str = "", measure: str = "interviews") -> str:
    """The matrix as a coloured table (an HTML fragment, text escaped): one line per code, one column
    pair per attribute value, the human (H) and machine (M) share of interviews with the code
    (`measure="interviews"`) or of passages coded with it (`"passages"`); counts in the cell
    tooltips. Embeddable in the audit report."""
    e = html.escape
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}")
    suffix = MEASURES[measure]
    groups: list[tuple[str, str]] = []
    for r in rows:
        key = (r["attribute"], r["value"])
        if key not in groups:
            groups.append(key)
    codes: list[tuple[str, str]] = []
    for r in rows:
        if (r["dimension"], r["code"]) not in codes:
            codes.append((r["dimension"], r["code"]))
    cell = {(r["attribute"], r["value"], r["code"]): r for r in rows}
    human = any(r.get("human_share") is not None for r in rows)
    sides = (("human", "H"), ("machine", "M")) if human else (("machine", "M"),)
    # shares of passages are small (a code is on one passage in ten): the scale tops at the largest
    values = [r.get(f"{side}_{suffix}") for r in rows for side, _ in sides]
    top = 1.0 if measure == "interviews" else max([v for v in values if v is not None] + [0.05])
    attrs: list[str] = []
    for a, _ in groups:
        if a not in attrs:
            attrs.append(a)
    out = ['<div class="codeur-matrix">']
    if title:
        out.append(f"<h3>{e(title)}</h3>")
    out.append('<table style="border-collapse:collapse;font:13px sans-serif">')
    out.append('<thead><tr><th rowspan="3" style="text-align:left;padding:4px">code</th>')
    for a in attrs:
        span = sum(1 for g in groups if g[0] == a) * len(sides)
        out.append(f'<th colspan="{span}" style="border-left:2px solid #fff;padding:4px">{e(a)}</th>')
    out.append("</tr><tr>")
    for a, v in groups:
        n = next(r["n_interviews"] for r in rows if r["attribute"] == a and r["value"] == v)
        out.append(f'<th colspan="{len(sides)}" style="padding:4px;font-weight:normal">{e(v)}<br>'
                   f'<small>n={n}</small></th>')
    out.append("</tr><tr>")
    for _ in groups:
        for _, short in sides:
            out.append(f'<th style="padding:2px;font-weight:normal;color:#666">{short}</th>')
    out.append("</tr></thead><tbody>")
    for dim, code in codes:
        label = f"{e(code)}" + (f' <small style="color:#888">{e(dim)}</small>' if dim else "")
        out.append(f'<tr><th style="text-align:left;padding:4px">{label}</th>')
        for a, v in groups:
            r = cell.get((a, v, code), {})
            for side, short in sides:
                share = r.get(f"{side}_{suffix}")
                tip = (f"{code} — {a} = {v} ({side}): {r.get(f'{side}_coded_interviews')} of "
                       f"{r.get('human_interviews') if side == 'human' else r.get('n_interviews')} interviews, "
                       f"{r.get(f'{side}_passages')} coded passages ({_pct(r.get(f'{side}_passage_share'))})")
                out.append(f'<td title="{e(tip)}" style="{_colour(share, top)};padding:4px 6px;text-align:right">'
                           f"{_pct(share)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    what = ("Share of interviews with the code" if measure == "interviews"
            else f"Share of passages coded (darkest: {_pct(top)})")
    out.append(f'<p style="font:12px sans-serif;color:#555">{what}'
               + (" by the human (H) and the machine (M)" if human else " by the machine (M)")
               + "; hover a cell for counts.</p></div>")
    return "\n".join(out)


def bias_html(rows: Sequence[dict]) -> str:
    """The error analysis as an HTML fragment: one plain-language line per code and attribute."""
    e = html.escape
    shown = [r for r in rows if r["test"] in ("joint", "attribute")]
    if not shown:
        return ""
    out = ['<div class="codeur-bias"><h3>Do the machine\'s errors depend on the case attributes?</h3>',
           '<p style="font:12px sans-serif;color:#555">Per code, the human − machine share of coded passages '
           "of each interview, regressed by OLS on the dummy-coded attributes; F-test of the attributes "
           "jointly and one at a time (the bias test of the World Bank's iQual, Ashwin et al. 2022).</p>",
           '<table style="border-collapse:collapse;font:13px sans-serif">'
           "<thead><tr><th>code</th><th>attributes</th><th>F</th><th>df</th><th>p</th><th>n</th>"
           "<th style='text-align:left'>reading</th></tr></thead><tbody>"]
    for r in shown:
        p = r.get("p_value")
        strong = p is not None and not math.isnan(p) and p < ALPHA
        style = "background:#fde2e1" if strong else ""
        F = r.get("statistic")
        df = f"{r.get('df_num')}, {r.get('df_den')}" if r.get("df_num") is not None else ""
        note = f"<br><small style='color:#a60'>{e(r['note'])}</small>" if r.get("note") else ""
        out.append(
            f"<tr style='{style}'><td>{e(r['code'])}</td><td>{e(r['term'])}"
            f"{' (joint)' if r['test'] == 'joint' else ''}</td>"
            f"<td>{'' if F is None or math.isnan(F) else f'{F:.2f}'}</td><td>{e(df)}</td>"
            f"<td>{'' if p is None or math.isnan(p) else f'{p:.3f}'}</td><td>{r.get('n_interviews')}</td>"
            f"<td style='text-align:left'>{e(r.get('reading', ''))}{note}</td></tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def matrix_page(matrix_rows: Sequence[dict], bias_rows: Sequence[dict] = (), *, title: str = "Case matrix",
                notes: Iterable[str] = (), measure: str = "interviews") -> str:
    """A self-contained HTML page (no external resources)."""
    e = html.escape
    body = [f"<h1 style='font:bold 18px sans-serif'>{e(title)}</h1>"]
    for n in notes:
        body.append(f"<p style='font:12px sans-serif;color:#555'>{e(n)}</p>")
    body.append(heatmap_html(matrix_rows, measure=measure))
    body.append(bias_html(bias_rows))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title></head><body style='margin:24px'>\n" + "\n".join(body) + "\n</body></html>\n")


def report_section(predictions: Sequence[Prediction], gold_spans, cases: Mapping[str, Mapping[str, str]],
                   attributes: Sequence[str], codebook, *, measure: str = "passages",
                   min_group: int = MIN_GROUP, where: str = "cases") -> tuple[str, list[dict], list[dict]]:
    """The case matrix and the error analysis for the audit report: (HTML fragment, matrix rows,
    bias rows). Interviews without case attributes are left out of the matrix."""
    check_attributes(cases, attributes, where=where)
    codes = codebook.codes
    predictions = [p for p in predictions if p.doc_id in cases]
    if not predictions:
        raise DataError("no classified interview has case attributes", path=where,
                        hint="check that the doc_id values of the predictions are in cases.csv")
    coded = coded_passages(predictions, gold_spans)
    matrix_rows = build_matrix(coded, cases, attributes, codes, {c: codebook.dimension_of(c) for c in codes})
    bias_rows = bias_tests(interview_errors(coded, codes), cases, attributes, min_group=min_group) \
        if gold_spans is not None and coded.human_docs else []
    fragment = heatmap_html(matrix_rows, measure=measure) + bias_html(bias_rows)
    return fragment, matrix_rows, bias_rows
