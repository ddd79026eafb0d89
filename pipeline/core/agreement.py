"""Agreement statistics between two codings of the same passages: pure, documented functions.

Each works on binary vectors (one code: 1 = the passage has it) or on multi-hot matrices
(passages × codes). They are cross-checked in the tests against scikit-learn and the
`krippendorff` package on the same numbers, and on small cases computed by hand.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
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


# --- the same statistics from confusion counts (vectorised, for the bootstrap) ------------------
#
# `counts[..., 4]` holds (tp, fp, fn, tn) of one code, for any number of leading axes (resamples,
# codes). Two complete binary codings are fully described by these four numbers, so every statistic
# above has a closed form in them; the tests check both forms give the same numbers.

COUNT_FIELDS = ("tp", "fp", "fn", "tn")


def _ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, empty, dtype=float)
    np.divide(num, den, out=out, where=den != 0)
    return out


def kappa_from_counts(tp, fp, fn, tn) -> np.ndarray:
    """Cohen's kappa of two binary codings from their confusion counts (Cohen 1960):

        κ = 2·(tp·tn − fn·fp) / ((tp+fp)·(fp+tn) + (tp+fn)·(fn+tn))

    which is (p_o − p_e)/(1 − p_e) written in counts. NaN where the denominator is 0 (p_e = 1).
    """
    tp, fp, fn, tn = (np.asarray(x, dtype=float) for x in (tp, fp, fn, tn))
    return _ratio(2 * (tp * tn - fn * fp), (tp + fp) * (fp + tn) + (tp + fn) * (fn + tn), math.nan)


def alpha_from_counts(tp, fp, fn, tn) -> np.ndarray:
    """Krippendorff's alpha (nominal) of two complete binary codings from their confusion counts.

    With N = tp+fp+fn+tn units and d = fp+fn disagreements, the coincidence matrix is
    o_11 = 2tp, o_00 = 2tn, o_01 = o_10 = d, so n = 2N, n_1 = 2tp + d, n_0 = 2tn + d and
    (Krippendorff 2011)  α = 1 − (n − 1)·Σ_{c≠k} o_ck / Σ_{c≠k} n_c n_k = 1 − (2N − 1)·d / (n_0·n_1).
    NaN where n_0·n_1 = 0 (a single value throughout: no expected disagreement).
    """
    tp, fp, fn, tn = (np.asarray(x, dtype=float) for x in (tp, fp, fn, tn))
    n_units = tp + fp + fn + tn
    d = fp + fn
    return 1 - _ratio((2 * n_units - 1) * d, (2 * tn + d) * (2 * tp + d), math.nan)


def scores_from_counts(counts) -> dict[str, np.ndarray]:
    """Per-code statistics from `counts[..., 4]` = (tp, fp, fn, tn): precision, recall, F1, kappa,
    alpha and percent agreement, with the conventions of `precision_recall_f1` (an empty ratio is 0,
    F1 is 1 when neither coding has a positive). Each result has the shape of the leading axes."""
    c = np.asarray(counts, dtype=float)
    tp, fp, fn, tn = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    return {
        "precision": _ratio(tp, tp + fp, 0.0),
        "recall": _ratio(tp, tp + fn, 0.0),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn, 1.0),
        "kappa": kappa_from_counts(tp, fp, fn, tn),
        "alpha": alpha_from_counts(tp, fp, fn, tn),
        "agreement": _ratio(tp + tn, tp + fp + fn + tn, math.nan),
    }


def _nanmean_last(x: np.ndarray) -> np.ndarray:
    """Mean over the last axis leaving NaN out; NaN where every value is NaN (no warning)."""
    x = np.asarray(x, dtype=float)
    ok = ~np.isnan(x)
    n = ok.sum(axis=-1)
    return _ratio(np.where(ok, x, 0.0).sum(axis=-1), n, math.nan)


def summary_from_counts(counts) -> dict[str, np.ndarray]:
    """The averages of `summary_scores` from `counts[..., codes, 4]`: macro precision/recall/F1
    (unweighted mean over codes), micro-F1 (2Σtp / (2Σtp + Σfp + Σfn) over codes) and the mean
    kappa and alpha over the codes where they are defined."""
    c = np.asarray(counts, dtype=float)
    per = scores_from_counts(c)
    tot = c.sum(axis=-2)
    return {
        "macro_f1": _nanmean_last(per["f1"]),
        "micro_f1": _ratio(2 * tot[..., 0], 2 * tot[..., 0] + tot[..., 1] + tot[..., 2], 1.0),
        "macro_precision": _nanmean_last(per["precision"]),
        "macro_recall": _nanmean_last(per["recall"]),
        "mean_kappa": _nanmean_last(per["kappa"]),
        "mean_alpha": _nanmean_last(per["alpha"]),
    }


def counts_by_group(y_true, y_pred, groups) -> tuple[list, np.ndarray]:
    """Confusion counts of each group (interview) and code: (group names in first-seen order,
    array groups × codes × 4 of (tp, fp, fn, tn))."""
    t = np.asarray(y_true).astype(bool)
    p = np.asarray(y_pred).astype(bool)
    if t.shape != p.shape or t.ndim != 2:
        raise ValueError("the two codings must be passages × codes matrices of the same shape")
    groups = list(groups)
    if len(groups) != t.shape[0]:
        raise ValueError("one group per passage is needed")
    names = list(dict.fromkeys(groups))
    index = {g: i for i, g in enumerate(names)}
    g = np.array([index[x] for x in groups], dtype=np.intp)
    out = np.zeros((len(names), t.shape[1], 4), dtype=np.int64)
    for k, cell in enumerate((t & p, ~t & p, t & ~p, ~t & ~p)):
        np.add.at(out[:, :, k], g, cell.astype(np.int64))
    return names, out


def percentile_interval(samples, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13): the (1−c)/2 and (1+c)/2
    quantiles of the resampled statistic (linear interpolation), leaving out resamples where the
    statistic is undefined (NaN). (NaN, NaN) when no resample gives a value."""
    x = np.asarray(samples, dtype=float)
    x = x[~np.isnan(x)]
    if not x.size:
        return math.nan, math.nan
    lo, hi = np.percentile(x, [50 * (1 - confidence), 50 * (1 + confidence)])
    return float(lo), float(hi)


