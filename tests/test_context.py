"""A model can read what a human coder reads around a passage: the interviewer's question before it
and the passage before. The question travels with each passage, and the same passage gets the same
scores whether a researcher classifies the transcript or the passages table `codeur prepare` wrote."""
import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from helpers import interview, words
from pipeline.classify.backends.baseline import TfidfLogReg
from pipeline.cli import app
from pipeline.passages.context import Context, contexts_for_rows, has_questions, question_before
from pipeline.core.errors import ConfigError
from pipeline.passages.segment import Segmenter
from pipeline.passages.segment_config import SegmentConfig, SplitConfig
from pipeline.classify.train import train
from pipeline.core.transcript import Passage


pytestmark = pytest.mark.slow  # trains several models (about 20 s of setup or more)

runner = CliRunner()


# --- which words are the question -------------------------------------------------------------

def test_question_is_the_interviewer_turn_just_before():
    roles = ["interviewer", "interviewee", "interviewer", "interviewee"]
    texts = ["Bonjour.", "Bonjour.", "Et vos voisins ?", "On se rend service."]
    assert question_before(roles, texts, 3) == "Et vos voisins ?"
    assert question_before(roles, texts, 1) == "Bonjour."
    assert question_before(roles, texts, 0) == ""


def test_question_joins_two_interviewer_turns_in_a_row_and_skips_other_speakers():
    roles = ["interviewer", "interviewer", "interviewer", "other", "interviewee"]
    texts = ["Premier.", "Hm hm.", "Et la confiance ?", "(un collègue entre)", "Ça dépend."]
    assert question_before(roles, texts, 4) == "Hm hm. Et la confiance ?"
    assert question_before(roles, texts, 4, max_turns=1) == "Et la confiance ?"


def test_a_monologue_has_no_question():
    assert question_before(["interviewee", "interviewee"], ["a", "b"], 1) == ""


def test_the_segmenter_records_the_question_on_each_passage():
    t = interview(("Q", "Et avec vos voisins, ça se passe comment ?"), ("R", words(30)),
                  ("Q", "Parlons d'autre chose."), ("Q", "Et les euh les concurrents ?"), ("Q", "Hm hm."),
                  ("R", words(30, 100)))
    ps = Segmenter(SegmentConfig(split=SplitConfig(sentence_model=None))).segment(t)
    # cleaned words; the « hm hm » left without a word is passed over
    assert [p.question for p in ps] == ["Et avec vos voisins, ça se passe comment ?",
                                        "Parlons d'autre chose. Et les concurrents ?"]
    again = Passage.from_dict(json.loads(json.dumps(ps[1].to_dict())))
    assert again.question == ps[1].question and again == ps[1]


def test_a_long_answer_cut_in_passages_keeps_its_question_on_every_part():
    t = interview(("Q", "Racontez-moi."), ("R", ". ".join(words(40, k * 40) for k in range(6)) + "."))
    ps = Segmenter(SegmentConfig(split=SplitConfig(sentence_model=None))).segment(t)
    assert len(ps) > 1 and {p.question for p in ps} == {"Racontez-moi."}


def test_question_parts_keeps_the_question_on_the_first_parts_only():
    t = interview(("Q", "Racontez-moi."), ("R", ". ".join(words(40, k * 40) for k in range(6)) + "."))
    ps = Segmenter(SegmentConfig(split=SplitConfig(sentence_model=None, question_parts=2))).segment(t)
    assert len(ps) > 2
    assert [p.question for p in ps] == ["Racontez-moi."] * 2 + [""] * (len(ps) - 2)


# --- contexts from a passages table ----------------------------------------------------------

def test_previous_passage_is_found_by_offsets_within_each_document():
    rows = [{"id": "b2", "doc_id": "B", "start": 50, "question": "q2", "text": "B second"},
            {"id": "a1", "doc_id": "A", "start": 0, "question": "qa", "text": "A first"},
            {"id": "b1", "doc_id": "B", "start": 10, "question": "q1", "text": "B first"},
            {"id": "a2", "doc_id": "A", "start": 40, "text": "A second"}]
    ctx = contexts_for_rows(rows, lambda r: r["text"])
    assert ctx == [Context("q2", "B first"), Context("qa", ""), Context("q1", ""), Context("", "A first")]


def test_rows_without_document_or_offsets_get_empty_contexts():
    rows = [{"id": "1", "text": "un"}, {"id": "2", "text": "deux", "doc_id": "A", "start": "12"}]
    assert contexts_for_rows(rows, lambda r: r["text"]) == [Context(), Context()]
    assert not has_questions(rows) and has_questions([{"question": ""}])


# --- the baseline reads the question, and falls back on the passage alone ---------------------

QUESTIONS = {"trust": "Vous leur faites confiance ?", "tech": "Et vos machines, elles sont récentes ?"}
ANSWERS = ["oui bien sûr", "ah ça oui", "non pas vraiment", "bof, ça dépend", "je dirais oui", "pas du tout"]


def question_only_data():
    """Same answers under two questions: only the question tells the code."""
    texts, ctx, y = [], [], []
    for topic, q in QUESTIONS.items():
        for a in ANSWERS * 3:
            texts.append(a)
            ctx.append(Context(q, ""))
            y.append([int(topic == "trust"), int(topic == "tech")])
    return texts, ctx, np.array(y)


