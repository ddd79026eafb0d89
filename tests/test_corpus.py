"""The bundled corpus: it rebuilds exactly from its authoring files, its gold validates, it loads with
interview-level splits (as JSONL rows and as a Hugging Face DatasetDict), and it meets its numbers."""
import filecmp
import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.corpus.dataset import CORPUS, build_corpus, corpus_stats, load_corpus, locate, to_dataset_dict
from pipeline.core.spans import Span

runner = CliRunner()


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_the_corpus_rebuilds_byte_for_byte_from_its_authoring_files(tmp_path):
    counts = build_corpus(CORPUS / "authoring", tmp_path)
    assert counts["transcripts"] == len(list((CORPUS / "authoring").glob("*.interview"))) == 60
    names = sorted(p.name for p in (CORPUS / "transcripts").iterdir())
    assert sorted(p.name for p in (tmp_path / "transcripts").iterdir()) == names
    _, mismatch, errors = filecmp.cmpfiles(CORPUS / "transcripts", tmp_path / "transcripts", names, shallow=False)
    assert not mismatch and not errors
    for f in ("gold/coder1.jsonl", "gold/coder2.jsonl", "cases.csv"):
        assert (tmp_path / f).read_bytes() == (CORPUS / f).read_bytes(), f


def test_the_corpus_meets_its_numbers(corpus):
    s = corpus_stats(corpus)
    assert s["transcripts"] >= 30
    assert s["interviewee_words"] >= 60_000
    assert s["coded_passages"] >= 1_500 and s["uncoded_passages"] >= 300
    assert min(s["positives_per_code"].values()) >= 80
    assert s["shared_8gram_share"] < 0.01
    assert set(s["formats"]) >= {"txt", "md", "docx", "odt", "vtt"}
    assert len(s["double_coded_interviews"]) >= 6


def test_splits_are_by_interview_with_both_actor_types(corpus):
    for split in ("train", "dev", "test"):
        docs = {p.doc_id for p in corpus.passages_of(split)}
        assert {corpus.cases[d]["actor_type"] for d in docs} == {"PME", "institution"}, split
        assert len({corpus.cases[d]["market"] for d in docs}) >= 3, split
    assert set(corpus.splits) == set(corpus.transcripts)


def test_loads_as_a_datasetdict_with_declared_features(corpus):
    dd = to_dataset_dict(corpus)
    assert set(dd) == {"train", "dev", "test"}
    feats = dd["train"].features
    assert feats["codes"].feature.names == corpus.codebook.codes
    assert feats["labels"].length == len(corpus.codebook.codes)
    row = dd["test"][0]
    assert row["text"] == corpus.transcripts[row["doc_id"]].text[row["start"]:row["end"]]
    assert sum(row["labels"]) == len(row["codes"])
    assert any(r["question"] for r in dd["test"])  # the interviewer's question before each passage


def test_corpus_stats_and_export_from_the_command_line(tmp_path):
    result = runner.invoke(app, ["corpus-stats", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["transcripts"] == 60
    out = tmp_path / "corpus.jsonl"
    assert runner.invoke(app, ["corpus-export", "--out", str(out)]).exit_code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["split"] for r in rows} == {"train", "dev", "test"}


def test_locate_tolerates_whitespace_but_not_other_text():
    text = "on  travaille\navec les voisins"
    assert locate(text, "on travaille avec") == Span(0, 18)
    assert locate(text, "on travaille sans") is None
