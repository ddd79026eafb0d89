"""Error codes differ by cause (pipeline/core/errors.py) and the README lists each of them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.core import errors
from pipeline.core.csvfile import read_cases, read_csv

README = Path(__file__).resolve().parent.parent / "README.md"


def error_classes():
    return [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.CodeurError)
            and c is not errors.CodeurError]


def test_each_cause_has_its_own_code_and_the_readme_lists_it():
    codes = [c.code for c in error_classes()]
    assert len(codes) == len(set(codes)), codes
    readme = README.read_text(encoding="utf-8")
    table = readme[readme.index("**Error codes.**"):readme.index("**Reliability, measured.**")]
    assert all(f"| {code} |" in table for code in codes), [c for c in codes if f"| {c} |" not in table]


def test_the_data_errors_are_kinds_of_data_error():
    kinds = [c for c in error_classes() if c.code.startswith("E05") and c is not errors.DataError]
    assert len(kinds) >= 5 and all(issubclass(c, errors.DataError) for c in kinds)
    e = errors.TableError("line 3: not valid CSV", path="cases.csv")
    assert str(e) == "[E051] cases.csv: line 3: not valid CSV"


def test_a_malformed_table_and_a_bad_case_table_say_which(tmp_path):
    bad = tmp_path / "t.csv"
    bad.write_text('a,b\n"1,2\n', encoding="utf-8")
    with pytest.raises(errors.TableError, match=r"\[E051\].*line 2: a quote opened on this line is never closed"):
        read_csv(bad)
    cases = tmp_path / "cases.csv"
    cases.write_text("doc_id,market\nE01,local\nE01,export\n", encoding="utf-8")
    with pytest.raises(errors.CaseTableError, match=r"\[E053\].*line 3: doc_id 'E01' appears twice"):
        read_cases(cases)
    with pytest.raises(errors.DataError):  # what callers catch still catches it
        read_cases(cases)


# --- end to end: distinct causes print distinct codes ------------------------------------------------

def _jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _codeur(*args):
    from typer.testing import CliRunner

    from pipeline.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def _predictions(tmp_path: Path, docs=("E1", "E2")) -> Path:
    from pipeline.core.codebook import load_codebook

    code = load_codebook().codes[0]
    rows = []
    for doc in docs:
        offset = 0
        for k in range(3):
            text = f"Passage {k} de {doc}, on parle machines."
            rows.append({"id": f"{doc}:{offset}-{offset + len(text)}", "doc_id": doc, "start": offset,
                         "end": offset + len(text), "text": text, "codes": [code] if k == 0 else [],
                         "scores": {code: 0.9 if k == 0 else 0.1}})
            offset += len(text) + 2
    return _jsonl(tmp_path / "pred.jsonl", rows)


def test_evaluate_with_gold_that_does_not_fit_the_predictions_says_E052(tmp_path):
    from pipeline.core.codebook import load_codebook

    code = load_codebook().codes[0]
    pred = _predictions(tmp_path)
    gold = _jsonl(tmp_path / "gold.jsonl", [{"doc": "X9", "start": 0, "end": 10, "codes": [code],
                                              "coder": "coder1", "text": "autre chose"[:10]}])
    res = _codeur("evaluate", "--gold", gold, "--pred", pred, "--out", tmp_path / "audit", "--bootstrap", 0)
    assert res.exit_code == 2, res.output
    assert "[E052]" in res.output and "[E050]" not in res.output


def test_headline_of_a_file_that_is_no_metrics_json_says_E054(tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text("{not json", encoding="utf-8")
    res = _codeur("headline", bad)
    assert res.exit_code == 2 and "[E054]" in res.output, res.output
    bad.write_text(json.dumps({"agreement": {"per_code": "oops"}}), encoding="utf-8")
    res = _codeur("headline", bad)
    assert res.exit_code == 2 and "[E054]" in res.output, res.output
    assert "[E054]" in _codeur("headline", tmp_path / "absent.json").output


def test_matrix_with_a_broken_cases_csv_says_E053_and_a_bad_option_E057(tmp_path):
    pred = _predictions(tmp_path)
    cases = tmp_path / "cases.csv"
    cases.write_text("doc_id,market\nE1,local\nE1,export\n", encoding="utf-8")
    res = _codeur("matrix", "--pred", pred, "--cases", cases, "--by", "market", "--out", tmp_path / "m")
    assert res.exit_code == 2 and "[E053]" in res.output, res.output
    cases.write_text("doc_id,market\nE1,local\nE2,export\n", encoding="utf-8")
    res = _codeur("matrix", "--pred", pred, "--cases", cases, "--by", "taille", "--out", tmp_path / "m")
    assert res.exit_code == 2 and "[E053]" in res.output and "taille" in res.output, res.output
    res = _codeur("matrix", "--pred", pred, "--cases", cases, "--by", "market", "--measure", "tout",
                  "--out", tmp_path / "m")
    assert res.exit_code == 2 and "[E057]" in res.output, res.output


def test_classify_of_a_table_whose_every_line_is_bad(tmp_path, tiny_model_dir):
    src = tmp_path / "passages.jsonl"
    src.write_text("pas du json\n[1, 2]\n", encoding="utf-8")
    res = _codeur("classify", src, "--model", tiny_model_dir, "--out", tmp_path / "pred.jsonl")
    assert res.exit_code == 2, res.output
    assert "[E056]" in res.output, res.output
    res = _codeur("classify", src, "--model", tiny_model_dir, "--out", tmp_path / "pred2.jsonl", "--strict")
    assert res.exit_code == 2 and "[E051]" in res.output, res.output
