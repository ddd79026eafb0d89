"""Issue 10: hostile inputs and outputs. A researcher hands codeur a damaged UTF-8 transcript, subtitles
with broken timings, or an --out that cannot or must not be written; each time they get a one-line
message naming the file and the place, never a traceback nor a silent loss."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest.readers import read_transcript

runner = CliRunner()
DATA = Path(__file__).parent / "data"


def prepare(*args):
    result = runner.invoke(app, ["prepare", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def passages(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- 1. a UTF-8 transcript with a few invalid bytes ------------------------------------------------

def interview_by_helene() -> bytes:
    text = (DATA / "txt" / "entretien_colon.txt").read_text(encoding="utf-8")
    return text.replace("Enquêtrice", "Hélène Morand").encode("utf-8")


def test_a_utf8_transcript_with_five_bad_bytes_keeps_its_accents_and_says_where_the_bytes_were(tmp_path):
    clean = interview_by_helene()
    damaged = clean
    for word in (b"familiale", b"salari", b"allemand", b"cinq", b"voisin"):  # five stray Windows bytes
        at = damaged.index(word) + len(word)
        damaged = damaged[:at] + b"\x92" + damaged[at:]
    (tmp_path / "propre.txt").write_bytes(clean)
    (tmp_path / "abime.txt").write_bytes(damaged)

    ok = prepare(tmp_path / "propre.txt", "--out", tmp_path / "propre.jsonl")
    result = prepare(tmp_path / "abime.txt", "--out", tmp_path / "abime.jsonl",
                     "--transcripts", tmp_path / "abime.transcripts.jsonl")

    assert ok.exit_code == 0 and result.exit_code == 0, result.output
    assert len(passages(tmp_path / "abime.jsonl")) == len(passages(tmp_path / "propre.jsonl"))
    transcript = passages(tmp_path / "abime.transcripts.jsonl")[0]
    assert transcript["metadata"]["encoding"] == "utf-8"
    speakers = {turn["speaker"]: turn["role"] for turn in transcript["turns"]}
    assert speakers["Hélène Morand"] == "interviewer"
    assert transcript["text"].count("\ufffd") == 5
    warning = next(line for line in result.output.splitlines() if "invalid UTF-8" in line)
    assert "abime.txt" in warning and "5 invalid UTF-8 byte(s)" in warning
    first_bad = damaged.index(b"\x92")
    assert f"byte offset(s) {first_bad}," in warning
    assert "Traceback" not in result.output


def test_a_windows_1252_transcript_is_still_read_as_windows_1252_with_its_warning(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes("Hélène Morand : Vous êtes où ?\nPaul : À Cluses, près du lycée.\n".encode("cp1252"))

    t = read_transcript(path)

    assert t.metadata["encoding"] == "cp1252"
    assert "Hélène Morand : Vous êtes où ?" in t.text
    assert "decoded as Windows-1252" in t.warnings[0]


# --- 2. subtitles with broken timings --------------------------------------------------------------

BROKEN_VTT = """WEBVTT

1
00:00:01.000 --> 00:00:03.000
<v Q>Bonjour, vous êtes seul dans l'atelier ?

2
00:00:xx.000 --> 00:00:05.000
<v R>Non, on est deux.

3
00:00:06.000 -->
<v R>Mon frère et moi, depuis le départ de notre père.

4
99:99.000 --> 00:00:09.000
<v Q>Depuis quand ?

5
00:00:12.000 --> 00:00:10.000
<v R>Depuis 1990, à peu près.

