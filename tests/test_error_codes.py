"""Error codes differ by cause (pipeline/core/errors.py) and the README lists each of them."""
from __future__ import annotations

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
