"""The agreement statistics a researcher cites in a methods section give the same numbers as
scikit-learn and the `krippendorff` package, match small cases worked by hand, say "undefined"
where they are, and their intervals come from resampling interviews."""
import math

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import cohen_kappa_score, f1_score, precision_recall_fscore_support

from pipeline.core.agreement import (alpha_from_counts, alpha_two_coders, cluster_bootstrap, cohen_kappa, confusion,
                                counts_by_group, expected_calibration_error, kappa_from_counts,
                                krippendorff_alpha_nominal, percent_agreement, percentile_interval,
                                precision_recall_f1, reliability_curve, scores_from_counts, summary_from_counts,
                                summary_scores)

CODES = ["proximite", "exterieur", "confiance", "tacite", "produit"]


def random_codings(seed=0, n=300, prevalences=(0.05, 0.1, 0.2, 0.35, 0.5), flip=0.15):
    """Reference A with the given prevalences; B agrees with A except for a share `flip` of decisions."""
    rng = np.random.default_rng(seed)
    a = (rng.random((n, len(prevalences))) < np.array(prevalences)).astype(int)
    b = np.where(rng.random(a.shape) < flip, 1 - a, a)
    return a, b


# --- cross-checks against the libraries --------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_code_precision_recall_f1_kappa_match_scikit_learn(seed):
    a, b = random_codings(seed)
    summary = summary_scores(a, b, CODES)
    p, r, f, _ = precision_recall_fscore_support(a, b, average=None, zero_division=0)
    for j, code in enumerate(CODES):
        row = summary["per_code"][code]
        assert row["precision"] == pytest.approx(p[j])
        assert row["recall"] == pytest.approx(r[j])
        assert row["f1"] == pytest.approx(f[j])
        assert row["kappa"] == pytest.approx(cohen_kappa_score(a[:, j], b[:, j]))
        assert row["agreement"] == pytest.approx(np.mean(a[:, j] == b[:, j]))
    assert summary["micro_f1"] == pytest.approx(f1_score(a, b, average="micro"))
    assert summary["macro_f1"] == pytest.approx(f1_score(a, b, average="macro"))
    assert summary["macro_precision"] == pytest.approx(np.mean(p))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_matches_the_krippendorff_package(seed):
    a, b = random_codings(seed)
    for j in range(len(CODES)):
        expected = krippendorff.alpha(reliability_data=np.vstack([a[:, j], b[:, j]]), level_of_measurement="nominal")
        assert alpha_two_coders(a[:, j], b[:, j]) == pytest.approx(expected)


def test_alpha_with_missing_values_and_three_coders_matches_the_package():
    rng = np.random.default_rng(7)
    data = rng.integers(0, 4, size=(3, 60)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan  # a coder skipped some units
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(data) == pytest.approx(expected)


# --- small cases worked by hand --------------------------------------------------------------------

def test_a_ten_passage_case_worked_by_hand():
    a = [1, 1, 0, 0, 0, 0, 1, 0, 0, 0]
    b = [1, 0, 0, 0, 1, 0, 1, 0, 0, 0]
    # tp = 2 (passages 1, 7), fp = 1 (passage 5), fn = 1 (passage 2), tn = 6
    assert confusion(a, b) == (2, 1, 1, 6)
    # P = 2/3, R = 2/3, F1 = 2·2/(2·2+1+1) = 4/6
    assert precision_recall_f1(a, b) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    # p_o = 8/10; p_A = p_B = 3/10, p_e = 0.3·0.3 + 0.7·0.7 = 0.58; κ = (0.8 − 0.58)/(1 − 0.58) = 0.22/0.42
    assert cohen_kappa(a, b) == pytest.approx(0.22 / 0.42)
    # α: n = 20 values, n_1 = 2·tp + d = 6, n_0 = 2·tn + d = 14, d = 2 disagreeing units;
    # α = 1 − (n − 1)·d / (n_0·n_1) = 1 − 19·2/84
    assert alpha_two_coders(a, b) == pytest.approx(1 - 38 / 84)
    assert percent_agreement(a, b) == pytest.approx(0.8)
    # the closed forms in counts give the same
    assert kappa_from_counts(2, 1, 1, 6) == pytest.approx(0.22 / 0.42)
    assert alpha_from_counts(2, 1, 1, 6) == pytest.approx(1 - 38 / 84)


def test_micro_and_macro_f1_worked_by_hand():
    a = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    b = np.array([[1, 0], [0, 0], [0, 1], [1, 1]])
    # code 1: tp 1, fp 1, fn 1 → F1 2/4; code 2: tp 1, fp 1, fn 0 → F1 2/3
    # macro = (1/2 + 2/3)/2 = 7/12; micro: tp 2, fp 2, fn 1 → 4/7
    s = summary_scores(a, b, ["c1", "c2"])
    assert s["macro_f1"] == pytest.approx(7 / 12)
    assert s["micro_f1"] == pytest.approx(4 / 7)


# --- edge cases ---------------------------------------------------------------------------------

def test_a_code_nobody_uses_has_perfect_f1_but_undefined_kappa_and_alpha():
    a = b = [0, 0, 0, 0]
    assert precision_recall_f1(a, b) == (0.0, 0.0, 1.0)
    assert f1_score(a, b, zero_division=1.0) == 1.0  # scikit-learn's same convention, when asked for it
    assert math.isnan(cohen_kappa(a, b))
    assert math.isnan(alpha_two_coders(a, b))
    assert math.isnan(kappa_from_counts(0, 0, 0, 4))
    assert math.isnan(alpha_from_counts(0, 0, 0, 4))


def test_constant_codings_that_disagree_everywhere():
    a, b = [1, 1, 1], [0, 0, 0]
    # p_o = 0, p_e = 1·0 + 0·1 = 0 → κ = 0
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b)) == 0.0
    # n_0 = n_1 = 3, d = 3: α = 1 − 5·3/9 = −2/3
    expected = krippendorff.alpha(reliability_data=[a, b], level_of_measurement="nominal")
    assert alpha_two_coders(a, b) == pytest.approx(expected) == pytest.approx(-2 / 3)


