"""Tables a researcher opens in a spreadsheet or feeds to the next command: CSV cells that look like
formulas stay text, and a format that contradicts the file name is refused before anything is written."""
import csv
import json

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
