"""A researcher asks which passages to code next (`codeur suggest`): they get the passages whose
scores sit closest to a decision threshold, with the code concerned, from predictions as they are
or from plain passages scored by the model."""
import csv
import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.classify.backends.baseline import TfidfLogReg
from pipeline.cli import app
from pipeline.core.codebook import load_codebook
from pipeline.classify.model import save_model
from pipeline.audit.suggest import suggest, uncertainty_margins
from pipeline.core.prediction import Prediction

CB = load_codebook()
CODES = CB.codes
runner = CliRunner()


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def card(name="tiny", thresholds=None):
    return {"name": name, "backend": "baseline", "labels": CODES, "codebook_hash": CB.content_hash(),
            "codebook_name": CB.name, "thresholds": thresholds or {c: 0.5 for c in CODES}, "params": {}}


def card_only_model(tmp_path, thresholds=None):
    """A model directory whose backend cannot be loaded: proof that the model is not run."""
    d = tmp_path / "model"
    d.mkdir()
    (d / "codebook.yaml").write_text(yaml.safe_dump(CB.model_dump(mode="json"), allow_unicode=True), encoding="utf-8")
    (d / "model-card.json").write_text(json.dumps(card(thresholds=thresholds)), encoding="utf-8")
    return d


def test_the_margin_is_the_distance_to_the_nearest_threshold():
    scores = np.array([[0.9, 0.10, 0.45],
                       [0.5, 0.52, 0.00]])
    thresholds = np.array([0.5, 0.3, 0.4])
    margin, which = uncertainty_margins(scores, thresholds)
    # passage 1: |0.9−0.5| = 0.4, |0.1−0.3| = 0.2, |0.45−0.4| = 0.05 → 0.05 on the third code
    # passage 2: |0.5−0.5| = 0 on the first code (a passage exactly on a threshold is the least sure)
    assert margin == pytest.approx([0.05, 0.0])
    assert which.tolist() == [2, 0]


def test_suggest_ranks_passages_by_margin_and_names_the_code():
    rows = [Prediction("E01:0-10", text="a", scores={"x": 0.9, "y": 0.2}),
            Prediction("E01:10-20", text="b", scores={"x": 0.55, "y": 0.1}),
            Prediction("E02:0-10", text="c", scores={"x": 0.1, "y": 0.31})]
    got = suggest(rows, ["x", "y"], [0.5, 0.3], n=2)
    # margins: 0.4 (y: |0.2−0.3| = 0.1 is smaller → 0.1), 0.05 (x), 0.01 (y)
    assert [(s.id, s.code, s.margin) for s in got] == [("E02:0-10", "y", 0.01), ("E01:10-20", "x", 0.05)]
    assert got[0].rank == 1 and got[0].predicted_codes == ["y"]


def far_from_half(rng):
    """Scores in [0, 0.4] or [0.6, 1]: decisions the model is fairly sure of."""
    return np.where(rng.random(len(CODES)) < 0.5, rng.uniform(0, 0.4, len(CODES)), rng.uniform(0.6, 1, len(CODES)))


