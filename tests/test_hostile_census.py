"""The census of hostile inputs (scripts/hostile_census.py, issue 10): every kind of bad input, fault
and hostile file it builds gets a clear error or warning, never a traceback nor a silent wrong result,
and the good inputs of a batch still come out."""
from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "hostile_census.py"


def load_census():
    spec = importlib.util.spec_from_file_location("hostile_census", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_hostile_input_census_finds_no_traceback_no_silent_result_and_no_lost_input():
    totals = load_census().main()

    failed = [f"{r['kind']}: {r['outcome']}{' + lost good input' if r['lost'] else ''}: {r['detail']}"
              for r in totals["records"] if r["outcome"] in ("traceback", "silent", "census error") or r["lost"]]
    assert totals["kinds tried"] >= 48
    assert totals["tracebacks"] == 0, failed
    assert totals["silent results"] == 0, failed
    assert totals["lost good inputs"] == 0, failed
    assert totals["census errors"] == 0, failed