def test_the_question_decides_when_the_answer_cannot():
    texts, ctx, y = question_only_data()
    m = TfidfLogReg(["confiance", "procede"], min_df=1).fit(texts, y, [], None, seed=0, contexts=ctx)
    p = m.predict_proba(["oui bien sûr"] * 2, contexts=[Context(QUESTIONS["trust"]), Context(QUESTIONS["tech"])])
    assert p[0, 0] > 0.7 > p[1, 0] and p[1, 1] > 0.7 > p[0, 1]


def test_a_passage_without_question_is_scored_by_the_passage_only_pipeline(tmp_path):
    texts, ctx, y = question_only_data()
    m = TfidfLogReg(["confiance", "procede"], min_df=1).fit(texts, y, [], None, seed=0, contexts=ctx)
    asked = ["oui bien sûr", "pas du tout", "ah ça oui"]
    mixed = [Context(QUESTIONS["trust"]), Context("", "la réponse d'avant"), Context()]
    p = m.predict_proba(asked, contexts=mixed)
    np.testing.assert_allclose(p[1:], m.plain_.predict_proba(asked[1:]), rtol=1e-6)
    np.testing.assert_allclose(m.predict_proba(asked), m.plain_.predict_proba(asked), rtol=1e-6)
    (tmp_path / "b").mkdir()
    m.save(tmp_path / "b")
    again = TfidfLogReg.load(tmp_path / "b", ["confiance", "procede"], m.params)
    np.testing.assert_allclose(again.predict_proba(asked, contexts=mixed), p, rtol=1e-6)


def test_a_model_trained_without_contexts_ignores_them():
    texts, ctx, y = question_only_data()
    m = TfidfLogReg(["confiance", "procede"], min_df=1).fit(texts, y, [], None, seed=0)
    assert not m.with_context and m.plain_ is None
    np.testing.assert_allclose(m.predict_proba(texts[:3], contexts=ctx[:3]), m.predict_proba(texts[:3]))


def test_a_backend_that_cannot_read_contexts_is_refused(tmp_path):
    cfg = tmp_path / "train.yaml"
    cfg.write_text(yaml.safe_dump({"backend": "spacy", "context": True}), encoding="utf-8")
    with pytest.raises(ConfigError, match="does not read contexts"):
        train(cfg, tmp_path / "m")


# --- end to end: train with contexts, classify transcripts and tables ------------------------

def test_the_card_says_the_model_reads_contexts_and_scores_it_without(context_model):
    card = json.loads((context_model / "model-card.json").read_text(encoding="utf-8"))
    assert card["context"] is True
    assert {"test", "test_without_context", "test_spoken_form"} <= set(card["scores"])
    md = (context_model / "model-card.md").read_text(encoding="utf-8")
    assert "reads the interviewer's question and the previous passage: yes" in md
    assert "On the test interviews without questions (a bare passages table): macro-F1" in md


def test_transcript_and_prepared_table_give_the_same_scores(small_corpus, context_model, tmp_path):
    src = next((small_corpus / "transcripts").glob("E03.*"))
    direct, table, via_table = tmp_path / "direct.jsonl", tmp_path / "passages.jsonl", tmp_path / "table.jsonl"
    assert runner.invoke(app, ["classify", str(src), "--model", str(context_model), "--out", str(direct)]).exit_code == 0
    assert runner.invoke(app, ["prepare", str(src), "--out", str(table)]).exit_code == 0
    rows = [json.loads(x) for x in table.read_text(encoding="utf-8").splitlines()]
    assert any(r["question"] for r in rows)
    rows.reverse()  # order in the table does not matter: previous passages are found by offsets
    table.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(app, ["classify", str(table), "--model", str(context_model), "--out", str(via_table)])
    assert result.exit_code == 0 and "question" not in result.output
    a = {r["id"]: r["scores"] for r in map(json.loads, direct.read_text(encoding="utf-8").splitlines())}
    b = {r["id"]: r["scores"] for r in map(json.loads, via_table.read_text(encoding="utf-8").splitlines())}
    assert a == b


def test_a_table_without_questions_is_coded_with_a_warning(context_model, tmp_path):
    table = tmp_path / "bare.jsonl"
    table.write_text(json.dumps({"id": "x1", "text": "On se fait confiance avec le voisin, depuis toujours."},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    result = runner.invoke(app, ["classify", str(table), "--model", str(context_model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "no 'question' field" in result.output and "macro-F1" in result.output
    assert json.loads(out.read_text(encoding="utf-8"))["scores"]


def test_a_parquet_passages_table_keeps_the_question(tmp_path):
    from pipeline.core.tables import read_rows, write_passages

    t = interview(("Q", "Et vos voisins ?"), ("R", words(30)))
    ps = Segmenter(SegmentConfig(split=SplitConfig(sentence_model=None))).segment(t)
    write_passages(tmp_path / "p.parquet", ps)
    rows = read_rows(tmp_path / "p.parquet").rows
    assert rows[0]["question"] == "Et vos voisins ?" and has_questions(rows)
