"""The real part of the corpus (corpus/real): twenty ESLO1 interviews coded twice independently and
adjudicated. A researcher checks that the gold spans point at the right words of the transcripts,
that the splits hold whole interviews, and that broken input gets a one-line error."""
import json
import shutil

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.codebook import load_codebook
from pipeline.corpus.dataset import REAL, build_real_gold, load_corpus, load_splits
from pipeline.core.errors import GoldError

runner = CliRunner()


@pytest.fixture(scope="module")
def real():
    return load_corpus(REAL)


def test_every_gold_span_is_the_text_at_its_offsets(real):
    spans = [json.loads(line) for f in sorted((REAL / "gold").glob("*.jsonl"))
             for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert {s["coder"] for s in spans} == {"coderA", "coderB", "gold"}
    codes = set(load_codebook().codes)
    for s in spans:
        assert real.transcripts[s["doc"]].text[s["start"]:s["end"]] == s["text"]
        assert s["codes"] and set(s["codes"]) <= codes
    # every span is one interviewee passage: the unit the coders coded
    starts = {(p.doc_id, p.span.start, p.span.end) for p in real.passages}
    assert all((s["doc"], s["start"], s["end"]) in starts for s in spans)


def test_the_adjudicated_gold_labels_every_passage_of_every_interview(real):
    assert set(real.labels["gold"]) == {p.id for p in real.passages}
    coded = sum(1 for v in real.labels["gold"].values() if v)
    assert 0 < coded < 0.2 * len(real.passages)  # real talk strays: most passages carry no code


def test_splits_hold_whole_interviews_of_both_kinds(real):
    splits = load_splits(REAL / "splits.yaml")
    assert set(splits) == set(real.transcripts) and len(splits) == 20
    for name in ("train", "dev", "test"):
        docs = [d for d, s in splits.items() if s == name]
        assert any("INTPERS" in d for d in docs) and any("_ENT_" in d for d in docs)
    test = real.passages_of("test")
    lab = real.labels["gold"]
    assert all(any(c in lab[p.id] for p in test) for c in real.codebook.codes), "every code occurs in test"


def test_rebuilding_the_gold_from_the_codings_gives_the_same_files(tmp_path):
    copy = tmp_path / "real"
    shutil.copytree(REAL, copy)
    for f in (copy / "gold").glob("*.jsonl"):
        f.unlink()
    counts = build_real_gold(copy)
    assert counts["interviews"] == 20
    for f in sorted((REAL / "gold").glob("*.jsonl")):
        assert (copy / "gold" / f.name).read_bytes() == f.read_bytes(), f.name


def test_an_unadjudicated_disagreement_is_named(tmp_path):
    copy = tmp_path / "real"
    shutil.copytree(REAL, copy)
    adj = sorted((copy / "coding" / "adjudication").glob("*.jsonl"))[0]
    lines = adj.read_text(encoding="utf-8").splitlines()
    adj.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    pid = json.loads(lines[0])["p"]
    with pytest.raises(GoldError, match=f"not adjudicated, e.g. {adj.stem} {pid}"):
        build_real_gold(copy)


@pytest.fixture
def real_copy(tmp_path):
    copy = tmp_path / "real"
    shutil.copytree(REAL, copy, ignore=shutil.ignore_patterns("coding"))
    return copy


def test_a_gold_span_off_the_text_is_a_one_line_error(real_copy):
    gold = real_copy / "gold" / "gold.jsonl"
    rows = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines()]
    rows[0]["end"] = 10_000_000
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["corpus-stats", "--corpus", str(real_copy)])
    assert result.exit_code == 2
    assert "offsets out of range" in result.output and "gold" in result.output
    assert "Traceback" not in result.output


def test_an_unreadable_real_transcript_is_a_one_line_error(real_copy):
    victim = sorted((real_copy / "transcripts").glob("*.trs"))[0]
    victim.write_bytes(b"<?xml version='1.0'?><Trans><Episode><Section>")  # cut off
    result = runner.invoke(app, ["corpus-stats", "--corpus", str(real_copy)])
    assert result.exit_code == 2
    assert victim.name in result.output and "Traceback" not in result.output


def test_corpus_stats_counts_the_real_part_with_its_own_coder(real):
    result = runner.invoke(app, ["corpus-stats", "--corpus", str(REAL), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["transcripts"] == 20 and stats["passages"] == len(real.passages)
    assert stats["formats"] == {"trs": 20}
