"""`codeur prepare` on a folder a researcher really has: good files among broken ones, real ESLO
transcripts, and outputs that are complete or absent, never half-written."""
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()
DATA = Path(__file__).parent / "data"


def folder_with_one_broken_file(tmp_path):
    src = tmp_path / "entretiens"
    src.mkdir()
    shutil.copy(DATA / "txt" / "entretien_colon.txt", src / "a.txt")
    shutil.copy(DATA / "eslo" / "ESLO1_MAG_290_C.trs", src / "b.trs")
    (src / "c.trs").write_text("<Trans><Episode><Section><Turn speaker='spk1'>", encoding="utf-8")
    (src / "d.txt").write_bytes(b"")
    (src / "notes.xlsx").write_bytes(b"PK\x03\x04")
    return src


def test_a_broken_file_is_reported_and_the_others_are_prepared(tmp_path):
    src = folder_with_one_broken_file(tmp_path)
    out = tmp_path / "work" / "passages.jsonl"
    result = runner.invoke(app, ["prepare", str(src), "--out", str(out), "--transcripts",
                                 str(tmp_path / "work" / "transcripts.jsonl"), "--parquet"])
    assert result.exit_code == 1, result.output
    assert "2 file(s) processed, 2 failed, 1 skipped" in result.output
    assert "c.trs" in result.output and "malformed" in result.output.lower()
    assert "d.txt" in result.output and "empty" in result.output.lower()
    assert "notes.xlsx" in result.output and "unsupported extension" in result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["doc_id"] for r in rows} == {"a", "b"}
    assert pq.read_table(out.with_suffix(".parquet")).num_rows == len(rows)
    texts = {json.loads(line)["doc_id"]: json.loads(line)["text"]
             for line in (tmp_path / "work" / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()}
    for r in rows:
        assert texts[r["doc_id"]][r["start"]:r["end"]] == r["text"]


def test_strict_stops_at_the_first_error_and_writes_nothing(tmp_path):
    src = folder_with_one_broken_file(tmp_path)
    out = tmp_path / "work" / "passages.jsonl"
    result = runner.invoke(app, ["prepare", str(src), "--out", str(out), "--strict"])
    assert result.exit_code == 2
    assert "error" in result.output and ("c.trs" in result.output or "d.txt" in result.output)
    assert not out.exists()


def test_nothing_readable_is_exit_code_2(tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    result = runner.invoke(app, ["prepare", str(bad), "--out", str(tmp_path / "p.jsonl")])
    assert result.exit_code == 2
    assert "x.txt" in result.output
    assert not (tmp_path / "p.jsonl").exists()


def test_a_missing_path_is_named(tmp_path):
    result = runner.invoke(app, ["prepare", str(tmp_path / "nope"), "--out", str(tmp_path / "p.jsonl")])
    assert result.exit_code == 2 and "no such file or folder" in result.output


def test_real_eslo_transcripts_give_interviewee_passages(tmp_path):
    out = tmp_path / "p.jsonl"
    result = runner.invoke(app, ["prepare", str(DATA / "eslo"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "README.md" in result.output  # the licence notice is skipped, and said so
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_doc = {}
    for r in rows:
        by_doc.setdefault(r["doc_id"], []).append(r)
        assert r["role"] == "interviewee"
        assert 1 <= r["n_words"] <= 200
    assert set(by_doc) == {"ESLO1_INTPERS_406_C", "ESLO1_MAG_290_C"}
    assert len(by_doc["ESLO1_INTPERS_406_C"]) > 50


def test_ingest_then_segment_equals_prepare(tmp_path):
    tr = tmp_path / "t.jsonl"
    assert runner.invoke(app, ["ingest", str(DATA / "txt"), "--out", str(tr)]).exit_code in (0, 1)
    seg = tmp_path / "s.jsonl"
    assert runner.invoke(app, ["segment", str(tr), "--out", str(seg)]).exit_code == 0
    prep = tmp_path / "p.jsonl"
    assert runner.invoke(app, ["prepare", str(DATA / "txt"), "--out", str(prep)]).exit_code in (0, 1)
    assert seg.read_text(encoding="utf-8") == prep.read_text(encoding="utf-8")


def test_segment_refuses_a_damaged_transcripts_file_naming_the_line(tmp_path):
    tr = tmp_path / "t.jsonl"
    assert runner.invoke(app, ["ingest", str(DATA / "txt" / "entretien_colon.txt"), "--out", str(tr)]).exit_code == 0
    tr.write_text(tr.read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")
    result = runner.invoke(app, ["segment", str(tr), "--out", str(tmp_path / "s.jsonl")])
    assert result.exit_code == 2 and "line 2" in result.output
    assert not (tmp_path / "s.jsonl").exists()


def test_an_interview_left_as_pdf_in_a_folder_makes_the_exit_code_say_so(tmp_path):
    src = tmp_path / "entretiens"
    src.mkdir()
    shutil.copy(DATA / "txt" / "entretien_colon.txt", src / "a.txt")
    (src / "b.pdf").write_bytes(b"%PDF-1.4")
    result = runner.invoke(app, ["prepare", str(src), "--out", str(tmp_path / "p.jsonl")])
    assert result.exit_code == 1
    assert "b.pdf" in result.output and "unsupported extension .pdf" in result.output
    assert (tmp_path / "p.jsonl").exists()


def test_an_output_path_that_is_a_folder_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["prepare", str(DATA / "txt" / "entretien_colon.txt"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "the output path is a folder" in result.output