6
00:00:13.000 --> 00:00:14.000
<v Q>Merci.
"""


def test_subtitle_cues_with_broken_timings_keep_their_text_and_are_each_named(tmp_path):
    path = tmp_path / "atelier.vtt"
    path.write_text(BROKEN_VTT, encoding="utf-8")

    result = prepare(path, "--out", tmp_path / "p.jsonl")

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning")]
    assert all("atelier.vtt" in w for w in warnings)
    assert any("cue 2 (line 8)" in w and "unreadable time '00:00:xx.000'" in w for w in warnings)
    assert any("cue 3 (line 12)" in w and "lacks its end time" in w for w in warnings)
    assert any("cue 4 (line 16)" in w and "out of range" in w for w in warnings)
    assert any("cue 5 (line 20)" in w and "ends before it starts" in w for w in warnings)
    t = read_transcript(path)
    assert t.text.split("\n")[1] == "R : Non, on est deux. Mon frère et moi, depuis le départ de notre père."
    assert "Depuis 1990, à peu près." in t.text
    assert [(turn.start_time, turn.end_time) for turn in t.turns][0] == (1.0, 3.0)
    assert t.turns[1].start_time is None  # the kept text has no invented times


def test_subrip_whose_every_timing_is_broken_is_refused_with_the_first_bad_cue(tmp_path):
    path = tmp_path / "casse.srt"
    path.write_text("1\n00:00:aa,000 --> 00:00:02,000\nQ: Bonjour.\n\n2\n-->\nR: Bonjour.\n", encoding="utf-8")

    result = prepare(path, "--out", tmp_path / "p.jsonl")

    assert result.exit_code == 2
    assert "casse.srt" in result.output and "no cue has a readable timing line (cue 1 (line 2)" in result.output
    assert not (tmp_path / "p.jsonl").exists()


# --- 3. outputs ------------------------------------------------------------------------------------

TRANSCRIPT = DATA / "txt" / "entretien_colon.txt"


def test_an_out_inside_a_file_is_refused_before_any_transcript_is_read(tmp_path):
    (tmp_path / "notes.txt").write_text("pas un dossier", encoding="utf-8")

    result = prepare(TRANSCRIPT, "--out", tmp_path / "notes.txt" / "p.jsonl")

    assert result.exit_code == 2
    assert "notes.txt is a file, not a folder" in result.output
    assert "processed" not in result.output  # the transcripts were not even read


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_an_out_in_a_read_only_folder_is_refused_before_any_work(tmp_path):
    locked = tmp_path / "lecture_seule"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = prepare(TRANSCRIPT, "--out", locked / "sub" / "p.jsonl")
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 2 and "is not writable" in result.output and "processed" not in result.output


def test_classify_checks_its_out_before_loading_the_model(tmp_path):
    result = runner.invoke(app, ["classify", str(TRANSCRIPT), "--model", str(tmp_path / "pas_de_modele"),
                                 "--out", "/dev/null"])

    assert result.exit_code == 2
    assert "/dev/null" in result.output and "not a regular file" in result.output
    assert "pas_de_modele" not in result.output


@pytest.mark.parametrize("kind", ["symlink", "device", "folder"])
def test_an_out_that_is_not_a_regular_file_is_never_replaced(tmp_path, kind):
    target = tmp_path / "vrai.jsonl"
    target.write_text("à garder\n", encoding="utf-8")
    if kind == "symlink":
        out = tmp_path / "lien.jsonl"
        out.symlink_to(target)
        expected = "symbolic link"
    elif kind == "device":
        out, expected = Path("/dev/null"), "not a regular file"
    else:
        out = tmp_path / "dossier.jsonl"
        out.mkdir()
        expected = "is a folder"

    result = prepare(TRANSCRIPT, "--out", out)

    assert result.exit_code == 2 and expected in result.output and str(out) in result.output
    assert "processed" not in result.output
    assert target.read_text(encoding="utf-8") == "à garder\n"
    assert os.path.islink(out) if kind == "symlink" else True


def test_a_second_run_writing_the_same_output_fails_clearly(tmp_path):
    out = tmp_path / "p.jsonl"
    out.write_text("sortie de l'autre run\n", encoding="utf-8")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / ".p.jsonl.lock").write_text(f"{other.pid}\n", encoding="ascii")

        result = prepare(TRANSCRIPT, "--out", out)
    finally:
        other.kill()
        other.wait()

    assert result.exit_code == 2
    assert f"another codeur run (pid {other.pid}) is writing this output" in result.output
    assert "processed" not in result.output
    assert out.read_text(encoding="utf-8") == "sortie de l'autre run\n"
    assert (tmp_path / ".p.jsonl.lock").exists()  # the other run's lock is not ours to remove


def test_the_lock_of_a_killed_run_is_taken_over_with_a_note(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".p.jsonl.lock").write_text(f"{dead.pid}\n", encoding="ascii")

    result = prepare(TRANSCRIPT, "--out", tmp_path / "p.jsonl")

    assert result.exit_code == 0, result.output
    assert f"took over the stale lock .p.jsonl.lock (pid {dead.pid} is no longer running)" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.jsonl"]  # lock released at the end


def test_temporary_files_left_by_a_killed_run_are_removed_with_a_note(tmp_path):
    for leftover in (".p.jsonl.k3j9x_2a.tmp", ".p.jsonl.zz81qq0b.tmp"):
        (tmp_path / leftover).write_text('{"id": "à moitié', encoding="utf-8")
    (tmp_path / ".autre.jsonl.abcdefgh.tmp").write_text("pas à nous", encoding="utf-8")

    result = prepare(TRANSCRIPT, "--out", tmp_path / "p.jsonl")

    assert result.exit_code == 0, result.output
    assert "removed 2 temporary file(s) left by an interrupted run" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [".autre.jsonl.abcdefgh.tmp", "p.jsonl"]


# --- 5. one bad file or line in a batch: named, skipped, the rest still comes out -------------------

def odt_without_body(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest xmlns:manifest='
                   '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
        z.writestr("content.xml", '<?xml version="1.0"?><office:document-content xmlns:office='
                   '"urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>')
    return path


def test_an_odt_without_a_body_is_named_and_its_batch_still_comes_out(tmp_path):
    batch = tmp_path / "lot"
    batch.mkdir()
    (batch / "E01.txt").write_bytes(TRANSCRIPT.read_bytes())
    odt_without_body(batch / "vide.odt")
    out = tmp_path / "p.jsonl"
    result = prepare(batch, "--out", out)
    assert result.exit_code == 1, result.output
    assert "vide.odt" in result.output and "no text body" in result.output
    assert {p["doc_id"] for p in passages(out)} == {"E01"}


def passage_rows(tmp_path) -> list[dict]:
    out = tmp_path / "good.jsonl"
    assert prepare(TRANSCRIPT, "--out", out).exit_code == 0
    return passages(out)


@pytest.mark.parametrize("damage, message", [
    (lambda r: r.update(id=["x", "y"]), "'id' must be a non-empty string or a whole number"),
    (lambda r: r.update(start=r["end"] + 5), "impossible offsets"),
    (lambda r: r.update(start="12"), "'start' and 'end' must be whole numbers"),
    (lambda r: r.update(text=None), "missing field(s) text"),
])
def test_a_bad_passage_row_is_skipped_by_line_and_the_others_are_coded(tmp_path, tiny_model_dir, damage, message):
    rows = passage_rows(tmp_path)
    damage(rows[1])
    src = tmp_path / "passages.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    result = runner.invoke(app, ["classify", str(src), "--model", str(tiny_model_dir), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "line 2" in result.output and message in result.output
    assert len(passages(out)) == len(rows) - 1


def test_a_corrupt_parquet_beside_a_good_table_costs_only_itself(tmp_path, tiny_model_dir):
    rows = passage_rows(tmp_path)
    good = tmp_path / "good.jsonl"
    bad = tmp_path / "casse.parquet"
    bad.write_bytes(b"PAR1 not a parquet file PAR1")
    out = tmp_path / "pred.jsonl"
    result = runner.invoke(app, ["classify", str(bad), str(good), "--model", str(tiny_model_dir), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "casse.parquet" in result.output and "not a readable Parquet file" in result.output
    assert len(passages(out)) == len(rows)
    strict = runner.invoke(app, ["classify", str(bad), str(good), "--model", str(tiny_model_dir), "--out",
                                 str(tmp_path / "strict.jsonl"), "--strict"])
    assert strict.exit_code == 2 and not (tmp_path / "strict.jsonl").exists()


# --- 6. tables researchers edit by hand -------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ('E01,"PME\nE02,ETI\nE03,PME\n', "line 2: a quote opened on this line is never closed"),
    ('E01,"PME\nE02,ETI"\nE03,PME\n', "line 2: a quoted value runs over lines 2-3"),
    ("E01,PME,extra\nE02,ETI\n", "line 2: 3 field(s) where the header has 2"),
])
def test_a_cases_csv_whose_quotes_or_commas_would_swallow_rows_is_refused_by_line(tmp_path, body, message):
    from pipeline.core.csvfile import read_cases
    from pipeline.core.errors import DataError

    cases = tmp_path / "cases.csv"
    cases.write_text("doc_id,actor_type\n" + body, encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_cases(cases)
    assert message in e.value.format() and "cases.csv" in e.value.format()


def test_the_matrix_command_names_the_bad_line_of_cases_csv(tmp_path):
    cases = tmp_path / "cases.csv"
    cases.write_text('doc_id,market\nE01,"auto\nE02,aero\n', encoding="utf-8")
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps({"id": "E01:0-5", "doc_id": "E01", "codes": []}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["matrix", "--pred", str(pred), "--cases", str(cases), "--by", "market",
                                 "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "cases.csv: line 2: a quote opened on this line is never closed" in result.output


# --- 7. gold coding that does not fit the transcripts -----------------------------------------------

def gold_and_predictions(tmp_path, tiny_model_dir):
    pred = tmp_path / "pred.jsonl"
    assert runner.invoke(app, ["classify", str(TRANSCRIPT), "--model", str(tiny_model_dir), "--out",
                               str(pred)]).exit_code == 0
    rows = passages(pred)
    spans = [{"doc": r["doc_id"], "start": r["start"], "end": r["end"], "codes": ["confiance"], "coder": "c1",
              "text": r["text"]} for r in rows[:3]]
    return pred, rows, spans


def write_gold(path: Path, spans: list[dict]) -> Path:
    path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in spans), encoding="utf-8")
    return path


def test_a_gold_span_past_the_end_of_its_text_is_named(tmp_path, tiny_model_dir):
    pred, rows, spans = gold_and_predictions(tmp_path, tiny_model_dir)
    last = max(r["end"] for r in rows)
    spans.append({"doc": rows[0]["doc_id"], "start": last + 10_000, "end": last + 10_050, "codes": ["confiance"],
                  "coder": "c1", "text": ""})
    gold = write_gold(tmp_path / "gold.jsonl", spans)
    result = runner.invoke(app, ["evaluate", "--gold", str(gold), "--pred", str(pred), "--out", str(tmp_path / "a"),
                                 "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    assert "1 span(s) of" in result.output and "past the end of its text?" in result.output
    assert f"{last + 10_000}-{last + 10_050}" in result.output


def test_gold_made_on_another_version_of_the_transcript_is_refused(tmp_path, tiny_model_dir):
    pred, rows, spans = gold_and_predictions(tmp_path, tiny_model_dir)
    spans[1]["text"] = "X" + spans[1]["text"][1:]
    gold = write_gold(tmp_path / "gold.jsonl", spans)
    result = runner.invoke(app, ["evaluate", "--gold", str(gold), "--pred", str(pred), "--out", str(tmp_path / "a"),
                                 "--bootstrap", "0"])
    assert result.exit_code == 2
    assert "span 2" in result.output and "different versions of the transcript" in result.output
    assert not (tmp_path / "a" / "metrics.json").exists()


# --- 8. headline given the wrong thing --------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir(), "a folder without metrics.json"),
    (lambda p: p.write_bytes(os.urandom(300) + b"\xff\xfe"), "not a text file"),
    (lambda p: p.write_text('{"agreement": 3}', encoding="utf-8"), "unexpected shape"),
])
def test_headline_of_a_folder_or_a_binary_file_is_a_clear_error(tmp_path, make, message):
    target = tmp_path / "metrics.json"
    make(target)
    result = runner.invoke(app, ["headline", str(target)])
    assert result.exit_code == 2 and message in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    assert message in result.output


def test_headline_of_an_audit_folder_reads_its_metrics(tmp_path, tiny_model_dir):
    pred, rows, spans = gold_and_predictions(tmp_path, tiny_model_dir)
    gold = write_gold(tmp_path / "gold.jsonl", spans)
    assert runner.invoke(app, ["evaluate", "--gold", str(gold), "--pred", str(pred), "--out", str(tmp_path / "a"),
                               "--bootstrap", "0"]).exit_code == 0
    result = runner.invoke(app, ["headline", str(tmp_path / "a")])
    assert result.exit_code == 0 and "macro-F1" in result.output


# --- 9. every command checks its output before working -----------------------------------------------

@pytest.mark.parametrize("command", [
    ["train", "--config", "configs/train-fast.yaml"],
    ["evaluate", "--gold", "corpus/gold/coder1.jsonl", "--pred", "nowhere.jsonl"],
    ["audit", "corpus/gold/coder1.jsonl", "corpus/gold/coder2.jsonl"],
    ["learning-curve"],
    ["matrix", "--pred", "nowhere.jsonl", "--by", "market"],
])
def test_an_output_folder_that_is_a_file_is_refused_before_any_work(tmp_path, command):
    target = tmp_path / "un_fichier"
    target.write_text("à garder", encoding="utf-8")
    result = runner.invoke(app, [*command, "--out", str(target)])
    assert result.exit_code == 2, result.output
    assert "is a file, not a folder" in result.output
    assert target.read_text(encoding="utf-8") == "à garder"


@pytest.mark.parametrize("command", [["segment", "nowhere.jsonl"], ["ingest", str(TRANSCRIPT)],
                                     ["corpus-export"], ["suggest", "--pool", "nowhere.jsonl", "--model", "nowhere"]])
def test_an_output_file_that_is_a_device_is_refused_by_every_command(command):
    result = runner.invoke(app, [*command, "--out", "/dev/null"])
    assert result.exit_code == 2, result.output
    assert "not a regular file" in result.output


# --- 10. limits ------------------------------------------------------------------------------------

def test_a_transcript_above_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    big = tmp_path / "gros.txt"
    big.write_bytes(TRANSCRIPT.read_bytes() * 100)
    monkeypatch.setenv("CODEUR_MAX_FILE_MB", "0.05")
    result = prepare(big, "--out", tmp_path / "p.jsonl")
    assert result.exit_code == 2
    assert "gros.txt" in result.output and "too large" in result.output and "--max-file-mb" in result.output
    ok = runner.invoke(app, ["prepare", str(big), "--out", str(tmp_path / "p.jsonl"), "--max-file-mb", "50"])
    assert "too large" not in ok.output


def test_a_line_longer_than_the_limit_is_named(tmp_path):
    long = tmp_path / "une_ligne.txt"
    long.write_text("Enquêteur : bonjour\n\nInterviewé : " + "oui " * 60_000 + "\n", encoding="utf-8")
    result = prepare(long, "--out", tmp_path / "p.jsonl", "--max-line-chars", "100000")
    assert result.exit_code == 2
    assert "une_ligne.txt" in result.output and "line 3 is 240,013 characters long" in result.output
    raised = prepare(long, "--out", tmp_path / "p.jsonl", "--max-line-chars", "300000")
    assert "characters long" not in raised.output and "une_ligne.txt" in raised.output


def office_bomb(path: Path, size: int) -> Path:
    """A .docx whose document.xml unpacks to `size` bytes of one repeated character."""
    import zipfile

    sample = next(iter(sorted((Path(__file__).parent.parent / "corpus" / "transcripts").glob("*.docx"))))
    with zipfile.ZipFile(sample) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"</w:body>", b"<!--" + b" " * size + b"--></w:body>")
            dst.writestr(info.filename, data)
    return path


def test_a_docx_zip_bomb_is_refused_like_a_qdpx_one(tmp_path):
    bomb = office_bomb(tmp_path / "bombe.docx", 30 * 1024 * 1024)
    assert bomb.stat().st_size < 200_000
    result = prepare(bomb, "--out", tmp_path / "p.jsonl")
    assert result.exit_code == 2
    assert "bombe.docx" in result.output and "zip bomb?" in result.output


def test_an_office_part_above_the_unpacked_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEUR_MAX_UNPACKED_MB", "1")
    monkeypatch.setenv("CODEUR_MAX_ZIP_RATIO", "100000")
    big = office_bomb(tmp_path / "long.docx", 2 * 1024 * 1024)
    result = prepare(big, "--out", tmp_path / "p.jsonl")
    assert result.exit_code == 2
    assert "long.docx" in result.output and "unpacks to" in result.output


def test_a_bad_limit_setting_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEUR_MAX_FILE_MB", "beaucoup")
    result = prepare(TRANSCRIPT, "--out", tmp_path / "p.jsonl")
    assert result.exit_code == 2 and "CODEUR_MAX_FILE_MB='beaucoup' is not a number" in result.output


@pytest.mark.parametrize("timing", ["00:00:04.000 -> 00:00:08.000", "->", "00:00:04,000 => 00:00:08,000"])
def test_a_mistyped_subtitle_arrow_keeps_its_cue_and_names_it(tmp_path, timing):
    path = tmp_path / "freres.vtt"
    path.write_text("WEBVTT\n\n1\n00:00:01.000 --> 00:00:03.000\n<v Q>Vous travaillez seul ?\n\n"
                    f"2\n{timing}\n<v R>Non, on est deux, mon frère et moi.\n\n"
                    "3\n00:00:09.000 --> 00:00:10.000\n<v Q>Merci.\n", encoding="utf-8")
    t = read_transcript(path)
    assert "Non, on est deux, mon frère et moi." in t.text
    assert any(w.startswith("cue 2 (line 8)") and "arrow" in w for w in t.warnings), t.warnings
    assert [turn.speaker for turn in t.turns] == ["Q", "R", "Q"]


def test_an_arrow_inside_a_caption_is_text_not_a_timing(tmp_path):
    path = tmp_path / "fleche.vtt"
    path.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v R>le prix -> trois euros\n", encoding="utf-8")
    t = read_transcript(path)
    assert "le prix -> trois euros" in t.text and not any("arrow" in w for w in t.warnings)
