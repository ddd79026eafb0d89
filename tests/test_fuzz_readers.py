"""Fuzzing of every transcript reader and every table reader (Hypothesis).

Whatever the bytes, a reader either returns its result or raises a `CodeurError` (a one-line message
naming the file): never another exception, which would be a traceback for the user and, in a batch,
the loss of the good files beside the bad one. The inputs are mutations of real files of each format
(bytes flipped, cut, inserted; XML parts of office packages edited), plus arbitrary bytes.
"""
from __future__ import annotations

import io
import os
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.errors import CodeurError
from pipeline.passages.prepare import prepare
from pipeline.ingest.readers import load_speaker_config, read_transcript

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = {
    ".txt": ROOT / "corpus/transcripts/E01.txt",
    ".md": next(iter(sorted((ROOT / "corpus/transcripts").glob("*.md")))),
    ".docx": next(iter(sorted((ROOT / "corpus/transcripts").glob("*.docx")))),
    ".odt": next(iter(sorted((ROOT / "corpus/transcripts").glob("*.odt")))),
    ".vtt": next(iter(sorted((ROOT / "corpus/transcripts").glob("*.vtt")))),
    ".srt": ROOT / "tests/data/subtitles/entretien.srt",
    ".trs": ROOT / "tests/data/eslo/ESLO1_INTPERS_406_C.trs",
}
OFFICE_PART = {".docx": "word/document.xml", ".odt": "content.xml"}
CONFIG = load_speaker_config(None)
FUZZ = settings(max_examples=int(os.environ.get("CODEUR_FUZZ_EXAMPLES", 40)), deadline=None, derandomize=os.environ.get("CODEUR_FUZZ_RANDOM") is None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _head(data: bytes, limit: int = 20_000) -> bytes:
    """Text samples are cut to keep each example fast (the reader's work grows with the size)."""
    return data[:limit]


@st.composite
def mutated(draw, data: bytes):
    """`data` with a few byte-level edits: flips, cuts, insertions of odd bytes, duplicated chunks."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        if not buf:
            buf.extend(draw(st.binary(min_size=1, max_size=20)))
            continue
        i = draw(st.integers(0, len(buf) - 1))
        op = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "dup"]))
        if op == "flip":
            buf[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del buf[i:i + draw(st.integers(1, 200))]
        elif op == "insert":
            buf[i:i] = draw(st.sampled_from([b"\x00", b"\xff\xfe", b"\xc3", b"-->", b"<", b"&", b"\r", b"\n\n",
                                             b"]]>", b"<!ENTITY x 'y'>", b"\xe2\x80\xa8", b":", b'"', b"\t"]))
        elif op == "truncate":
            del buf[i:]
        else:
            j = draw(st.integers(i, min(len(buf), i + 300)))
            buf[j:j] = buf[i:j]
    return bytes(buf)


def _office_with(sample: Path, part: str, xml: bytes) -> bytes:
    """The office package `sample` with its main XML part replaced by `xml` (a sound zip, so the XML
    is what the reader gets to parse)."""
    out = io.BytesIO()
    with zipfile.ZipFile(sample) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, xml if info.filename == part else src.read(info))
    return out.getvalue()


def read_or_refuse(path: Path):
    """Read the file: a Transcript, or a CodeurError naming the file. Anything else fails the test."""
    try:
        return read_transcript(path, CONFIG)
    except CodeurError as e:
        assert str(path) in e.format() or path.name in e.format(), e.format()
        assert "\n" not in e.reason.strip(), "one line expected"
        return e


def _check_offsets(result) -> None:
    if isinstance(result, CodeurError):
        return
    text = result.text
    for t in result.turns:
        assert 0 <= t.span.start <= t.span.end <= len(text)


@pytest.mark.parametrize("ext", sorted(SAMPLES))
def test_every_reader_reads_its_sample(ext):
    result = read_transcript(SAMPLES[ext], CONFIG)
    assert result.turns


@pytest.mark.parametrize("ext", sorted(SAMPLES))
def test_mutated_files_are_read_or_refused_clearly(ext, tmp_path):
    raw = SAMPLES[ext].read_bytes()
    data = raw if ext in OFFICE_PART else _head(raw)

    @FUZZ
    @given(mutated(data))
    def run(blob):
        f = tmp_path / f"fuzz{ext}"
        f.write_bytes(blob)
        _check_offsets(read_or_refuse(f))

    run()


@pytest.mark.parametrize("ext", sorted(OFFICE_PART))
def test_office_packages_with_mutated_xml_are_read_or_refused_clearly(ext, tmp_path):
    sample = SAMPLES[ext]
    with zipfile.ZipFile(sample) as z:
        xml = z.read(OFFICE_PART[ext])

    @FUZZ
    @given(mutated(xml))
    def run(part):
        f = tmp_path / f"fuzz{ext}"
        f.write_bytes(_office_with(sample, OFFICE_PART[ext], part))
        _check_offsets(read_or_refuse(f))

    run()


@pytest.mark.parametrize("ext", sorted(SAMPLES))
def test_arbitrary_bytes_are_read_or_refused_clearly(ext, tmp_path):
    @FUZZ
    @given(st.binary(max_size=2000))
    def run(blob):
        f = tmp_path / f"any{ext}"
        f.write_bytes(blob)
        read_or_refuse(f)

    run()


def test_a_fuzzed_file_never_costs_the_good_files_of_its_batch(tmp_path):
    good = tmp_path / "batch" / "E01.txt"
    good.parent.mkdir()
    good.write_bytes(SAMPLES[".txt"].read_bytes())
    with zipfile.ZipFile(SAMPLES[".odt"]) as z:
        xml = z.read("content.xml")

    @FUZZ
    @given(st.sampled_from(sorted(SAMPLES)), st.data())
    def run(ext, data):
        bad = tmp_path / "batch" / f"zz{ext}"
        raw = SAMPLES[ext].read_bytes()
        if ext == ".odt":
            blob = _office_with(SAMPLES[ext], "content.xml", data.draw(mutated(xml)))
        else:
            blob = data.draw(mutated(raw if ext in OFFICE_PART else _head(raw)))
        bad.write_bytes(blob)
        result = prepare([good.parent], speaker_config=CONFIG)
        bad.unlink()
        statuses = {Path(r.path).name: r for r in result.reports}
        assert statuses["E01.txt"].status == "ok"
        assert any(p.doc_id == "E01" for p in result.passages)
        assert statuses[bad.name].status in ("ok", "error", "skipped")
        if statuses[bad.name].status != "ok":
            assert statuses[bad.name].reason

    run()


# --- table readers ------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)
ROW = st.fixed_dictionaries(
    {}, optional={k: JSON_VALUES for k in ("id", "doc_id", "doc", "start", "end", "text", "codes", "scores",
                                            "coder", "turns", "clean_text", "question")})
LINE = st.one_of(ROW.map(lambda r: json.dumps(r, allow_nan=True)), st.text(max_size=60),
                 st.just("[1, 2]"), st.just("{"), st.just(""))


def test_jsonl_tables_of_any_shape_are_read_or_refused_clearly(tmp_path):
    from pipeline.audit.codings import read_coding
    from pipeline.core.codebook import load_codebook
    from pipeline.core.gold import read_gold
    from pipeline.passages.prepare import load_transcripts
    from pipeline.core.tables import read_passages, read_rows

    codebook = load_codebook(None)

    @FUZZ
    @given(st.lists(LINE, max_size=8))
    def run(lines):
        f = tmp_path / "rows.jsonl"
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for reader in (lambda: read_rows(f), lambda: read_passages(f), lambda: read_gold(f),
                       lambda: load_transcripts(f), lambda: read_coding(f, codebook)):
            try:
                reader()
            except CodeurError:
                pass

    run()


def test_rows_kept_by_the_table_reader_have_usable_ids_and_offsets(tmp_path):
    from pipeline.core.tables import read_rows

    @FUZZ
    @given(st.lists(ROW, max_size=8))
    def run(rows):
        f = tmp_path / "rows.jsonl"
        f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        got = read_rows(f, required=("id",))
        for r in got.rows:
            assert isinstance(r["id"], (str, int)) and not isinstance(r["id"], bool)
            if "start" in r or "end" in r:
                assert 0 <= r["start"] <= r["end"]
        assert len(got.rows) + len(got.errors) == sum(1 for _ in rows)

    run()


CSV_TEXT = st.lists(st.lists(st.text(alphabet=st.sampled_from(list('ab,"\n\r;é É0 ')), max_size=8), max_size=4),
                    max_size=6).map(lambda rows: "\n".join(",".join(r) for r in rows))


def test_csv_tables_of_any_shape_are_read_or_refused_clearly(tmp_path):
    from pipeline.core.tables import read_table
    from pipeline.core.csvfile import read_cases
    from pipeline.exchange.pseudonymize import read_user_mapping

    @FUZZ
    @given(st.sampled_from(["doc_id,a\n", "original,replacement\n", "id,doc_id,start,end,codes\n", ""]), CSV_TEXT)
    def run(header, body):
        f = tmp_path / "table.csv"
        f.write_text(header + body, encoding="utf-8")
        for reader in (lambda: read_cases(f), lambda: read_user_mapping(f),
                       lambda: read_table(f, required=("id", "codes"))):
            try:
                reader()
            except CodeurError:
                pass

    run()


def test_parquet_of_any_bytes_is_refused_clearly(tmp_path):
    from pipeline.core.tables import read_rows

    @FUZZ
    @given(st.binary(max_size=500))
    def run(blob):
        f = tmp_path / "rows.parquet"
        f.write_bytes(b"PAR1" + blob)
        try:
            read_rows(f)
        except CodeurError:
            pass

    run()
