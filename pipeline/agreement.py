"""Agreement statistics between two codings of the same passages: pure, documented functions.

Each works on binary vectors (one code: 1 = the passage has it) or on multi-hot matrices
(passages × codes). They are cross-checked in the tests against scikit-learn and the
`krippendorff` package on the same numbers, and on small cases computed by hand.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def _binary(a) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError("expected a 1-D vector")
    return a.astype(bool)


def confusion(y_true, y_pred) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of `y_pred` against `y_true`."""
    t, p = _binary(y_true), _binary(y_pred)
    if t.shape != p.shape:
        raise ValueError("the two codings must cover the same passages")
    tp = int(np.sum(t & p))
    fp = int(np.sum(~t & p))
    fn = int(np.sum(t & ~p))
    tn = int(np.sum(~t & ~p))
    return tp, fp, fn, tn


def precision_recall_f1(y_true, y_pred) -> tuple[float, float, float]:
    """Precision tp/(tp+fp), recall tp/(tp+fn), F1 = 2PR/(P+R) = 2tp/(2tp+fp+fn).

    Conventions (as scikit-learn with ``zero_division=0``): a ratio with an empty denominator is 0,
    except that F1 is 1.0 when neither coding has any positive (perfect agreement on absence).
    """
    tp, fp, fn, _ = confusion(y_true, y_pred)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    denom = 2 * tp + fp + fn
    f1 = 2 * tp / denom if denom else 1.0
    return precision, recall, f1


def percent_agreement(a, b) -> float:
    """Share of passages on which the two codings agree (presence or absence)."""
    a, b = _binary(a), _binary(b)
    return float(np.mean(a == b)) if a.size else float("nan")


def cohen_kappa(a, b) -> float:
    """Cohen's kappa (Cohen 1960): κ = (p_o − p_e) / (1 − p_e), with p_o the observed agreement and
    p_e = p_a·p_b + (1−p_a)(1−p_b) the agreement expected from each coder's own prevalence.

    Undefined (NaN) when p_e = 1, i.e. both codings are constant and equal; scikit-learn's
    `cohen_kappa_score` gives NaN there too.
    """
    a, b = _binary(a), _binary(b)
    n = a.size
    if n == 0:
        return float("nan")
    po = float(np.mean(a == b))
    pa, pb = float(np.mean(a)), float(np.mean(b))
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe == 1.0:
        return float("nan")
    return (po - pe) / (1 - pe)


def krippendorff_alpha_nominal(reliability_data) -> float:
    """Krippendorff's alpha for nominal data (Krippendorff 2011, "Computing Krippendorff's alpha").

    `reliability_data` is coders × units; NaN marks a missing value. With the coincidence matrix
    o_ck = Σ_u Σ_{i≠j} [v_ui = c][v_uj = k] / (m_u − 1) over units with m_u ≥ 2 values, n_c = Σ_k o_ck
    and n = Σ_c n_c:  α = 1 − (n − 1) · Σ_{c≠k} o_ck / Σ_{c≠k} n_c n_k.
    Undefined (NaN) when every pairable value is the same (no expected disagreement).
    """
    data = np.asarray(reliability_data, dtype=float)
    if data.ndim != 2:
        raise ValueError("reliability data must be coders × units")
    values = np.unique(data[~np.isnan(data)])
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for unit in data.T:
        vals = unit[~np.isnan(unit)]
        m = vals.size
        if m < 2:
            continue
        counts = np.zeros(len(values))
        for v in vals:
            counts[index[v]] += 1
        # ordered pairs of different coders: c==k pairs are counts*(counts-1), c!=k are counts_c*counts_k
        pairs = np.outer(counts, counts) - np.diag(counts)
        o += pairs / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    off = ~np.eye(len(values), dtype=bool)
    expected = (np.outer(n_c, n_c)[off]).sum()
    if n <= 1 or expected == 0:
        return float("nan")
    return float(1 - (n - 1) * o[off].sum() / expected)


def alpha_two_coders(a, b) -> float:
    """Krippendorff's alpha (nominal) for two complete binary codings of the same passages."""
    return krippendorff_alpha_nominal(np.vstack([_binary(a), _binary(b)]).astype(float))


def per_code_scores(y_true: np.ndarray, y_pred: np.ndarray, codes: Sequence[str]) -> dict[str, dict]:
    """Per code: prevalence (in `y_true`), predicted prevalence, precision, recall, F1, kappa, alpha,
    percent agreement and the confusion counts. `y_true` is the reference (gold, or coder 1)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    out = {}
    for j, code in enumerate(codes):
        t, p = y_true[:, j], y_pred[:, j]
        tp, fp, fn, tn = confusion(t, p)
        prec, rec, f1 = precision_recall_f1(t, p)
        out[code] = {
            "prevalence": float(np.mean(t.astype(bool))) if t.size else 0.0,
            "predicted_prevalence": float(np.mean(p.astype(bool))) if p.size else 0.0,
            "precision": prec, "recall": rec, "f1": f1,
            "kappa": cohen_kappa(t, p), "alpha": alpha_two_coders(t, p),
            "agreement": percent_agreement(t, p),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        }
    return out


def micro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 over all (passage, code) decisions pooled: 2·Σtp / (2·Σtp + Σfp + Σfn)."""
    t, p = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    tp, fp, fn = int(np.sum(t & p)), int(np.sum(~t & p)), int(np.sum(t & ~p))
    denom = 2 * tp + fp + fn
    return 2 * tp / denom if denom else 1.0


def _nanmean(xs) -> float:
    xs = [x for x in xs if not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(xs)) if xs else float("nan")


def summary_scores(y_true: np.ndarray, y_pred: np.ndarray, codes: Sequence[str]) -> dict:
    """Per-code scores plus macro averages (unweighted mean over codes, NaN kappas/alphas left out)
    and micro-F1."""
    per = per_code_scores(y_true, y_pred, codes)
    return {
        "n_passages": int(np.asarray(y_true).shape[0]),
        "macro_f1": _nanmean([r["f1"] for r in per.values()]),
        "micro_f1": micro_f1(y_true, y_pred),
        "macro_precision": _nanmean([r["precision"] for r in per.values()]),
        "macro_recall": _nanmean([r["recall"] for r in per.values()]),
        "mean_kappa": _nanmean([r["kappa"] for r in per.values()]),
        "mean_alpha": _nanmean([r["alpha"] for r in per.values()]),
        "per_code": per,
    }
