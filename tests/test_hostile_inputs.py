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
from pipeline.readers import read_transcript

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