@dataclass(frozen=True)
class BootstrapResult:
    """The statistics recomputed on each resample of `cluster_bootstrap`."""

    n_resamples: int
    seed: int
    n_groups: int
    n_passages: np.ndarray          # (resamples,) passages in each resample (sum of its groups' sizes)
    per_code: dict[str, np.ndarray]  # statistic → (resamples, codes)
    overall: dict[str, np.ndarray]   # statistic → (resamples,)


def cluster_bootstrap(y_true, y_pred, groups, *, n_resamples: int = 1000, seed: int = 0) -> BootstrapResult:
    """Cluster (case) bootstrap over groups, e.g. interviews (Davison & Hinkley 1997, §3.8; Field &
    Welsh 2007, "Bootstrapping clustered data").

    Passages of one interview are not independent (same speaker, same topics), so resampling
    passages would understate the uncertainty. Each resample draws as many groups as there are,
    uniformly with replacement, keeps all passages of every drawn group (a group drawn twice counts
    twice) and recomputes every statistic of `scores_from_counts` and `summary_from_counts`. The
    draws come from `numpy.random.default_rng(seed)`: the same seed gives the same resamples.
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    _, per_group = counts_by_group(y_true, y_pred, groups)
    n_groups = per_group.shape[0]
    if n_groups == 0:
        raise ValueError("no passages to resample")
    rng = np.random.default_rng(seed)
    # how many times each group is drawn: G draws with replacement among G groups
    weights = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=n_resamples)
    counts = np.einsum("bg,gjk->bjk", weights, per_group)
    sizes = per_group[:, 0, :].sum(axis=-1)
    return BootstrapResult(n_resamples, seed, n_groups, weights @ sizes, scores_from_counts(counts),
                           summary_from_counts(counts))


# --- calibration -------------------------------------------------------------------------------

def _calibration_bins(y_true, scores, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if t.shape != s.shape:
        raise ValueError("one score per label is needed")
    if s.size and (np.isnan(s).any() or s.min() < 0 or s.max() > 1):
        raise ValueError("scores must be probabilities in [0, 1]")
    # bin k holds scores in [k/n, (k+1)/n); a score of exactly 1 goes to the last bin
    return t, s, np.clip(np.floor(s * n_bins).astype(int), 0, n_bins - 1)


def reliability_curve(y_true, scores, n_bins: int = 10) -> list[dict]:
    """Reliability diagram (DeGroot & Fienberg 1983; Niculescu-Mizil & Caruana 2005) with `n_bins`
    equal-width bins of [0, 1]: for each bin its bounds, the mean predicted probability, the
    observed frequency of positives and the number of decisions. Empty bins have NaN means."""
    t, s, b = _calibration_bins(y_true, scores, n_bins)
    out = []
    for k in range(n_bins):
        m = b == k
        n = int(m.sum())
        out.append({"lower": k / n_bins, "upper": (k + 1) / n_bins, "count": n,
                    "mean_predicted": float(s[m].mean()) if n else math.nan,
                    "observed_frequency": float(t[m].mean()) if n else math.nan})
    return out


def expected_calibration_error(y_true, scores, n_bins: int = 10) -> float:
    """Expected calibration error (Naeini, Cooper & Hauskrecht 2015; Guo et al. 2017) over
    `n_bins` equal-width bins: ECE = Σ_b (n_b / N)·|observed frequency_b − mean predicted_b|.
    0 is perfectly calibrated; NaN when there is no score."""
    t, s, b = _calibration_bins(y_true, scores, n_bins)
    if not s.size:
        return math.nan
    ece = 0.0
    for k in range(n_bins):
        m = b == k
        if m.any():
            ece += m.sum() / s.size * abs(t[m].mean() - s[m].mean())
    return float(ece)
