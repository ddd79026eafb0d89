"""Case matrices: a researcher crosses the codes with the case attributes (which codes, in which
kinds of firms) and checks whether the machine's errors depend on those attributes."""
from __future__ import annotations

import csv
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.audit.bias import bias_tests, dummy_design, f_test, interview_errors, ols
from pipeline.audit.matrix import CodedPassages, build_matrix
from pipeline.audit.matrix_html import heatmap_html

runner = CliRunner()


# --- statistics, against scipy and hand computation ----------------------------------------------

def test_ols_matches_the_normal_equations():
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(20), rng.normal(size=20), rng.integers(0, 2, 20)])
    y = X @ np.array([0.5, -1.0, 2.0]) + rng.normal(scale=0.3, size=20)
    fit = ols(y, X, ["c", "x", "d"])
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    resid = y - X @ beta
    s2 = resid @ resid / (20 - 3)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    assert np.allclose(fit.beta, beta) and np.allclose(fit.std_error, se)
    assert np.allclose(fit.p, 2 * stats.t.sf(np.abs(beta / se), 17))
    assert fit.df_resid == 17 and fit.dropped == []


def test_two_groups_give_the_t_test_and_the_difference_of_means():
    a, b = [0.10, 0.05, 0.20, 0.00, 0.15], [-0.05, 0.02, -0.10, 0.01]
    cases = {f"a{i}": {"market": "auto"} for i in range(5)} | {f"b{i}": {"market": "médical"} for i in range(4)}
    docs = sorted(cases)
    y = [dict(zip([f"a{i}" for i in range(5)], a)) | dict(zip([f"b{i}" for i in range(4)], b))][0]
    X, names, by_attr, ref = dummy_design(docs, cases, ["market"])
    fit = ols([y[d] for d in docs], X, names)
    assert ref == {"market": "auto"} and names == ["(intercept)", "market=médical"]
    assert fit.beta[1] == pytest.approx(np.mean(b) - np.mean(a))
    rows = bias_tests({"procede": y}, cases, ["market"])
    joint = next(r for r in rows if r["test"] == "joint")
    t, p = stats.ttest_ind(a, b)
    assert joint["statistic"] == pytest.approx(t ** 2) and joint["p_value"] == pytest.approx(p)
    assert (joint["df_num"], joint["df_den"], joint["n_interviews"]) == (1, 7, 9)


def test_several_groups_give_one_way_anova():
    groups = {"auto": [0.1, 0.2, 0.15, 0.05], "aéro": [0.0, -0.05, 0.02], "médical": [0.3, 0.25, 0.2, 0.4]}
    cases, y = {}, {}
    for g, vals in groups.items():
        for i, v in enumerate(vals):
            cases[f"{g}{i}"] = {"market": g}
            y[f"{g}{i}"] = v
    joint = next(r for r in bias_tests({"c": y}, cases, ["market"]) if r["test"] == "joint")
    F, p = stats.f_oneway(*groups.values())
    assert joint["statistic"] == pytest.approx(F) and joint["p_value"] == pytest.approx(p)
    assert "errors depend on market" in joint["reading"] and "médical" in joint["reading"]


def test_f_test_by_hand_and_its_undefined_cases():
    F, p = f_test(10.0, 4.0, 2, 12)
    assert F == pytest.approx((6.0 / 2) / (4.0 / 12)) and p == pytest.approx(stats.f.sf(9.0, 2, 12))
    assert all(np.isnan(v) for v in f_test(0.0, 0.0, 2, 12))   # no error anywhere
    assert all(np.isnan(v) for v in f_test(5.0, 1.0, 2, 0))    # no residual degree of freedom