def test_a_classifier_that_never_says_yes_scores_zero():
    a, b = [1, 0, 1, 0], [0, 0, 0, 0]
    assert precision_recall_f1(a, b) == (0.0, 0.0, 0.0)
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b)) == 0.0


def test_mean_kappa_leaves_out_undefined_codes():
    a = np.array([[1, 0], [0, 0], [1, 0]])
    b = np.array([[1, 0], [0, 0], [1, 0]])
    s = summary_scores(a, b, ["used", "unused"])
    assert s["mean_kappa"] == 1.0  # the unused code's NaN kappa is not averaged in
    assert summary_from_counts(counts_by_group(a, b, ["E1"] * 3)[1].sum(axis=0))["mean_kappa"] == 1.0


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=40))
def test_the_closed_forms_in_counts_equal_the_definitions(pairs):
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    got = scores_from_counts(np.array(confusion(a, b)))
    p, r, f = precision_recall_f1(a, b)
    for name, want in (("precision", p), ("recall", r), ("f1", f), ("kappa", cohen_kappa(a, b)),
                       ("alpha", alpha_two_coders(a, b)), ("agreement", percent_agreement(a, b))):
        if math.isnan(want):
            assert math.isnan(got[name])
        else:
            assert got[name] == pytest.approx(want)


def test_summary_from_counts_equals_summary_scores():
    a, b = random_codings(3)
    _, per_group = counts_by_group(a, b, ["E1"] * 100 + ["E2"] * 200)
    fast = summary_from_counts(per_group.sum(axis=0))
    slow = summary_scores(a, b, CODES)
    for k, v in fast.items():
        assert float(v) == pytest.approx(slow[k])


# --- bootstrap over interviews ----------------------------------------------------------------------

def interviews(n_docs=20, seed=0):
    a, b = random_codings(seed, n=n_docs * 15)
    return a, b, [f"E{i // 15:02d}" for i in range(len(a))]


def test_bootstrap_intervals_contain_the_estimate_and_repeat_with_the_seed():
    a, b, docs = interviews()
    point = summary_scores(a, b, CODES)
    boot = cluster_bootstrap(a, b, docs, n_resamples=500, seed=42)
    for stat in ("macro_f1", "micro_f1", "mean_kappa", "mean_alpha"):
        lo, hi = percentile_interval(boot.overall[stat])
        assert lo <= point[stat] <= hi
    for j, code in enumerate(CODES):
        lo, hi = percentile_interval(boot.per_code["f1"][:, j])
        assert lo <= point["per_code"][code]["f1"] <= hi
    again = cluster_bootstrap(a, b, docs, n_resamples=500, seed=42)
    assert np.array_equal(again.overall["macro_f1"], boot.overall["macro_f1"])
    other = cluster_bootstrap(a, b, docs, n_resamples=500, seed=43)
    assert not np.array_equal(other.overall["macro_f1"], boot.overall["macro_f1"])


