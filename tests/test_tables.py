"""Tables a researcher opens in a spreadsheet or feeds to the next command: CSV cells that look like
formulas stay text, and a format that contradicts the file name is refused before anything is written."""
import csv
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.tables import read_table
from pipeline.core.errors import DataError
from pipeline.core.tables import from_spreadsheet_text, output_format, spreadsheet_text, write_rows


@given(st.text())
def test_spreadsheet_escaping_is_undone_exactly(s):
    assert from_spreadsheet_text(spreadsheet_text(s)) == s


@pytest.mark.parametrize("text", ["- Oui, bien sûr.", "=HYPERLINK(\"x\")", "+33 6 12", "@moi", "\tbonjour", "-inf"])
def test_a_cell_that_looks_like_a_formula_is_written_as_text(text):
    assert spreadsheet_text(text) == "'" + text


@pytest.mark.parametrize("value", ["Oui.", "-12", "-0.5", 3, None, "'déjà cité'"])
def test_numbers_and_ordinary_text_are_left_alone(value):
    assert spreadsheet_text(value) == value


def test_csv_output_escapes_dialogue_dashes_and_reads_back_exactly(tmp_path):
    rows = [{"id": "E01:0-20", "doc_id": "E01", "start": 0, "end": 20, "text": "- Oui, on se connaît.",
             "codes": ["confiance"], "scores": {"confiance": 0.8}},
            {"id": "E01:30-40", "doc_id": "E01", "start": 30, "end": 40, "text": "=1+1", "codes": [], "scores": {}}]
    path = tmp_path / "pred.csv"
    write_rows(path, rows)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        cells = list(csv.DictReader(fh))
    assert cells[0]["text"] == "'- Oui, on se connaît." and cells[1]["text"] == "'=1+1"
    back, problems = read_table(path, required=("id",))
    assert not problems and [r["text"] for r in back] == [r["text"] for r in rows]
    assert back[0]["codes"] == ["confiance"] and back[0]["start"] == 0


def test_a_format_that_contradicts_the_file_name_is_refused(tmp_path):
    with pytest.raises(DataError, match="--format parquet but the file name ends in .jsonl"):
        output_format(tmp_path / "x.jsonl", "parquet")
    assert output_format(tmp_path / "x.out", "parquet") == "parquet"
    assert output_format(tmp_path / "x.csv") == "csv" and output_format(tmp_path / "x") == "jsonl"
    with pytest.raises(DataError):
        write_rows(tmp_path / "x.csv", [{"id": "1"}], fmt="jsonl")
    assert not (tmp_path / "x.csv").exists()


def test_classify_refuses_a_contradictory_format_before_loading_anything(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    res = CliRunner().invoke(app, ["classify", str(tmp_path / "none.jsonl"), "--model", str(tmp_path / "no-model"),
                                   "--out", str(tmp_path / "p.jsonl"), "--format", "parquet"])
    assert res.exit_code != 0 and "--format parquet but the file name ends in .jsonl" in res.output


# --- predictions: one type, one reader ---------------------------------------------------------------

def classified_row(**extra):
    """A row as `codeur classify` writes it: the passage's fields, then codes, scores and model."""
    return {"id": "E01:0-20", "doc_id": "E01", "speaker": "Ana", "role": "interviewee", "start": 0, "end": 20,
            "text": "- Oui, on se connaît.", "clean_text": "Oui, on se connaît.", "n_words": 4, "turns": [1],
            "question": "Vous vous connaissez ?", "codes": ["confiance"],
            "scores": {"confiance": 0.8, "tacite": 0.1}, "model": "default", **extra}


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_predictions_read_back_as_written_in_every_format(tmp_path, suffix):
    from pipeline.core.tables import read_predictions

    rows = [classified_row(), classified_row(id="E01:30-40", start=30, end=40, text="=1+1", codes=[],
                                             clean_text="=1+1", scores={"confiance": 0.2, "tacite": 0.3})]
    path = tmp_path / f"pred{suffix}"
    write_rows(path, rows)
    back, problems = read_predictions(path)
    assert not problems
    assert [p.to_row() for p in back] == rows and [list(p.to_row()) for p in back] == [list(r) for r in rows]
    assert back[0].labels == {"confiance"} and back[0].extra["speaker"] == "Ana" and back[1].codes == []


def test_a_prediction_made_in_code_has_the_fields_in_classify_order():
    from pipeline.core.prediction import PREDICTION_FIELDS, Prediction

    p = Prediction("E01:0-5", doc_id="E01", start=0, end=5, text="Allô.", codes=["x"], scores={"x": 0.9},
                   extra={"speaker": "Ana"})
    assert list(p.to_row()) == [k for k in PREDICTION_FIELDS if getattr(p, k) is not None] + ["speaker"]
    assert Prediction.from_row(p.to_row()) == p


@pytest.mark.parametrize("cell, codes", [('["a", "b"]', ["a", "b"]), ("a;b", ["a", "b"]), ("a; b;", ["a", "b"]),
                                         ("", None)])
def test_codes_in_a_csv_cell_may_be_a_json_list_or_separated_by_semicolons(tmp_path, cell, codes):
    from pipeline.core.tables import read_predictions

    path = tmp_path / "coded.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["id", "doc_id", "start", "end", "text", "codes"], ["E01:0-3", "E01", 0, 3, "Oui", cell]])
    back, problems = read_predictions(path)
    assert not problems and back[0].codes == codes


@pytest.mark.parametrize("change, reason", [
    ({"codes": [1, 2]}, "'codes' must be a list of code names"),
    ({"codes": {"a": 1}}, "'codes' must be a list of code names"),
    ({"scores": {"confiance": 1.5}}, "'scores' must map code names to probabilities in [0, 1]"),
    ({"scores": {"confiance": True}}, "'scores' must map code names to probabilities in [0, 1]"),
    ({"scores": [0.5]}, "'scores' must map code names to probabilities in [0, 1]"),
    ({"start": 30, "end": 20}, "impossible offsets"),
    ({"question": 3}, "'question' must be a string"),
])
def test_a_row_that_is_no_prediction_is_skipped_and_said(tmp_path, change, reason):
    from pipeline.core.prediction import Prediction
    from pipeline.core.tables import read_predictions

    with pytest.raises(ValueError, match=re.escape(reason)):
        Prediction.from_row(classified_row(**change))
    path = tmp_path / "pred.jsonl"
    path.write_text(json.dumps(classified_row(**change)) + "\n" + json.dumps(classified_row(id="ok")) + "\n",
                    encoding="utf-8")
    back, problems = read_predictions(path)
    assert [p.id for p in back] == ["ok"] and len(problems) == 1 and reason in problems[0]