def test_partial_f_test_holds_the_other_attribute_constant():
    rng = np.random.default_rng(3)
    cases = {f"d{i}": {"market": ["auto", "médical", "aéro"][i % 3], "headcount": ["<10", "10-19"][i % 2]}
             for i in range(18)}
    y = {d: (0.2 if c["market"] == "médical" else 0.0) + rng.normal(scale=0.02) for d, c in cases.items()}
    rows = bias_tests({"c": y}, cases, ["market", "headcount"])
    docs = sorted(cases)
    X, names, *_ = dummy_design(docs, cases, ["market", "headcount"])
    full = ols([y[d] for d in docs], X, names)
    keep = [i for i, n in enumerate(names) if not n.startswith("market=")]
    restricted = ols([y[d] for d in docs], X[:, keep], [names[i] for i in keep])
    market = next(r for r in rows if r["test"] == "attribute" and r["term"] == "market")
    assert market["statistic"] == pytest.approx(((restricted.rss - full.rss) / 2) / (full.rss / full.df_resid))
    assert market["p_value"] < 0.001 and "errors depend on market" in market["reading"]
    headcount = next(r for r in rows if r["test"] == "attribute" and r["term"] == "headcount")
    assert "no evidence that errors depend on headcount" in headcount["reading"]


def test_small_groups_and_collinear_attributes_are_said_plainly():
    cases = {"a": {"market": "auto", "actor_type": "PME"}, "b": {"market": "auto", "actor_type": "PME"},
             "c": {"market": "auto", "actor_type": "PME"}, "d": {"market": "varié", "actor_type": "institution"},
             "e": {"market": "varié", "actor_type": "institution"}}
    y = {"a": 0.1, "b": 0.0, "c": 0.05, "d": -0.1, "e": 0.02}
    joint = next(r for r in bias_tests({"c": y}, cases, ["market", "actor_type"]) if r["test"] == "joint")
    assert "too few interviews per group" in joint["note"] and "collinear dummies dropped" in joint["note"]
    perfect = bias_tests({"c": {k: 0.0 for k in y}}, cases, ["market"])
    assert "agrees with the human on every interview" in perfect[0]["reading"]


# --- the matrix -----------------------------------------------------------------------------------

def small_corpus():
    """Three interviews, four passages each, coded by a human and a machine."""
    cases = {"E1": {"market": "auto"}, "E2": {"market": "auto"}, "E3": {"market": "médical"}}
    doc_ids = ["E1"] * 4 + ["E2"] * 4 + ["E3"] * 4
    machine = [{"procede"}, set(), set(), set(), {"procede"}, {"procede"}, set(), set(),
               {"produit"}, set(), set(), set()]
    human = [{"procede"}, set(), set(), set(), set(), set(), set(), set(),
             {"produit"}, {"procede"}, set(), set()]
    return cases, CodedPassages([f"p{i}" for i in range(12)], doc_ids, machine, human, {"E1", "E2", "E3"})


def test_matrix_counts_passages_and_shares_of_interviews_for_both_sides():
    cases, coded = small_corpus()
    rows = build_matrix(coded, cases, ["market"], ["procede", "produit"], {"procede": "innovation"})
    cell = {(r["attribute"], r["value"], r["code"]): r for r in rows}
    auto = cell[("market", "auto", "procede")]
    assert (auto["n_interviews"], auto["n_passages"]) == (2, 8)
    assert (auto["machine_passages"], auto["machine_coded_interviews"], auto["machine_share"]) == (3, 2, 1.0)
    assert (auto["human_passages"], auto["human_coded_interviews"], auto["human_share"]) == (1, 1, 0.5)
    assert auto["machine_passage_share"] == pytest.approx(3 / 8)
    assert cell[("(all)", "(all)", "produit")]["human_share"] == pytest.approx(1 / 3)
    two = build_matrix(coded, cases, ["market"], ["procede"], min_passages=2)
    assert next(r for r in two if r["value"] == "auto")["machine_coded_interviews"] == 1


def test_interview_errors_are_human_minus_machine_shares():
    _, coded = small_corpus()
    errors = interview_errors(coded, ["procede"])["procede"]
    assert errors == {"E1": 0.0, "E2": -0.5, "E3": 0.25}  # E2: the machine over-codes


def test_the_heatmap_escapes_text_and_shows_both_sides():
    cases, coded = small_corpus()
    cases["E3"]["market"] = "<script>alert(1)</script>"
    fragment = heatmap_html(build_matrix(coded, cases, ["market"], ["procede"]), title="a & b")
    assert "<script>" not in fragment and "&lt;script&gt;" in fragment and "a &amp; b" in fragment
    assert ">H<" in fragment and ">M<" in fragment and "50%" in fragment
    parser = HTMLParser()
    parser.feed(fragment)  # well-formed enough to parse