def test_bootstrap_draws_whole_interviews_not_passages():
    # three interviews of 1, 10 and 100 passages: a resample of interviews holds k1·1 + k2·10 + k3·100
    # passages with k1 + k2 + k3 = 3; a resample of passages would always hold 111
    sizes = {"E1": 1, "E2": 10, "E3": 100}
    docs = [d for d, n in sizes.items() for _ in range(n)]
    a, b = random_codings(0, n=len(docs))
    boot = cluster_bootstrap(a, b, docs, n_resamples=300, seed=0)
    possible = {k1 + 10 * k2 + 100 * k3 for k1 in range(4) for k2 in range(4) for k3 in range(4) if k1 + k2 + k3 == 3}
    assert set(boot.n_passages.tolist()) <= possible
    assert len(set(boot.n_passages.tolist())) > 3


def test_one_interview_gives_no_spread_at_all():
    # all resamples are the same interview: the bootstrap sees no between-interview variation
    a, b = random_codings(0, n=50)
    boot = cluster_bootstrap(a, b, ["E1"] * 50, n_resamples=100, seed=0)
    lo, hi = percentile_interval(boot.overall["macro_f1"])
    assert lo == hi == pytest.approx(summary_scores(a, b, CODES)["macro_f1"])


def test_percentile_interval_leaves_out_undefined_resamples():
    # 2.5th and 97.5th percentiles of 1..99 with linear interpolation: 1 + 0.025·98, 1 + 0.975·98
    samples = np.r_[np.arange(1, 100, dtype=float), [np.nan] * 10]
    assert percentile_interval(samples) == pytest.approx((3.45, 96.55))
    assert all(math.isnan(x) for x in percentile_interval([np.nan, np.nan]))


def test_counts_by_group_counts_each_interview():
    a = np.array([[1], [0], [1], [1]])
    b = np.array([[1], [1], [0], [1]])
    names, counts = counts_by_group(a, b, ["E2", "E2", "E1", "E1"])
    assert names == ["E2", "E1"]
    assert counts[:, 0, :].tolist() == [[1, 1, 0, 0], [1, 0, 1, 0]]  # (tp, fp, fn, tn)


# --- calibration -----------------------------------------------------------------------------------

def test_calibration_on_a_known_case():
    scores = [0.05, 0.05, 0.15, 0.95, 0.95, 0.95, 0.95]
    truth = [0, 0, 1, 1, 1, 1, 0]
    curve = reliability_curve(truth, scores)
    assert [b["count"] for b in curve] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 4]
    assert curve[9]["observed_frequency"] == 0.75 and curve[9]["mean_predicted"] == pytest.approx(0.95)
    assert math.isnan(curve[4]["mean_predicted"])
    # ECE = (2·|0 − 0.05| + 1·|1 − 0.15| + 4·|0.75 − 0.95|) / 7 = (0.1 + 0.85 + 0.8)/7 = 0.25
    assert expected_calibration_error(truth, scores) == pytest.approx(0.25)


def test_perfectly_calibrated_scores_have_zero_error():
    # a quarter of the passages scored 0.25 have the code, three quarters of those scored 0.75
    truth = [1, 0, 0, 0, 1, 1, 1, 0]
    scores = [0.25] * 4 + [0.75] * 4
    assert expected_calibration_error(truth, scores) == pytest.approx(0.0)


def test_bin_edges_and_a_score_of_one():
    curve = reliability_curve([0, 1, 1], [0.3, 0.99, 1.0])
    assert curve[3]["count"] == 1  # 0.3 opens bin [0.3, 0.4)
    assert curve[9]["count"] == 2  # 1.0 closes the last bin
    with pytest.raises(ValueError, match="probabilities"):
        reliability_curve([1], [1.2])


def test_reliability_curve_matches_scikit_learn():
    rng = np.random.default_rng(5)
    scores = rng.random(2000) * 0.999
    truth = (rng.random(2000) < scores).astype(int)
    prob_true, prob_pred = calibration_curve(truth, scores, n_bins=10, strategy="uniform")
    ours = [b for b in reliability_curve(truth, scores) if b["count"]]
    assert [b["observed_frequency"] for b in ours] == pytest.approx(list(prob_true))
    assert [b["mean_predicted"] for b in ours] == pytest.approx(list(prob_pred))
