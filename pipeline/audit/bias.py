"""Do the machine's errors depend on the case attributes? The bias test of the World Bank's iQual.

Per code, the human − machine share of coded passages of each interview (`interview_errors`) is
regressed by ordinary least squares on the dummy-coded attributes (`ols`, `dummy_design`), and an
F-test (`f_test`) asks whether the attributes, jointly and one at a time, explain any of it
(`bias_tests`), with a plain-language reading per test.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..core.errors import OptionError
from .matrix import CodedPassages, value_order

MIN_GROUP = 3            # fewer interviews than this in a group: the test is flagged as fragile
ALPHA = 0.05             # threshold of the plain-language reading


def interview_errors(coded: CodedPassages, codes: Sequence[str]) -> dict[str, dict[str, float]]:
    """code → interview → human share − machine share of the interview's passages coded with it
    (positive: the machine under-codes that interview). Only interviews the human coded."""
    if coded.human is None:
        raise OptionError("the error analysis needs the human coding", hint="give --gold")
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
        ref = sorted(counts, key=lambda v: (-counts[v], value_order(v)))[0]
        reference[attr] = ref
        by_attr[attr] = []
        for v in sorted(counts, key=value_order):
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
