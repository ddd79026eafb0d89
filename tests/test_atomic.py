"""No output file is ever left half-written: a crash while writing leaves the previous file intact."""
import os

import pytest

from pipeline.core.atomic import atomic_open, write_jsonl


def test_a_crash_while_writing_keeps_the_previous_file(tmp_path):
    out = tmp_path / "passages.jsonl"
    write_jsonl(out, [{"id": "a"}])

    def rows():
        yield {"id": "b"}
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_jsonl(out, rows())
    assert out.read_text(encoding="utf-8") == '{"id": "a"}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["passages.jsonl"]  # no temporary file left behind


def test_outputs_get_ordinary_permissions(tmp_path):
    out = tmp_path / "report.html"
    with atomic_open(out) as fh:
        fh.write("<html></html>")
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask
