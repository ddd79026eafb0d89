"""A researcher audits the classifier against the gold coding (`codeur evaluate`) or compares two
coders (`codeur audit`): they get a self-contained report, metrics.json and the disagreements to
adjudicate, with figures that match scikit-learn; bad input is refused in one line that says why."""
import csv
import json
import re

import numpy as np
import pytest
import yaml
from sklearn.metrics import cohen_kappa_score, f1_score, precision_recall_fscore_support
from typer.testing import CliRunner

from pipeline.audit.codings import Coding, PassageRef, read_coding
from pipeline.audit.report import build_report
from pipeline.cli import app
from pipeline.core.codebook import load_codebook
from pipeline.audit.html import render_report
from pipeline.core.spans import Span
from pipeline.core.tables import write_rows

CB = load_codebook()
CODES = CB.codes
DOCS = ["E01", "E02", "E03", "E04"]
PER_DOC = 8
THRESHOLD = 0.5
runner = CliRunner()


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def strict_json(path):
    """metrics.json must be valid JSON for any reader: no NaN."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


class Study:
    """Four interviews of eight passages: gold by coder 1 on all, coder 2 on E01-E03, and a model's
    predictions that get about one decision in eight wrong."""

    def __init__(self, root, seed=0):
        rng = np.random.default_rng(seed)
        self.root = root
        self.passages = []
        for d in DOCS:
            for k in range(PER_DOC):
                s, e = k * 100, k * 100 + 80
                self.passages.append({"id": f"{d}:{s}-{e}", "doc_id": d, "speaker": "M. Perrin",
                                      "role": "interviewee", "start": s, "end": e,
                                      "text": f"{d} passage {k} : on travaille avec les voisins", "turns": [k]})
        n = len(self.passages)
        self.gold = (rng.random((n, len(CODES))) < 0.3).astype(int)
        flips = rng.random(self.gold.shape) < 0.12
        self.pred = np.where(flips, 1 - self.gold, self.gold)
        self.coder2 = np.where(rng.random(self.gold.shape) < 0.05, 1 - self.gold, self.gold)
        conf = rng.uniform(0.05, 0.45, self.gold.shape)
        self.scores = np.where(self.pred == 1, 1 - conf, conf)

    def codes_of(self, row):
        return [c for c, v in zip(CODES, row) if v]

    def spans(self, matrix, coder, docs=DOCS):
        return [{"doc": p["doc_id"], "start": p["start"], "end": p["end"], "codes": self.codes_of(m),
                 "coder": coder, "text": p["text"]}
                for p, m in zip(self.passages, matrix) if p["doc_id"] in docs and m.any()]

    def prediction_rows(self):
        return [{**p, "clean_text": p["text"], "codes": self.codes_of(m),
                 "scores": {c: round(float(s), 5) for c, s in zip(CODES, sc)}, "model": "tiny"}
                for p, m, sc in zip(self.passages, self.pred, self.scores)]

    def write(self):
        r = self.root
        self.gold_path = write_jsonl(r / "coder1.jsonl", self.spans(self.gold, "coder1"))
        self.coder2_path = write_jsonl(r / "coder2.jsonl", self.spans(self.coder2, "coder2", DOCS[:3]))
        self.pred_path = write_jsonl(r / "predictions.jsonl", self.prediction_rows())
        self.passages_path = write_jsonl(r / "passages.jsonl", self.passages)
        self.model_dir = r / "model"
        self.model_dir.mkdir()
        (self.model_dir / "codebook.yaml").write_text(yaml.safe_dump(CB.model_dump(mode="json"), allow_unicode=True),
                                                      encoding="utf-8")
        card = {"name": "tiny", "backend": "baseline", "labels": CODES, "codebook_hash": CB.content_hash(),
                "codebook_name": CB.name, "thresholds": {c: THRESHOLD for c in CODES}, "created": "2026-01-01"}
        (self.model_dir / "model-card.json").write_text(json.dumps(card), encoding="utf-8")
        return self


@pytest.fixture()
def study(tmp_path):
    return Study(tmp_path).write()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


# --- codeur evaluate --------------------------------------------------------------------------------

def test_evaluate_writes_the_report_metrics_and_disagreements_and_prints_the_headline(study, tmp_path):
    out = tmp_path / "audit"
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", study.pred_path, "--out", out,
                 "--reference", study.coder2_path, "--model", study.model_dir, "--bootstrap", 200)
    assert res.exit_code == 0, res.output
    for name in ("report.html", "metrics.json", "disagreements.csv"):
        assert (out / name).is_file()
    assert "tiny vs gold: 32 passages, 4 interviews" in res.stdout
    assert re.search(r"macro-F1 \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", res.stdout)
    assert "mean kappa" in res.stdout and "mean alpha" in res.stdout
    assert "human reference, coder2 vs gold: 24 passages, 3 interviews" in res.stdout
    assert f"report: {out / 'report.html'}" in res.stdout
    m = strict_json(out / "metrics.json")
    assert m["model"]["name"] == "tiny" and m["model"]["codebook_hash"] == CB.content_hash()
    assert list(m["agreement"]["per_code"]) == CODES
    assert m["agreement"]["bootstrap"] == {"unit": "interview", "n_resamples": 200, "seed": 0, "confidence": 0.95,
                                           "n_units": 4, "method": "percentile"}
    assert set(m["agreement"]["per_dimension"]) == {"strategie", "relation", "connaissance", "innovation"}
    assert m["calibration"]["n_decisions"] == 32 * len(CODES)
    assert len(m["calibration"]["curve"]) == 10
    # the machine on the three double-coded interviews, beside the human reference
    assert m["machine_on_reference"]["n_passages"] == 24


def test_evaluate_figures_match_scikit_learn_on_the_same_passages(study, tmp_path):
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", study.pred_path, "--out", tmp_path / "a",
                 "--bootstrap", 0)
    assert res.exit_code == 0, res.output
    m = strict_json(tmp_path / "a" / "metrics.json")
    # passages are listed in interview and position order, as in the study
    p, r, f, _ = precision_recall_fscore_support(study.gold, study.pred, average=None, zero_division=0)
    for j, code in enumerate(CODES):
        row = m["agreement"]["per_code"][code]
        assert row["f1"] == pytest.approx(f[j]) and row["precision"] == pytest.approx(p[j])
        assert row["recall"] == pytest.approx(r[j])
        assert row["kappa"] == pytest.approx(cohen_kappa_score(study.gold[:, j], study.pred[:, j]))
        assert row["tp"] + row["fn"] == study.gold[:, j].sum()
    assert m["agreement"]["overall"]["micro_f1"] == pytest.approx(f1_score(study.gold, study.pred, average="micro"))
    assert m["agreement"]["overall"]["macro_f1"] == pytest.approx(f1_score(study.gold, study.pred, average="macro"))


def test_disagreements_csv_is_ready_to_adjudicate_most_confident_first(study, tmp_path):
    invoke("evaluate", "--gold", study.gold_path, "--pred", study.pred_path, "--out", tmp_path / "a",
           "--model", study.model_dir, "--bootstrap", 0)
    with (tmp_path / "a" / "disagreements.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == int((study.gold != study.pred).sum())
    assert list(rows[0]) == ["passage_id", "doc_id", "start", "end", "code", "gold", "tiny", "b_score", "threshold",
                             "confidence", "question", "text", "decision"]
    confidence = [float(r["confidence"]) for r in rows]
    assert confidence == sorted(confidence, reverse=True)
    assert all(r["decision"] == "" and r["gold"] != r["tiny"] and r["threshold"] == "0.5" for r in rows)
    first = rows[0]
    score = float(first["b_score"])
    assert float(first["confidence"]) == pytest.approx(score if first["tiny"] == "1" else 1 - score)


def test_evaluate_reads_csv_predictions_as_classify_writes_them(study, tmp_path):
    csv_pred = tmp_path / "predictions.csv"
    write_rows(csv_pred, study.prediction_rows())
    for name, pred in (("jsonl", study.pred_path), ("csv", csv_pred)):
        res = invoke("evaluate", "--gold", study.gold_path, "--pred", pred, "--out", tmp_path / name, "--bootstrap", 50)
        assert res.exit_code == 0, res.output
    a, b = (strict_json(tmp_path / n / "metrics.json")["agreement"] for n in ("jsonl", "csv"))
    assert a["per_code"] == b["per_code"] and a["overall"] == b["overall"]


def test_evaluate_with_passage_level_gold(study, tmp_path):
    gold_rows = [{"id": p["id"], "codes": study.codes_of(m)} for p, m in zip(study.passages, study.gold)]
    gold = write_jsonl(tmp_path / "corpus.jsonl", gold_rows)
    res = invoke("evaluate", "--gold", gold, "--pred", study.pred_path, "--out", tmp_path / "a", "--bootstrap", 0)
    assert res.exit_code == 0, res.output
    m = strict_json(tmp_path / "a" / "metrics.json")
    assert m["a"]["kind"] == "passages"
    assert m["agreement"]["per_code"]["proximite"]["f1"] == pytest.approx(
        f1_score(study.gold[:, 0], study.pred[:, 0]))


# --- codeur audit ------------------------------------------------------------------------------------

def test_audit_compares_two_coders_on_the_double_coded_interviews(study, tmp_path):
    res = invoke("audit", study.gold_path, study.coder2_path, "--passages", study.passages_path,
                 "--names", "coder 1,coder 2", "--out", tmp_path / "h", "--bootstrap", 100)
    assert res.exit_code == 0, res.output
    assert "coder 2 vs coder 1: 24 passages, 3 interviews" in res.stdout
    assert "coded by coder 1 only: E04" in res.stderr
    m = strict_json(tmp_path / "h" / "metrics.json")
    assert m["agreement"]["interviews"] == ["E01", "E02", "E03"]
    assert m["calibration"] is None  # a human gives no probabilities
    docs = np.array([p["doc_id"] for p in study.passages])
    mask = docs != "E04"
    for j, code in enumerate(CODES):
        assert m["agreement"]["per_code"][code]["kappa"] == pytest.approx(
            cohen_kappa_score(study.gold[mask, j], study.coder2[mask, j]))


def test_two_span_codings_need_the_passages(study, tmp_path):
    res = invoke("audit", study.gold_path, study.coder2_path, "--out", tmp_path / "h")
    assert res.exit_code == 2
    assert "two span codings need the passages" in res.stderr and "--passages" in res.stderr
    assert "Traceback" not in res.output


def test_missing_passages_are_counted_and_refused_unless_partial_is_allowed(study, tmp_path):
    gold_rows = [{"id": p["id"], "codes": study.codes_of(m)} for p, m in zip(study.passages, study.gold)]
    gold = write_jsonl(tmp_path / "gold.jsonl", gold_rows[2:])           # two passages never coded
    pred = write_jsonl(tmp_path / "pred.jsonl", study.prediction_rows()[:-3])  # three never classified
    res = invoke("audit", gold, pred, "--out", tmp_path / "x")
    assert res.exit_code == 2
    assert "3 of gold's 30 passages are missing from tiny" in res.stderr
    assert "2 of tiny's 29 are missing from gold" in res.stderr
    assert "--allow-partial" in res.stderr
    assert not (tmp_path / "x" / "metrics.json").exists()

    res = invoke("audit", gold, pred, "--out", tmp_path / "x", "--allow-partial", "--bootstrap", 0)
    assert res.exit_code == 0, res.output
    m = strict_json(tmp_path / "x" / "metrics.json")
    assert m["coverage"]["partial"] is True
    assert (m["coverage"]["passages_only_in_a"], m["coverage"]["passages_only_in_b"]) == (3, 2)
    assert m["agreement"]["n_passages"] == 27
    assert any("partial comparison" in n for n in m["notes"])


def test_predictions_for_interviews_the_gold_does_not_code_are_refused(study, tmp_path):
    gold = write_jsonl(tmp_path / "gold.jsonl", study.spans(study.gold, "coder1", DOCS[:3]))
    res = invoke("evaluate", "--gold", gold, "--pred", study.pred_path, "--out", tmp_path / "x")
    assert res.exit_code == 2
    assert "8 of tiny's 32 passages lie in 1 interview(s) that gold does not code: E04" in res.stderr
    res = invoke("evaluate", "--gold", gold, "--pred", study.pred_path, "--out", tmp_path / "x", "--allow-partial",
                 "--bootstrap", 0)
    assert res.exit_code == 0 and "24 passages, 3 interviews" in res.stdout


def test_an_unknown_code_is_named_with_the_codebook_codes(study, tmp_path):
    rows = study.prediction_rows()
    rows[4]["codes"] = ["innovation_sociale"]
    pred = write_jsonl(tmp_path / "pred.jsonl", rows)
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", pred, "--out", tmp_path / "x")
    assert res.exit_code == 2
    assert "unknown code(s) innovation_sociale" in res.stderr
    assert "proximite, exterieur, concurrents" in res.stderr


def test_an_unknown_code_in_the_gold_is_named_too(study, tmp_path):
    spans = study.spans(study.gold, "coder1")
    spans[2]["codes"] = ["cooperation"]
    gold = write_jsonl(tmp_path / "gold.jsonl", spans)
    res = invoke("evaluate", "--gold", gold, "--pred", study.pred_path, "--out", tmp_path / "x")
    assert res.exit_code == 2 and "[E030]" in res.stderr and "unknown code(s) cooperation" in res.stderr
    assert f"first in span 3: {spans[2]['doc']} {spans[2]['start']}-{spans[2]['end']}" in res.stderr


def test_a_malformed_line_is_reported_by_number_and_the_rest_is_used(study, tmp_path):
    lines = study.pred_path.read_text(encoding="utf-8").splitlines()
    lines[2] = '{"id": "E01:200-280", "codes": ['  # truncated: line 3 of the file
    pred = tmp_path / "pred.jsonl"
    pred.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", pred, "--out", tmp_path / "x", "--bootstrap", 0)
    assert res.exit_code == 1, res.output
    assert "line 3: not valid JSON" in res.stderr
    assert strict_json(tmp_path / "x" / "metrics.json")["agreement"]["n_passages"] == 31


def test_an_empty_predictions_file_is_refused(study, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", empty, "--out", tmp_path / "x")
    assert res.exit_code == 2 and "empty file" in res.stderr


def test_a_gold_folder_with_two_coders_asks_for_one(study, tmp_path):
    folder = tmp_path / "gold"
    folder.mkdir()
    for f in (study.gold_path, study.coder2_path):
        (folder / f.name).write_bytes(f.read_bytes())
    res = invoke("evaluate", "--gold", folder, "--pred", study.pred_path, "--out", tmp_path / "x")
    assert res.exit_code == 2
    assert "several coders: coder1 (" in res.stderr and "coder2 (" in res.stderr


def test_passages_without_offsets_are_placed_with_the_passages_file(study, tmp_path):
    bare = [{"id": f"p{i}", "text": r["text"], "codes": r["codes"], "scores": r["scores"]}
            for i, r in enumerate(study.prediction_rows())]
    pred = write_jsonl(tmp_path / "bare.jsonl", bare)
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", pred, "--out", tmp_path / "x")
    assert res.exit_code == 2 and "have no offsets" in res.stderr and "--passages" in res.stderr
    located = write_jsonl(tmp_path / "located.jsonl", [{**p, "id": f"p{i}"} for i, p in enumerate(study.passages)])
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", pred, "--out", tmp_path / "x", "--passages", located,
                 "--bootstrap", 0)
    assert res.exit_code == 0, res.output
    assert "32 passages, 4 interviews" in res.stdout


def test_passage_ids_that_name_their_location_need_no_offsets(study, tmp_path):
    bare = [{"id": r["id"], "codes": r["codes"], "scores": r["scores"]} for r in study.prediction_rows()]
    pred = write_jsonl(tmp_path / "bare.jsonl", bare)
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", pred, "--out", tmp_path / "x", "--bootstrap", 0)
    assert res.exit_code == 0, res.output
    assert strict_json(tmp_path / "x" / "metrics.json")["agreement"]["bootstrap"]["unit"] == "interview"


def test_headline_prints_the_figures_and_where_the_report_is(study, tmp_path):
    invoke("evaluate", "--gold", study.gold_path, "--pred", study.pred_path, "--out", tmp_path / "a",
           "--reference", study.coder2_path, "--bootstrap", 50)
    res = invoke("headline", tmp_path / "a" / "metrics.json")
    assert res.exit_code == 0, res.output
    assert "macro-F1" in res.stdout and "human reference" in res.stdout
    assert f"report: {tmp_path / 'a' / 'report.html'}" in res.stdout
    res = invoke("headline", tmp_path / "nothing.json")
    assert res.exit_code == 2 and "run `codeur evaluate` first" in res.stderr


# --- the report ----------------------------------------------------------------------------------

def test_the_report_is_self_contained_and_escapes_passage_text(study, tmp_path):
    rows = study.prediction_rows()
    evil = '<script>alert("x")</script> <img src="http://tracker.example/p.png">'
    for r in rows:
        r["text"] = evil
        r["codes"] = [] if r["codes"] else ["proximite"]  # every passage disagrees somewhere
    pred = write_jsonl(tmp_path / "pred.jsonl", rows)
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", pred, "--out", tmp_path / "r",
                 "--reference", study.coder2_path, "--bootstrap", 50)
    assert res.exit_code == 0, res.output
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page, re.I)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "<svg" in page and "<table" in page
    assert page.count("<svg") >= 3  # κ bars, F1 bars, calibration
    for code in CODES:
        assert f"<td>{code}</td>" in page
    assert "How to read this" in page and "bootstrap over interviews" in page.replace("\n", " ")


def test_undefined_statistics_show_as_a_dash_and_null():
    passages = {f"E1:{i}-{i + 1}": PassageRef(f"E1:{i}-{i + 1}", "E1", Span(i, i + 1), "t") for i in range(0, 8, 2)}
    labels = {pid: frozenset({"proximite"} if n % 2 else set()) for n, pid in enumerate(passages)}
    a = Coding("A", "a.jsonl", "passages", labels=labels, passages=passages)
    b = Coding("B", "b.jsonl", "passages", labels=dict(labels), passages=passages)
    report = build_report(a, b, CB, n_resamples=20)
    d = report.to_dict()
    assert d["agreement"]["per_code"]["tacite"]["kappa"] is None  # nobody used it
    assert d["agreement"]["per_code"]["proximite"]["kappa"] == 1.0
    assert any("tacite: neither coding uses it" in n for n in d["notes"])
    assert json.loads(json.dumps(d, allow_nan=False))
    assert "—" in render_report(d)


def test_read_coding_tells_spans_from_passages(study):
    assert read_coding(study.gold_path, CB).kind == "spans"
    pred = read_coding(study.pred_path, CB)
    assert pred.kind == "passages" and pred.name == "tiny" and len(pred.scores) == 32


# --- two models against the same gold: the paired difference ----------------------------------------

def test_paired_difference_of_two_models_on_the_same_resamples():
    from pipeline.core.agreement import cluster_bootstrap, summary_scores
    from pipeline.audit.report import paired_difference

    rng = np.random.default_rng(1)
    gold = (rng.random((60, 3)) < 0.4).astype(int)
    worse = np.where(rng.random(gold.shape) < 0.25, 1 - gold, gold)
    better = np.where(rng.random(gold.shape) < 0.05, 1 - gold, gold)
    groups = [f"E{k // 10}" for k in range(60)]
    d = paired_difference(gold, better, worse, ["a", "b", "c"], groups, n_resamples=300, seed=4)
    f1 = d["macro_f1"]
    expected = (summary_scores(gold, better, ["a", "b", "c"])["macro_f1"]
                - summary_scores(gold, worse, ["a", "b", "c"])["macro_f1"])
    assert f1["difference"] == pytest.approx(expected)
    assert 0 < f1["ci"][0] < f1["difference"] < f1["ci"][1] and f1["share_b_ahead"] == 1.0
    # paired: the interval is that of the per-resample differences, not of two separate bootstraps
    b = cluster_bootstrap(gold, better, groups, n_resamples=300, seed=4).overall["macro_f1"]
    w = cluster_bootstrap(gold, worse, groups, n_resamples=300, seed=4).overall["macro_f1"]
    assert f1["ci"] == pytest.approx(list(np.percentile(b - w, [2.5, 97.5])))
    same = paired_difference(gold, worse, worse.copy(), ["a", "b", "c"], groups, n_resamples=100)
    assert same["mean_kappa"]["difference"] == 0 and same["mean_kappa"]["ci"] == [0.0, 0.0]


def test_evaluate_compares_with_another_models_predictions(study, tmp_path):
    other = [dict(r, codes=[c for c in CODES if c not in r["codes"]][:1], model="other")
             for r in study.prediction_rows()]
    other_path = write_jsonl(tmp_path / "other.jsonl", other)
    out = tmp_path / "audit"
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", study.pred_path, "--out", out,
                 "--model", study.model_dir, "--bootstrap", 200, "--compare", other_path)
    assert res.exit_code == 0, res.output
    assert re.search(r"tiny minus other, same passages \(paired bootstrap\): macro-F1 \+\d\.\d{3} \[", res.stdout)
    m = strict_json(out / "metrics.json")
    st = m["comparison"]["statistics"]["macro_f1"]
    assert m["comparison"]["n_passages"] == 32 and st["difference"] == pytest.approx(st["b"] - st["c"])
    assert "paired bootstrap" in (out / "report.html").read_text(encoding="utf-8")


def test_a_comparison_that_misses_passages_is_refused(study, tmp_path):
    other_path = write_jsonl(tmp_path / "other.jsonl", study.prediction_rows()[:-3])
    res = invoke("evaluate", "--gold", study.gold_path, "--pred", study.pred_path, "--out", tmp_path / "a",
                 "--compare", other_path)
    assert res.exit_code != 0
    assert "3 of the 32 compared passages are not in" in res.output and "Traceback" not in res.output


def test_disagreements_csv_keeps_a_dialogue_dash_as_text(study, tmp_path):
    rows = study.prediction_rows()
    for r in rows:
        r["text"] = "- " + r["text"]
    pred = write_jsonl(tmp_path / "dash.jsonl", rows)
    out = tmp_path / "audit"
    assert invoke("evaluate", "--gold", study.gold_path, "--pred", pred, "--out", out).exit_code == 0
    with (out / "disagreements.csv").open(encoding="utf-8-sig", newline="") as fh:
        texts = [r["text"] for r in csv.DictReader(fh)]
    assert texts and all(t.startswith("'- ") for t in texts)


def test_disagreements_show_the_question_before_the_passage(study, tmp_path):
    rows = study.prediction_rows()
    for r in rows:
        r["question"] = f"Et sur {r['id']} ?"
    pred = write_jsonl(tmp_path / "q.jsonl", rows)
    out = tmp_path / "audit"
    assert invoke("evaluate", "--gold", study.gold_path, "--pred", pred, "--out", out).exit_code == 0
    with (out / "disagreements.csv").open(encoding="utf-8-sig", newline="") as fh:
        got = list(csv.DictReader(fh))
    assert got and all(r["question"] == f"Et sur {r['passage_id']} ?" for r in got)
    assert "Q: Et sur" in (out / "report.html").read_text(encoding="utf-8")