# --- the command ----------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path: Path) -> dict:
    """Predictions, gold spans and case attributes of six small interviews, as files."""
    cases = tmp_path / "cases.csv"
    markets = {"E1": "automobile", "E2": "automobile", "E3": "automobile", "E4": "médical", "E5": "médical",
               "E6": "médical"}
    with cases.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["doc_id", "actor_type", "market", "headcount", "organisation"])
        for i, (doc, market) in enumerate(markets.items()):
            w.writerow([doc, "PME" if i != 5 else "institution", market, "<10" if i % 2 else "10-19", f"Firme {i}"])
    preds, gold = [], []
    for doc in markets:
        offset = 0
        for k in range(4):
            text = f"Passage {k} de {doc}, on parle machines et clients."
            codes = ["procede"] if k == 0 else (["produit"] if (k == 1 and doc in ("E4", "E5")) else [])
            preds.append({"id": f"{doc}:{offset}-{offset + len(text)}", "doc_id": doc, "start": offset,
                          "end": offset + len(text), "text": text, "codes": codes})
            human = ["procede"] if k in (0, 2) and doc != "E6" else (["produit"] if k == 1 else [])
            if human:
                gold.append({"doc": doc, "start": offset, "end": offset + len(text), "codes": human,
                             "coder": "coder1", "text": text})
            offset += len(text) + 2
    pred_path, gold_path = tmp_path / "pred.jsonl", tmp_path / "gold.jsonl"
    pred_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in preds), encoding="utf-8")
    gold_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in gold), encoding="utf-8")
    return {"pred": pred_path, "gold": gold_path, "cases": cases, "out": tmp_path / "matrix"}


def invoke(project, *extra):
    return runner.invoke(app, ["matrix", "--pred", str(project["pred"]), "--cases", str(project["cases"]),
                               "--out", str(project["out"]), *map(str, extra)])


def test_matrix_command_writes_csv_html_and_the_error_analysis(project):
    result = invoke(project, "--gold", project["gold"], "--by", "market,headcount", "--min-group", "4")
    assert result.exit_code == 0, result.output
    with (project["out"] / "matrix.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    produit = {r["value"]: r for r in rows if r["code"] == "produit" and r["attribute"] == "market"}
    assert produit["médical"]["machine_coded_interviews"] == "2" and produit["médical"]["human_share"] == "1"
    assert produit["automobile"]["machine_share"] == "0" and produit["automobile"]["human_share"] == "1"
    with (project["out"] / "bias.csv").open(encoding="utf-8-sig") as fh:
        bias = list(csv.DictReader(fh))
    assert {r["test"] for r in bias} == {"joint", "attribute", "coefficient"}
    assert all(r["n_interviews"] == "6" for r in bias)
    page = (project["out"] / "matrix.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "src=" not in page and "href=" not in page
    assert "iQual" in page and "errors depend on" in page
    assert "too few interviews per group" in result.output  # three interviews per market, fewer than 4
    assert "Firme" not in page  # attributes not asked for (here: organisation names) stay out


def test_what_share_of_smes_talk_about_process_vs_product_innovation_by_market(project):
    result = invoke(project, "--by", "market", "--where", "actor_type=PME", "--codes", "procede,produit")
    assert result.exit_code == 0, result.output
    assert "5 interview(s)" in result.output
    with (project["out"] / "matrix.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["code"] for r in rows} == {"procede", "produit"}
    medical = {r["code"]: r for r in rows if r["value"] == "médical"}
    assert medical["produit"]["machine_share"] == "1" and medical["produit"]["n_interviews"] == "2"
    assert not (project["out"] / "bias.csv").exists()  # no gold, no error analysis


def test_an_unknown_attribute_is_a_one_line_error(project):
    result = invoke(project, "--by", "sector")
    assert result.exit_code == 2
    assert "unknown attribute(s) sector" in result.output and "market" in result.output
    assert "Traceback" not in result.output