def test_suggest_from_predictions_uses_their_scores_without_running_the_model(tmp_path):
    rng = np.random.default_rng(0)
    pool = [{"id": f"E05:{k * 100}-{k * 100 + 80}", "doc_id": "E05", "start": k * 100, "end": k * 100 + 80,
             "text": f"passage {k}", "codes": [], "model": "tiny",
             "scores": {c: round(float(s), 4) for c, s in zip(CODES, far_from_half(rng))}} for k in range(40)]
    pool[17]["scores"]["tacite"] = 0.501  # the least sure decision of all
    pool_path = write_jsonl(tmp_path / "predictions.jsonl", pool)
    out = tmp_path / "next.jsonl"
    res = runner.invoke(app, ["suggest", "--model", str(card_only_model(tmp_path)), "--pool", str(pool_path),
                              "--n", "10", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "wrote 10 passage(s) to code next" in res.stdout and "scores from the pool" in res.stdout
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(got) == 10
    assert got[0]["id"] == "E05:1700-1780" and got[0]["code"] == "tacite" and got[0]["margin"] == pytest.approx(0.001)
    assert [g["margin"] for g in got] == sorted(g["margin"] for g in got)
    assert {"doc_id", "start", "end", "text", "score", "threshold", "rank"} <= set(got[0])


def test_suggest_scores_plain_passages_with_the_model_and_writes_csv(tmp_path):
    words = {"proximite": "voisin vallée local", "exterieur": "allemand export étranger",
             "concurrents": "concurrent rival appel", "confiance": "confiance copain ami",
             "mefiance": "méfiance copier peur", "tacite": "savoir-faire geste oreille",
             "explicite": "brevet procédure écrit", "procede": "machine procédé atelier",
             "produit": "produit gamme nouveau"}
    texts, labels = [], []
    for j, code in enumerate(CODES):
        for k in range(3):
            texts.append(f"on parle de {words[code]} encore {k}")
            labels.append([int(i == j) for i in range(len(CODES))])
    backend = TfidfLogReg(CODES, min_df=1).fit(texts, np.array(labels), [], np.zeros((0, len(CODES))))
    model_dir = save_model(tmp_path / "model", backend, CB, {**card(), "params": backend.params})
    passages = [{"id": f"E09:{k}-{k + 1}", "doc_id": "E09", "start": k, "end": k + 1, "text": t,
                 "clean_text": t} for k, t in enumerate(["le voisin de la vallée", "un brevet allemand",
                                                         "la machine", "rien à voir", "une gamme"])]
    pool = write_jsonl(tmp_path / "passages.jsonl", passages)
    out = tmp_path / "next.csv"
    res = runner.invoke(app, ["suggest", "--model", str(model_dir), "--pool", str(pool), "--n", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "scored 5 with tiny" in res.stdout
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 and all(r["code"] in CODES for r in rows)
    assert [float(r["margin"]) for r in rows] == sorted(float(r["margin"]) for r in rows)


def test_rows_with_neither_text_nor_scores_are_skipped_and_said(tmp_path):
    pool = write_jsonl(tmp_path / "pool.jsonl", [
        {"id": "a", "scores": {c: 0.2 for c in CODES}},
        {"id": "b"},
    ])
    res = runner.invoke(app, ["suggest", "--model", str(card_only_model(tmp_path)), "--pool", str(pool),
                              "--out", str(tmp_path / "n.jsonl")])
    assert res.exit_code == 1, res.output
    assert "passage 'b': no 'text' to score" in res.stderr
    assert "wrote 1 passage(s)" in res.stdout


def test_an_empty_pool_or_a_zero_n_is_refused(tmp_path):
    model = card_only_model(tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    res = runner.invoke(app, ["suggest", "--model", str(model), "--pool", str(empty),
                              "--out", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2 and "no passage in the pool" in res.stderr
    res = runner.invoke(app, ["suggest", "--model", str(model), "--pool", str(empty), "--n", "0"])
    assert res.exit_code == 2 and "at least one passage" in res.stderr


def test_a_missing_model_is_one_line(tmp_path):
    res = runner.invoke(app, ["suggest", "--model", str(tmp_path / "nope"), "--pool", str(tmp_path / "p.jsonl")])
    assert res.exit_code == 2 and "[E040]" in res.stderr and "model directory not found" in res.stderr



def test_suggest_can_leave_out_interviews_already_coded(tmp_path):
    """The least sure passage is in an interview the gold already covers: --exclude-gold skips it."""
    scores = {c: 0.9 for c in CODES}
    pool = [{"id": "E01:0-5", "doc_id": "E01", "text": "a", "scores": {**scores, "tacite": 0.5}},
            {"id": "E02:0-5", "doc_id": "E02", "text": "b", "scores": {**scores, "tacite": 0.55}},
            {"id": "E03:0-5", "doc_id": "E03", "text": "c", "scores": scores}]
    pool_path = write_jsonl(tmp_path / "pool.jsonl", pool)
    gold = write_jsonl(tmp_path / "gold.jsonl", [{"doc": "E01", "start": 0, "end": 5, "codes": ["tacite"],
                                                  "coder": "coder1"}])
    out = tmp_path / "next.jsonl"
    args = ["suggest", "--model", str(card_only_model(tmp_path)), "--pool", str(pool_path), "--n", "1",
            "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["id"] == "E01:0-5"
    result = runner.invoke(app, args + ["--exclude-gold", str(gold)])
    assert result.exit_code == 0, result.output
    assert "left out 1 passage(s) of 1 interview(s) already coded" in result.output
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["id"] == "E02:0-5"


def test_suggestions_can_be_spread_over_interviews(tmp_path):
    # interview A holds the five least sure passages, B and C the next ones
    rows = []
    for doc, base in (("A", 0.50), ("B", 0.45), ("C", 0.40)):
        for k in range(5):
            s = {c: 0.05 for c in CODES}
            s["tacite"] = base - k * 0.001
            rows.append({"id": f"{doc}:{k * 10}-{k * 10 + 5}", "scores": s})
    th = [0.5] * len(CODES)
    predictions = [Prediction.from_row(r) for r in rows]
    plain = suggest(predictions, CODES, th, n=6)
    assert [p.id.split(":")[0] for p in plain] == ["A"] * 5 + ["B"]
    spread = suggest(predictions, CODES, th, n=6, per_interview=2)
    assert [p.id.split(":")[0] for p in spread] == ["A", "A", "B", "B", "C", "C"]
    assert [p.margin for p in spread] == sorted(p.margin for p in spread)
    assert len(suggest(predictions, CODES, th, n=10, per_interview=1)) == 3  # fewer than n when the cap binds
    pool_path = write_jsonl(tmp_path / "pool.jsonl", rows)
    out = tmp_path / "next.jsonl"
    res = runner.invoke(app, ["suggest", "--model", str(card_only_model(tmp_path)), "--pool", str(pool_path),
                              "--n", "4", "--per-interview", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert [json.loads(x)["id"][0] for x in out.read_text(encoding="utf-8").splitlines()] == ["A", "B", "C"]
    bad = runner.invoke(app, ["suggest", "--model", str(tmp_path / "model"), "--pool", str(pool_path),
                              "--per-interview", "0"])
    assert bad.exit_code != 0 and "--per-interview 0" in bad.output
