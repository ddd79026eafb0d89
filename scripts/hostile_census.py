#!/usr/bin/env python
"""Census of hostile inputs (issue 10): totals for the README's reliability section.

Each kind of bad input, fault or hostile file is built here, in a temporary folder (nothing is
downloaded: the inputs are made from files of the repository), handed to the `codeur` command that
reads it (in-process, through typer's CliRunner), and the outcome is classified:

- traceback      an exception other than SystemExit escaped the command;
- clear error    exit code 1 or 2 and a line naming the bad file and the reason (for tables the line
                 or row, for subtitles the cue);
- clear warning  exit code 0 or 1, the output still written, a warning line naming the file;
- silent         exit code 0 and no line naming the problem, or a wrong result let through (each
                 kind says what a silent wrong result would be and checks for it: garbled accents,
                 swallowed rows, a pickle opened, a file written outside --out...);
- unclear        a non-zero exit code without a line naming the file and the reason.

For batch kinds a good input is placed beside the bad one; a kind whose good input is missing from
the output counts as a lost good input.

    .venv/bin/python scripts/hostile_census.py

prints one line per kind (`kind | command | outcome | detail`) and the totals; exit code 1 when a
traceback, a silent result or a lost good input was found, else 0.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import random
import re
import shutil
import stat
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path
from typing import Callable, Iterable, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from pipeline.cli import app  # noqa: E402

E01 = ROOT / "corpus" / "transcripts" / "E01.txt"
TRANSCRIPTS = ROOT / "corpus" / "transcripts"
DOCX = sorted(TRANSCRIPTS.glob("*.docx"))[0]
ODT = sorted(TRANSCRIPTS.glob("*.odt"))[0]
SRT = ROOT / "tests" / "data" / "subtitles" / "entretien.srt"
TRS = ROOT / "tests" / "data" / "eslo" / "ESLO1_INTPERS_406_C.trs"
NO_SPEAKERS = ROOT / "tests" / "data" / "txt" / "recit_sans_locuteur.txt"
CASES = ROOT / "corpus" / "cases.csv"
GOLD = ROOT / "corpus" / "gold" / "coder1.jsonl"
CODEBOOK = ROOT / "configs" / "codebook.yaml"

OUTCOMES = ("clear error", "clear warning", "traceback", "silent", "unclear", "census error")
FAILING = ("traceback", "silent", "census error")


# --- was a pickle opened? ---------------------------------------------------------------------------
# Unpickling runs code only by looking up a callable, and Python announces every such look-up as the
# audit event "pickle.find_class" (as tests/test_model_safety.py watches it).

_PICKLE_LOOKUPS: list[list[str]] = []


def _audit(event, args):
    if event == "pickle.find_class" and _PICKLE_LOOKUPS:
        _PICKLE_LOOKUPS[-1].append(".".join(map(str, args)))


sys.addaudithook(_audit)


class Payload:
    """A pickle that creates a marker file when it is opened: what a tampered model would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# --- the census -------------------------------------------------------------------------------------

KINDS: list[tuple[str, Callable]] = []


def kind(group: str):
    def register(fn):
        KINDS.append((group, fn))
        return fn
    return register


class Run:
    def __init__(self, result, args):
        self.result = result
        self.args = args
        self.output = result.output
        self.exit_code = result.exit_code
        self.exception = result.exception


class Census:
    """The shared material (a tiny model, E01's passages and predictions) and the helpers."""

    def __init__(self, root: Path):
        self.root = root
        self.slug = ""
        self.dir = root
        (root / "kinds").mkdir(parents=True, exist_ok=True)
        self.runner = CliRunner()
        self.model = self._tiny_model(root / "shared" / "tiny")
        base = root / "shared"
        self.passages = base / "passages.jsonl"
        run = self.invoke(["prepare", E01, "--out", self.passages])
        assert run.exit_code == 0, run.output
        self.rows = read_jsonl(self.passages)
        self.pred = base / "pred.jsonl"
        run = self.invoke(["classify", self.passages, "--model", self.model, "--out", self.pred])
        assert run.exit_code == 0, run.output
        self.pred_rows = read_jsonl(self.pred)

    @staticmethod
    def _tiny_model(out: Path) -> Path:
        """The model of tests/tiny_model.py (the tests' `tiny_model_dir`)."""
        sys.path.insert(0, str(ROOT / "tests"))
        from helpers import build_tiny_model

        return build_tiny_model(out)

    def folder(self, slug: str) -> Path:
        self.slug = slug
        self.dir = self.root / "kinds" / slug
        self.dir.mkdir(parents=True)
        return self.dir

    def invoke(self, args: Iterable, env: Optional[dict] = None) -> Run:
        args = [str(a) for a in args]
        saved = {k: os.environ.get(k) for k in (env or {})}
        try:
            os.environ.update(env or {})
            result = self.runner.invoke(app, args)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return Run(result, args)

    def short(self, text: str) -> str:
        """Paths of the census's temporary folder left out of what is printed."""
        for prefix in (str(self.dir) + os.sep, str(self.root / "shared") + os.sep, str(self.root) + os.sep,
                       str(ROOT) + os.sep):
            text = text.replace(prefix, "")
        return text


# --- small helpers ------------------------------------------------------------------------------------

def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(folder: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*")} if folder.exists() else set()


TABLE_CHARS = set("│┃┏┓┗┛┡┩└┘━─╇┳┻╋┼├┤┌┐")


def _places(line: str, where: list[str]) -> bool:
    """One of the places (`line 3`, `cue 2`...) in the line, not followed by a further digit."""
    return not where or any(re.search(re.escape(w) + r"(?![0-9])", line) for w in where)


def message_line(output: str, names: Iterable[str], reasons: Iterable[str], where: Iterable[str] = (),
                 *, named: bool = True) -> Optional[str]:
    """The first line naming the file (one of `names`; unless `named` is False), the reason (one of
    `reasons`, any case) and, when given, the place (one of `where`): lines outside the summary table
    first."""
    names, reasons, where = list(names), [r.lower() for r in reasons], list(where)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for pass_ in (0, 1):
        for line in lines:
            in_table = bool(TABLE_CHARS & set(line))
            if in_table != bool(pass_):
                continue
            if (not named or any(n in line for n in names)) and any(r in line.lower() for r in reasons) and \
                    _places(line, where):
                return " ".join("".join(" " if ch in TABLE_CHARS else ch for ch in line).split())
    return None


def is_warning(line: str) -> bool:
    low = line.lower()
    return low.startswith(("warning", "note")) or "warning" in low.split(":")[0]


def judge(c: Census, slug: str, run: Run, *, names, reasons, where=(), silent_if: str,
          wrong: Optional[Callable[[], Optional[str]]] = None, good: Optional[Callable[[], bool]] = None,
          outputs: Iterable[Path] = ()) -> dict:
    """Classify the outcome of one kind (see the module's docstring)."""
    command = "codeur " + c.short(" ".join(run.args))
    record = {"kind": slug, "command": command, "outcome": "", "detail": "", "silent_if": silent_if,
              "lost": False, "traceback": None, "exit_code": run.exit_code, "output": c.short(run.output)}
    exc = run.exception
    if exc is not None and not isinstance(exc, SystemExit):
        record["outcome"] = "traceback"
        record["detail"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = "".join(traceback.format_exception(*run.result.exc_info))
    else:
        wrong_result = wrong() if wrong else None
        line = message_line(run.output, names, reasons, where)
        unnamed = message_line(run.output, names, reasons, where, named=False)
        elsewhere = message_line(run.output, names, reasons) if where else None
        written = all(Path(p).exists() for p in outputs)
        if wrong_result:
            record["outcome"] = "silent"
            record["detail"] = f"wrong result: {wrong_result}"
        elif line is None and unnamed is not None:
            record["outcome"] = "unclear"
            record["detail"] = f"exit {run.exit_code}, the file is not named: {unnamed}"
        elif line is None and elsewhere is not None:
            record["outcome"] = "unclear"
            record["detail"] = f"exit {run.exit_code}, not at {' / '.join(where)}: {elsewhere}"
        elif line is None:
            record["outcome"] = "silent" if run.exit_code == 0 else "unclear"
            first = next((x.strip() for x in run.output.splitlines() if x.strip()), "(no output)")
            record["detail"] = f"exit {run.exit_code}, no line naming the problem; first line: {first}"
        elif run.exit_code == 2 or (run.exit_code == 1 and not (is_warning(line) and written)):
            record["outcome"] = "clear error"
            record["detail"] = line
        elif run.exit_code in (0, 1) and written:
            record["outcome"] = "clear warning"
            record["detail"] = line
        else:
            record["outcome"] = "unclear"
            record["detail"] = f"exit {run.exit_code}, output not written: {line}"
    if good is not None:
        record["lost"] = not good()
    record["detail"] = c.short(record["detail"]).replace("\n", " ")
    return record


# === 1. model folders ===================================================================================

def model_copy(c: Census) -> Path:
    return Path(shutil.copytree(c.model, c.dir / "modele_recu"))


def rewrite_card(model: Path, **changes) -> dict:
    card = json.loads((model / "model-card.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            card.pop(key, None)
        else:
            card[key] = value
    (model / "model-card.json").write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    return card


def classify_with(c: Census, model: Path) -> tuple[Run, Path]:
    out = c.dir / "pred.jsonl"
    return c.invoke(["classify", c.passages, "--model", model, "--out", out]), out


def model_kind(c: Census, slug: str, tamper: Callable[[Path], None], *, names, reasons,
               silent_if: str = "the tampered model is loaded and codes the passages (exit 0)") -> dict:
    c.folder(slug)
    model = model_copy(c)
    tamper(model)
    run, out = classify_with(c, model)

    def wrong():
        if run.exit_code == 0 and out.exists():
            return "the tampered model was used, exit 0"
        return None

    return judge(c, slug, run, names=names, reasons=reasons, silent_if=silent_if, wrong=wrong)


def pickle_kind(c: Census, slug: str, command: str, plant: Callable[[Path, Path], None]) -> dict:
    c.folder(slug)
    model = model_copy(c)
    marker = c.dir / "code-ran"
    plant(model, marker)
    out = c.dir / ("pred.jsonl" if command == "classify" else "suggestions.jsonl")
    if command == "classify":
        args = ["classify", c.passages, "--model", model, "--out", out]
    else:
        args = ["suggest", "--model", model, "--pool", c.passages, "--n", "5", "--out", out]
    lookups: list[str] = []
    _PICKLE_LOOKUPS.append(lookups)
    try:
        run = c.invoke(args)
    finally:
        _PICKLE_LOOKUPS.pop()

    def wrong():
        found = []
        if lookups:
            found.append(f"a pickle was opened ({', '.join(lookups[:3])})")
        if marker.exists():
            found.append("the payload ran (marker file created)")
        if run.exit_code == 0:
            found.append("exit 0")
        return "; ".join(found) or None

    return judge(c, slug, run, names=["baseline.joblib", "baseline.npz", "modele_recu"], reasons=["pickle"],
                 silent_if="the pickle is unpickled (its payload runs) and the command succeeds", wrong=wrong)


def _plant(model: Path, marker: Path) -> None:
    (model / "backend" / "baseline.joblib").write_bytes(pickle.dumps(Payload(marker)))


def _plant_and_list(model: Path, marker: Path) -> None:
    _plant(model, marker)
    card = json.loads((model / "model-card.json").read_text(encoding="utf-8"))
    joblib = model / "backend" / "baseline.joblib"
    rewrite_card(model, files={**card["files"], "backend/baseline.joblib": sha256(joblib)})


def _pickle_as_npz(model: Path, marker: Path) -> None:
    npz = model / "backend" / "baseline.npz"
    npz.write_bytes(pickle.dumps(Payload(marker)))
    card = json.loads((model / "model-card.json").read_text(encoding="utf-8"))
    rewrite_card(model, files={**card["files"], "backend/baseline.npz": sha256(npz)})


@kind("model folders")
def model_pickle_classify(c):
    return pickle_kind(c, "model-pickle-planted-classify", "classify", _plant)


@kind("model folders")
def model_pickle_suggest(c):
    return pickle_kind(c, "model-pickle-planted-suggest", "suggest", _plant)


@kind("model folders")
def model_pickle_listed(c):
    return pickle_kind(c, "model-pickle-planted-and-listed-in-card", "classify", _plant_and_list)


@kind("model folders")
def model_pickle_as_npz(c):
    return pickle_kind(c, "model-pickle-as-npz-with-forged-hash", "classify", _pickle_as_npz)


@kind("model folders")
def model_changed_file(c):
    def tamper(model):
        f = model / "backend" / "baseline.npz"
        with np.load(f, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        key = next(k for k in arrays if arrays[k].dtype.kind == "f")
        arrays[key] = arrays[key] * 2  # still a valid file: only the hash tells
        np.savez_compressed(f, **arrays)
    return model_kind(c, "model-backend-file-changed", tamper, names=["backend/baseline.npz"],
                      reasons=["has changed"])


@kind("model folders")
def model_missing_file(c):
    return model_kind(c, "model-backend-file-missing", lambda m: (m / "backend" / "baseline.npz").unlink(),
                      names=["backend/baseline.npz"], reasons=["is missing"])


@kind("model folders")
def model_extra_file(c):
    return model_kind(c, "model-extra-file", lambda m: (m / "backend" / "notes.txt").write_text("x", encoding="utf-8"),
                      names=["backend/notes.txt"], reasons=["not part of the model"])


@kind("model folders")
def model_symlink(c):
    def tamper(model):
        (c.dir / "elsewhere.txt").write_text("x", encoding="utf-8")
        (model / "backend" / "lien.txt").symlink_to(c.dir / "elsewhere.txt")
    return model_kind(c, "model-symlink-in-backend", tamper, names=["backend/lien.txt"], reasons=["is a link"])


@kind("model folders")
def model_card_outside_path(c):
    def tamper(model):
        card = json.loads((model / "model-card.json").read_text(encoding="utf-8"))
        rewrite_card(model, files={**card["files"], "../outside.txt": "sha256:" + "0" * 64})
        (c.dir / "outside.txt").write_text("x", encoding="utf-8")
    return model_kind(c, "model-card-lists-path-outside", tamper, names=["../outside.txt", "model-card.json"],
                      reasons=["not a file of a model folder"])


@kind("model folders")
def model_card_no_hashes(c):
    return model_kind(c, "model-card-without-file-hashes", lambda m: rewrite_card(m, files=None),
                      names=["model-card.json"], reasons=["no file hashes"])


@kind("model folders")
def model_labels_reordered(c):
    slug = "model-card-labels-reordered"
    c.folder(slug)
    model = model_copy(c)
    card = json.loads((model / "model-card.json").read_text(encoding="utf-8"))
    rewrite_card(model, labels=list(reversed(card["labels"])))
    run, out = classify_with(c, model)
    expected = {r["id"]: sorted(r["codes"]) for r in c.pred_rows}

    def wrong():
        got = read_jsonl(out)
        if run.exit_code == 0 and got:
            differ = sum(sorted(r.get("codes", [])) != expected.get(r["id"]) for r in got)
            if differ:
                return f"exit 0, {differ} of {len(got)} passages coded differently"
            return "exit 0 with reordered labels"
        return None

    return judge(c, slug, run, names=["modele_recu", "model-card.json"], reasons=["labels", "codes differ"],
                 silent_if="the card's labels are trusted over the backend's: passages get other codes, exit 0",
                 wrong=wrong)


@kind("model folders")
def model_garbage_with_hash(c):
    def tamper(model):
        f = model / "backend" / "baseline.json"
        f.write_bytes(b"garbage" * 50)
        card = json.loads((model / "model-card.json").read_text(encoding="utf-8"))
        rewrite_card(model, files={**card["files"], "backend/baseline.json": sha256(f)})
    return model_kind(c, "model-garbage-backend-file-hash-matching", tamper, names=["modele_recu"],
                      reasons=["cannot load the baseline", "cannot be read"])


@kind("model folders")
def model_lfs_pointer(c):
    def tamper(model):
        (model / "backend" / "baseline.npz").write_text(
            "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 5120\n", encoding="ascii")
    return model_kind(c, "model-git-lfs-pointer", tamper, names=["backend/baseline.npz"], reasons=["Git LFS pointer"])


@kind("model folders")
def model_card_wrong_shape(c):
    return model_kind(c, "model-card-wrong-shape",
                      lambda m: (m / "model-card.json").write_text('{"backend": "baseline", "labels": "abc", '
                                                                   '"thresholds": {}, "codebook_hash": ""}',
                                                                   encoding="utf-8"),
                      names=["model-card.json"], reasons=["labels", "not a model card"])


@kind("model folders")
def model_card_not_json(c):
    return model_kind(c, "model-card-not-json",
                      lambda m: (m / "model-card.json").write_text('{"backend": "baseline", ', encoding="utf-8"),
                      names=["model-card.json"], reasons=["corrupt", "not a model card"])


# === 2. transcripts (prepare FOLDER, a good E01.txt beside the bad file) ===================================

class Batch:
    def __init__(self, c: Census, good: bytes | None = None):
        self.c = c
        self.lot = c.dir / "lot"
        self.lot.mkdir()
        (self.lot / "E01.txt").write_bytes(good if good is not None else E01.read_bytes())
        self.out = c.dir / "p.jsonl"
        self.transcripts = c.dir / "t.jsonl"
        self.good_count = None if good is not None else len(c.rows)

    def add(self, name: str, data: bytes) -> Path:
        path = self.lot / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def run(self, *extra, env=None) -> Run:
        return self.c.invoke(["prepare", self.lot, "--out", self.out, "--transcripts", self.transcripts, *extra],
                             env=env)

    def passages(self, doc: str) -> list[dict]:
        return [p for p in read_jsonl(self.out) if p["doc_id"] == doc]

    def transcript(self, doc: str) -> Optional[dict]:
        return next((t for t in read_jsonl(self.transcripts) if t["doc_id"] == doc), None)

    def good(self) -> bool:
        got = self.passages("E01")
        return bool(got) and (self.good_count is None or len(got) == self.good_count)

    def absent(self, doc: str, what: str) -> Callable[[], Optional[str]]:
        """A silent wrong result: the bad file's content in the output as if it were a transcript."""
        def wrong():
            got = self.passages(doc)
            return f"{len(got)} passage(s) of {what} in the output, exit 0" if got and self.run_exit == 0 else None
        return wrong

    def judge(self, slug, run, **kw) -> dict:
        self.run_exit = run.exit_code
        return judge(self.c, slug, run, good=self.good, outputs=[self.out], **kw)


def transcript_kind(c: Census, slug: str, name: str, data: bytes, *, reasons, where=(), silent_if: str,
                    wrong=None, extra=(), env=None, good: bytes | None = None) -> dict:
    c.folder(slug)
    batch = Batch(c, good)
    batch.add(name, data)
    run = batch.run(*extra, env=env)
    doc = Path(name).stem
    return batch.judge(slug, run, names=[Path(name).name], reasons=reasons, where=where, silent_if=silent_if,
                       wrong=(wrong(batch) if wrong else batch.absent(doc, Path(name).name)))


def e01_with_bad_bytes() -> tuple[bytes, list[int]]:
    data = E01.read_bytes()
    offsets = []
    for word in (b"grand-p", b"horloger", b"Cluses", b"automobile", b"allemand"):
        at = data.index(word) + len(word)
        data = data[:at] + b"\x92" + data[at:]
        offsets.append(at)
    return data, offsets


@kind("transcripts")
def utf8_with_bad_bytes(c):
    data, _ = e01_with_bad_bytes()

    def wrong(batch):
        def check():
            got = batch.passages("abime")
            text = " ".join(p["text"] for p in got)
            problems = []
            if "é" not in text:
                problems.append("accents lost")
            if "Ã" in text:
                problems.append("accents garbled (Ã©)")
            if len(got) != len(c.rows):
                problems.append(f"{len(got)} passages instead of {len(c.rows)} (interviewer not recognised?)")
            return "; ".join(problems) or None
        return check

    return transcript_kind(c, "txt-utf8-with-5-invalid-bytes", "abime.txt", data, reasons=["invalid UTF-8"],
                           where=["byte offset"], wrong=wrong,
                           silent_if="the whole file decoded as Windows-1252: accents garbled, 'Hélène Morand' "
                                     "no longer an interviewer, more passages")


@kind("transcripts")
def windows_1252(c):
    data = E01.read_text(encoding="utf-8").encode("cp1252")

    def wrong(batch):
        def check():
            got = batch.passages("windows")
            text = " ".join(p["text"] for p in got)
            if not got:
                return None
            if "é" not in text or "Ã" in text or "\ufffd" in text:
                return "accents garbled"
            if len(got) != len(c.rows):
                return f"{len(got)} passages instead of {len(c.rows)}"
            return None
        return check

    return transcript_kind(c, "txt-windows-1252", "windows.txt", data, reasons=["Windows-1252"], wrong=wrong,
                           silent_if="read as UTF-8 with replacement characters, or garbled, without a word")


@kind("transcripts")
def empty_file(c):
    return transcript_kind(c, "txt-empty", "vide.txt", b"", reasons=["empty"],
                           silent_if="an empty interview counted as processed")


@kind("transcripts")
def binary_garbage(c):
    data = random.Random(10).randbytes(4096)
    return transcript_kind(c, "txt-binary-garbage", "bruit.txt", data, reasons=["binary", "not text", "not a text"],
                           silent_if="garbage decoded as Windows-1252 text and segmented into passages")


@kind("transcripts")
def docx_not_zip(c):
    return transcript_kind(c, "docx-not-a-zip", "pas_zip.docx", "Ceci n'est pas un document Word.\n".encode(),
                           reasons=["zip", "not a", "corrupt"], silent_if="an empty or partial document accepted")


def office_with(sample: Path, part: str, edit: Callable[[bytes], bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(sample) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, edit(data) if info.filename == part else data)
    return buf.getvalue()


def with_doctype(xml: bytes, doctype: bytes, reference: bytes, text_tag: bytes) -> bytes:
    """`xml` with a DOCTYPE after its declaration and `reference` put into its first text element."""
    decl_end = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
    xml = xml[:decl_end] + doctype + xml[decl_end:]
    return re.sub(rb"(<" + text_tag + rb"(?:\s[^>]*)?>)", lambda m: m.group(1) + reference, xml, count=1)


LAUGHS = (b'<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
          b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">')
SECRET = "XXE-SECRET-4711"


def expanded(batch: Batch, needle: str) -> Callable[[], Optional[str]]:
    def check():
        for path in (batch.out, batch.transcripts):
            if path.exists() and needle in path.read_text(encoding="utf-8"):
                return f"entity expanded: {needle!r} in {path.name}"
        return None
    return check


@kind("transcripts")
def docx_zip_bomb(c):
    size = 30 * 1024 * 1024
    data = office_with(DOCX, "word/document.xml",
                       lambda x: x.replace(b"</w:body>", b"<!--" + b" " * size + b"--></w:body>"))
    return transcript_kind(c, "docx-zip-bomb-30MB-part", "bombe.docx", data, reasons=["zip bomb", "unpacks to"],
                           silent_if="a part compressed more than 200x unpacked and parsed (time, memory)")


@kind("transcripts")
def docx_billion_laughs(c):
    doctype = b"<!DOCTYPE w:document [" + LAUGHS + b"]>"
    data = office_with(DOCX, "word/document.xml", lambda x: with_doctype(x, doctype, b"&lol4;", b"w:t"))
    return transcript_kind(c, "docx-billion-laughs", "rires.docx", data, reasons=["DTD", "entit"],
                           wrong=lambda b: expanded(b, "lollollollol"),
                           silent_if="entities expanded into the text (lollollol...)")


@kind("transcripts")
def docx_xxe(c):
    secret = c.root / "kinds" / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    doctype = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">]>'.encode()
    data = office_with(DOCX, "word/document.xml", lambda x: with_doctype(x, doctype, b"&xxe;", b"w:t"))
    return transcript_kind(c, "docx-xxe-external-entity", "xxe.docx", data, reasons=["DTD", "entit"],
                           wrong=lambda b: expanded(b, SECRET),
                           silent_if="a local file's content read into the transcript")


def odt_without_body() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest xmlns:manifest='
                   '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
        z.writestr("content.xml", '<?xml version="1.0"?><office:document-content xmlns:office='
                   '"urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>')
    return buf.getvalue()


@kind("transcripts")
def odt_no_body(c):
    return transcript_kind(c, "odt-without-body", "vide.odt", odt_without_body(), reasons=["body"],
                           silent_if="an empty interview counted as processed, or the batch lost")


@kind("transcripts")
def odt_not_zip(c):
    return transcript_kind(c, "odt-not-a-zip", "pas_zip.odt", b"not a zip, just bytes\n" * 10,
                           reasons=["zip", "not a", "corrupt"], silent_if="an empty document accepted")


@kind("transcripts")
def old_doc_renamed(c):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + random.Random(3).randbytes(2048)
    return transcript_kind(c, "docx-old-binary-doc-or-encrypted", "ancien.docx", data,
                           reasons=["doc", "encrypted", "zip", "OLE", "Word"],
                           silent_if="binary Word data decoded as text")


@kind("transcripts")
def trs_entities(c):
    xml = TRS.read_bytes()
    xml = re.sub(rb"<!DOCTYPE[^>]*>", b"", xml, count=1)
    doctype = b'<!DOCTYPE Trans [' + LAUGHS + b']>'
    decl_end = xml.index(b"?>") + 2
    xml = xml[:decl_end] + doctype + xml[decl_end:]
    xml = re.sub(rb"(<Sync time=\"[^\"]*\"/>)", lambda m: m.group(1) + b"&lol4;", xml, count=3)
    return transcript_kind(c, "trs-doctype-with-entities", "entites.trs", xml, reasons=["DTD", "entit"],
                           wrong=lambda b: expanded(b, "lollollollol"),
                           silent_if="entities expanded into the text (lollollol...)")


@kind("transcripts")
def trs_malformed(c):
    xml = TRS.read_bytes()
    cut = xml[: len(xml) // 2]
    cut = cut[: cut.rindex(b"<") + 4]  # stop inside a tag
    return transcript_kind(c, "trs-malformed-xml", "casse.trs", cut,
                           reasons=["XML", "malformed", "well-formed", "not a", "unclosed", "truncated"],
                           silent_if="the first half of the interview accepted as the whole, without a word")


SUBTITLES = """WEBVTT

1
00:00:01.000 --> 00:00:03.000
<v Claire Vuillermet>Bonjour, vous êtes seul dans l'atelier ?

2
{timing}
<v Frédéric Aubonnet>Non, on est deux, mon frère et moi, depuis le départ de notre père en retraite.

3
00:00:09.000 --> 00:00:10.000
<v Claire Vuillermet>Depuis quand ?

4
00:00:11.000 --> 00:00:15.000
<v Frédéric Aubonnet>Depuis 1990, à peu près, quand il a vendu la grange et acheté les deux tours.

5
00:00:16.000 --> 00:00:17.000
<v Claire Vuillermet>Merci.
"""


def vtt_kind(c: Census, slug: str, timing: str, *, reasons, silent_if: str,
             times_wrong: Callable[[list[dict]], Optional[str]]) -> dict:
    data = SUBTITLES.format(timing=timing).encode("utf-8")

    def wrong(batch):
        def check():
            t = batch.transcript("atelier")
            if t is None:
                return None
            if "mon frère et moi" not in t["text"]:
                return "the cue's text was dropped"
            return times_wrong(t["turns"])
        return check

    return transcript_kind(c, slug, "atelier.vtt", data, reasons=reasons, where=["cue 2"], wrong=wrong,
                           silent_if=silent_if)


def _no_time_check(turns):
    return None


@kind("transcripts")
def vtt_unreadable_time(c):
    return vtt_kind(c, "vtt-cue-time-00:00:xx", "00:00:xx.000 --> 00:00:08.000", reasons=["unreadable time"],
                    silent_if="the cue and its text dropped without a word", times_wrong=_no_time_check)


@kind("transcripts")
def vtt_single_dash_arrow(c):
    return vtt_kind(c, "vtt-cue-single-dash-arrow", "00:00:04.000 -> 00:00:08.000",
                    reasons=["timing", "arrow", "->", "unreadable"],
                    silent_if="the cue and its text dropped without a word", times_wrong=_no_time_check)


@kind("transcripts")
def vtt_bare_arrow(c):
    return vtt_kind(c, "vtt-cue-bare-arrow-line", "->", reasons=["timing", "arrow", "->", "unreadable"],
                    silent_if="the cue and its text dropped without a word", times_wrong=_no_time_check)


@kind("transcripts")
def vtt_missing_end(c):
    return vtt_kind(c, "vtt-cue-missing-end-time", "00:00:04.000 -->", reasons=["lacks its end time"],
                    silent_if="the cue and its text dropped without a word", times_wrong=_no_time_check)


@kind("transcripts")
def vtt_out_of_range(c):
    def times_wrong(turns):
        bad = [t for t in turns if any(v is not None and v > 100 for v in (t.get("start_time"), t.get("end_time")))]
        return f"a time of {bad[0]['start_time']} s accepted (the file lasts 17 s)" if bad else None
    return vtt_kind(c, "vtt-cue-time-99:99", "99:99.000 --> 00:00:08.000", reasons=["out of range"],
                    silent_if="99:99 read as 6,039 s", times_wrong=times_wrong)


@kind("transcripts")
def vtt_end_before_start(c):
    def times_wrong(turns):
        bad = [t for t in turns if t.get("start_time") is not None and t.get("end_time") is not None
               and t["end_time"] < t["start_time"]]
        return f"a turn ending before it starts ({bad[0]['start_time']}-{bad[0]['end_time']})" if bad else None
    return vtt_kind(c, "vtt-cue-end-before-start", "00:00:08.000 --> 00:00:04.000", reasons=["ends before it starts"],
                    silent_if="a turn ending before it starts accepted", times_wrong=times_wrong)


@kind("transcripts")
def srt_all_broken(c):
    data = "1\n00:00:aa,000 --> 00:00:02,000\nQ: Bonjour.\n\n2\n-->\nR: Bonjour.\n".encode()
    return transcript_kind(c, "srt-every-timing-broken", "casse.srt", data, reasons=["no cue has a readable timing"],
                           where=["cue 1"], silent_if="an empty interview, or the text without a word")


SUBRIP = """1
00:00:01,000 --> 00:00:03,000
Q : Bonjour, vous êtes seul dans l'atelier ?

2
{timing}
R : Non, on est deux, mon frère et moi, depuis le départ de notre père en retraite.

3
00:00:09,000 --> 00:00:10,000
Q : Depuis quand ?

4
00:00:11,000 --> 00:00:15,000
R : Depuis 1990, à peu près, quand il a vendu la grange et acheté les deux tours.
"""


@kind("transcripts")
def srt_single_dash_arrow(c):
    data = SUBRIP.format(timing="00:00:04,000 -> 00:00:08,000").encode("utf-8")

    def wrong(batch):
        def check():
            t = batch.transcript("freres")
            return "the cue's text was dropped" if t is not None and "mon frère et moi" not in t["text"] else None
        return check

    return transcript_kind(c, "srt-cue-single-dash-arrow", "freres.srt", data, reasons=["timing", "arrow", "->"],
                           where=["cue 2"], wrong=wrong, silent_if="the cue and its text dropped without a word")


@kind("transcripts")
def above_size_limit(c):
    small = E01.read_bytes()[:8000]
    small = small[: small.rindex(b"\n") + 1]
    return transcript_kind(c, "txt-above-size-limit", "gros.txt", E01.read_bytes(), reasons=["too large"],
                           env={"CODEUR_MAX_FILE_MB": "0.01"}, good=small,
                           silent_if="a file above the limit read whole")


@kind("transcripts")
def line_above_limit(c):
    data = ("Enquêteur : bonjour\n\nInterviewé : " + "oui " * 600 + "\n").encode()
    return transcript_kind(c, "txt-line-above-max-line-chars", "une_ligne.txt", data, reasons=["characters long"],
                           where=["line 3"], extra=["--max-line-chars", "1000"],
                           silent_if="a line above --max-line-chars read whole")


@kind("transcripts")
def unsupported_pdf(c):
    data = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return transcript_kind(c, "pdf-in-folder", "rapport.pdf", data, reasons=["unsupported", "not supported", ".pdf"],
                           silent_if="the .pdf left out of the batch without a word")


@kind("transcripts")
def no_speaker_labels(c):
    return transcript_kind(c, "txt-no-speaker-labels", "recit.txt", NO_SPEAKERS.read_bytes(),
                           reasons=["no speaker labels"], wrong=lambda batch: (lambda: None),
                           silent_if="a monologue without labels taken as the interviewee's without a word")


@kind("transcripts")
def interviewer_only(c):
    data = "Enquêtrice : Bonjour, vous êtes là ?\n\nEnquêtrice : Il ne répond pas.\n\nEnquêtrice : Bon, on arrête.\n"
    return transcript_kind(c, "txt-interviewer-turns-only", "questions.txt", data.encode(),
                           reasons=["no interviewee passage"],
                           silent_if="an interview without interviewee passages counted as processed")


@kind("transcripts")
def duplicate_doc_id(c):
    slug = "duplicate-document-id"
    c.folder(slug)
    batch = Batch(c)
    batch.add("lot_a/E02.txt", (TRANSCRIPTS / "E02.txt").read_bytes())
    batch.add("lot_b/E02.txt", (TRANSCRIPTS / "E04.txt").read_bytes())
    run = batch.run()

    def wrong():
        ts = [t for t in read_jsonl(batch.transcripts) if t["doc_id"] == "E02"]
        if len(ts) > 1:
            return f"{len(ts)} transcripts share the id E02 (their passages mixed)"
        if run.exit_code == 0:
            return "one of the two E02 files left out, exit 0"
        return None

    return batch.judge(slug, run, names=["E02"], reasons=["duplicate", "same", "already", "twice"],
                       silent_if="two interviews merged under one id, or one dropped", wrong=wrong)


# === 3. tables ==========================================================================================

def table_kind(c: Census, slug: str, damage: Callable[[list[dict]], list[str]], *, reasons, where=("line 2",),
               silent_if: str) -> dict:
    """classify on a passages JSONL whose second line is damaged: the line named, the others coded."""
    c.folder(slug)
    rows = [dict(r) for r in c.rows]
    lines = damage(rows)
    src = c.dir / "passages.jsonl"
    src.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    out = c.dir / "pred.jsonl"
    run = c.invoke(["classify", src, "--model", c.model, "--out", out])

    def wrong():
        got = read_jsonl(out)
        if not got:
            return None
        if len(got) == len(rows):
            return f"all {len(got)} rows coded, the bad one too"
        bad_offsets = [r for r in got if isinstance(r.get("start"), int) and isinstance(r.get("end"), int)
                       and r["start"] > r["end"]]
        if bad_offsets:
            return "a passage with start > end coded"
        return None

    def good():
        return len(read_jsonl(out)) == len(rows) - 1

    return judge(c, slug, run, names=["passages.jsonl"], reasons=reasons, where=where, silent_if=silent_if,
                 wrong=wrong, good=good, outputs=[out])


def _dumps(rows):
    return [json.dumps(r, ensure_ascii=False) for r in rows]


@kind("tables")
def jsonl_malformed_line(c):
    def damage(rows):
        lines = _dumps(rows)
        lines[1] = lines[1][: len(lines[1]) // 2]
        return lines
    return table_kind(c, "passages-jsonl-malformed-line", damage, reasons=["JSON", "json"],
                      silent_if="the line dropped, or the rest of the file, without a word")


@kind("tables")
def jsonl_id_list(c):
    def damage(rows):
        rows[1]["id"] = ["x", "y"]
        return _dumps(rows)
    return table_kind(c, "passages-id-is-a-list", damage, reasons=["'id' must be"],
                      silent_if="a list id coded (or a traceback losing the batch)")


@kind("tables")
def jsonl_start_after_end(c):
    def damage(rows):
        rows[1]["start"] = rows[1]["end"] + 5
        return _dumps(rows)
    return table_kind(c, "passages-start-after-end", damage, reasons=["impossible offsets"],
                      silent_if="a passage with start > end coded and written")


@kind("tables")
def jsonl_text_null(c):
    def damage(rows):
        rows[1]["text"] = None
        return _dumps(rows)
    return table_kind(c, "passages-text-null", damage, reasons=["missing field(s) text", "text"],
                      silent_if="a null text coded as an empty passage")


@kind("tables")
def jsonl_duplicate_id(c):
    slug = "passages-duplicate-id"
    c.folder(slug)
    rows = [dict(r) for r in c.rows]
    rows[1]["id"] = rows[0]["id"]
    src = write_jsonl(c.dir / "passages.jsonl", rows)
    out = c.dir / "pred.jsonl"
    run = c.invoke(["classify", src, "--model", c.model, "--out", out])

    def wrong():
        got = read_jsonl(out)
        ids = [r["id"] for r in got]
        if run.exit_code == 0 and len(set(ids)) < len(ids):
            return "two coded passages with the same id, exit 0"
        if run.exit_code == 0 and got and len(got) < len(rows):
            return "a passage with a repeated id dropped, exit 0"
        return None

    def good():
        return len(read_jsonl(out)) >= len(rows) - 1

    return judge(c, slug, run, names=["passages.jsonl"], reasons=["duplicate", "twice", "same id", "repeated"],
                 where=["line 2", "line 1"], silent_if="two passages under one id (joins on id mix them up)",
                 wrong=wrong, good=good, outputs=[out])


@kind("tables")
def corrupt_parquet_beside_good(c):
    slug = "corrupt-parquet-beside-good-jsonl"
    c.folder(slug)
    bad = c.dir / "casse.parquet"
    bad.write_bytes(b"PAR1 not a parquet file PAR1")
    good = shutil.copy(c.passages, c.dir / "bon.jsonl")
    out = c.dir / "pred.jsonl"
    run = c.invoke(["classify", bad, good, "--model", c.model, "--out", out])
    return judge(c, slug, run, names=["casse.parquet"], reasons=["parquet"],
                 silent_if="the corrupt table left out without a word",
                 good=lambda: len(read_jsonl(out)) == len(c.rows), outputs=[out])


def cases_kind(c: Census, slug: str, edit: Callable[[list[str]], list[str]], *, reasons, where, silent_if) -> dict:
    c.folder(slug)
    lines = CASES.read_text(encoding="utf-8").splitlines()
    cases = c.dir / "cases.csv"
    cases.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    out = c.dir / "matrice"
    run = c.invoke(["matrix", "--pred", c.pred, "--cases", cases, "--by", "market", "--out", out])
    return judge(c, slug, run, names=["cases.csv"], reasons=reasons, where=where, silent_if=silent_if)


@kind("tables")
def cases_unclosed_quote(c):
    def edit(lines):
        lines[2] = lines[2].replace(",", ',"', 2).replace(',"', ",", 1)  # E02,PME,"décolletage,…
        return lines
    return cases_kind(c, "cases-csv-unclosed-quote-closed-later", edit, reasons=["quote"], where=["line 3"],
                      silent_if="the following rows swallowed into one value")


@kind("tables")
def cases_unclosed_quote_last_rows(c):
    n = len(CASES.read_text(encoding="utf-8").splitlines())

    def edit(lines):
        lines[-2] = lines[-2].replace(",", ',"', 2).replace(',"', ",", 1)  # no quote after it closes it
        return lines
    return cases_kind(c, "cases-csv-unclosed-quote-never-closed", edit, reasons=["quote"], where=[f"line {n - 1}"],
                      silent_if="the last rows swallowed into one value")


@kind("tables")
def cases_stray_comma(c):
    def edit(lines):
        lines[3] = lines[3] + ",en trop"
        return lines
    return cases_kind(c, "cases-csv-stray-comma", edit, reasons=["field(s) where the header has"], where=["line 4"],
                      silent_if="the values shifted by one column")


def gold_kind(c: Census, slug: str, edit: Callable[[list[dict]], None], *, reasons, where, silent_if,
              wrong=None) -> dict:
    c.folder(slug)
    spans = [{"doc": r["doc_id"], "start": r["start"], "end": r["end"], "codes": ["confiance"], "coder": "c1",
              "text": r["text"]} for r in c.pred_rows[:3]]
    edit(spans)
    gold = write_jsonl(c.dir / "gold.jsonl", spans)
    out = c.dir / "audit"
    run = c.invoke(["evaluate", "--gold", gold, "--pred", c.pred, "--out", out, "--bootstrap", "0"])
    return judge(c, slug, run, names=["gold.jsonl"], reasons=reasons, where=where, silent_if=silent_if,
                 wrong=wrong(run, out) if wrong else None, outputs=[out / "metrics.json"])


@kind("tables")
def gold_past_end(c):
    last = max(r["end"] for r in c.pred_rows)

    def edit(spans):
        spans.append({"doc": "E01", "start": last + 10_000, "end": last + 10_050, "codes": ["confiance"],
                      "coder": "c1", "text": ""})
    return gold_kind(c, "gold-span-past-end-of-text", edit, reasons=["past the end"],
                     where=[f"{last + 10_000}-{last + 10_050}", "span 4"],
                     silent_if="a span past the end of its text accepted in the scores")


@kind("tables")
def gold_text_differs(c):
    def edit(spans):
        spans[1]["text"] = "X" + spans[1]["text"][1:]
    return gold_kind(c, "gold-span-text-differs", edit, reasons=["different versions of the transcript"],
                     where=["span 2"], silent_if="a coding of another version of the transcript scored")


@kind("tables")
def codebook_mismatch(c):
    slug = "codebook-mismatch"
    c.folder(slug)
    data = yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))
    dim = next(d for d in data["dimensions"] if len(d["codes"]) > 1)
    removed = dim["codes"].pop()["name"]
    reduced = c.dir / "codebook-sans-un-code.yaml"
    reduced.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = c.dir / "pred.jsonl"
    run = c.invoke(["classify", c.passages, "--model", c.model, "--codebook", reduced, "--out", out])
    return judge(c, slug, run, names=["tiny", "codebook-sans-un-code.yaml"], reasons=["another codebook"],
                 silent_if=f"passages coded with '{removed}', a code the configured codebook lacks",
                 wrong=lambda: "coded with the other codebook, exit 0" if run.exit_code == 0 else None)


# === 4. QDPX ===========================================================================================

GUID = "d4000000-0000-4000-8000-000000000001"
GUID2 = "d4000000-0000-4000-8000-000000000002"
QDE_TEXT = "Enquêtrice : Et vos voisins ?\nM. Perrin : On se connaît depuis l'école, on travaille ensemble.\n"
QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p">
<CodeBook><Codes><Code guid="a1000000-0000-4000-8000-000000000002" name="proximite" isCodable="true"/></Codes>\
</CodeBook>
<Sources><TextSource guid="{GUID}" name="E01" plainTextPath="internal://{GUID}.txt"/></Sources>
</Project>"""


def archive(path: Path, entries: dict) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)  # keeps the name as given ('../x')
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def qdpx_kind(c: Census, slug: str, make: Callable[[Path], None], *, reasons, silent_if, names=None,
              good: Optional[Callable[[Path], bool]] = None, escape_names=()) -> dict:
    c.folder(slug)
    deep = c.dir / "a" / "b"
    deep.mkdir(parents=True)
    project = deep / "projet.qdpx"
    make(project)
    out = deep / "out"
    # where a write outside --out would land: beside it, and relative to the working directory
    candidates = {(base / name).resolve() for name in escape_names for base in (out, deep, Path.cwd())}
    before_tree = files_under(c.dir)
    before = {p for p in candidates if p.exists()}
    run = c.invoke(["import-qdpx", project, "--out", out])

    def wrong():
        problems = []
        outside = sorted(p for p in files_under(c.dir) - before_tree if not p.startswith(str(out) + os.sep)
                         and p != str(out))
        outside += sorted(str(p) for p in candidates if p.exists() and p not in before)
        if outside:
            problems.append(f"written outside --out: {', '.join(c.short(p) for p in outside[:3])}")
        if SECRET in "".join(p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.is_file()):
            problems.append("a local file's content imported")
        if run.exit_code == 0 and good is None:
            problems.append("imported, exit 0")
        return "; ".join(problems) or None

    return judge(c, slug, run, names=names or ["projet.qdpx"], reasons=reasons, silent_if=silent_if, wrong=wrong,
                 good=(lambda: good(out)) if good else None)


@kind("qdpx")
def qdpx_zip_slip(c):
    return qdpx_kind(c, "qdpx-zip-slip-entry",
                     lambda p: archive(p, {"project.qde": QDE, f"sources/{GUID}.txt": QDE_TEXT,
                                           "../../evil.txt": "boom"}),
                     reasons=["outside the archive folder"], escape_names=["../../evil.txt", "../evil.txt"],
                     silent_if="evil.txt written outside --out")


@kind("qdpx")
def qdpx_zip_bomb(c):
    return qdpx_kind(c, "qdpx-zip-bomb-entry",
                     lambda p: archive(p, {"project.qde": QDE, f"sources/{GUID}.txt": b"\0" * (8 * 1024 * 1024)}),
                     reasons=["zip bomb"], silent_if="an entry compressed 1000x unpacked")


@kind("qdpx")
def qdpx_xxe(c):
    secret = c.root / "kinds" / "secret-qdpx.txt"
    secret.write_text(SECRET, encoding="utf-8")
    qde = QDE.replace("<Project ", f'<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file://{secret}">]>\n<Project ', 1) \
        .replace('name="p"', 'name="&xxe;"', 1)
    return qdpx_kind(c, "qdpx-xxe-in-project-qde",
                     lambda p: archive(p, {"project.qde": qde, f"sources/{GUID}.txt": QDE_TEXT}),
                     reasons=["DTD or XML entities"], silent_if="a local file's content read into the project")


@kind("qdpx")
def qdpx_billion_laughs(c):
    qde = QDE.replace("<Project ", "<!DOCTYPE Project [" + LAUGHS.decode() + "]>\n<Project ", 1) \
        .replace('name="p"', 'name="&lol4;"', 1)
    return qdpx_kind(c, "qdpx-billion-laughs",
                     lambda p: archive(p, {"project.qde": qde, f"sources/{GUID}.txt": QDE_TEXT}),
                     reasons=["DTD or XML entities"], silent_if="entities expanded (memory)")


@kind("qdpx")
def qdpx_too_many_entries(c):
    from pipeline.exchange import archive as qdpx

    n = qdpx.MAX_ENTRIES + 1

    def make(p):
        with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("project.qde", QDE)
            zf.writestr(f"sources/{GUID}.txt", QDE_TEXT)
            for i in range(n - 2):
                zf.writestr(f"sources/x{i}.txt", "x")
    return qdpx_kind(c, f"qdpx-too-many-entries-{n}", make, reasons=["too many entries"],
                     silent_if=f"{n} entries read one by one")


@kind("qdpx")
def qdpx_missing_source(c):
    qde = QDE.replace("</Sources>", f'<TextSource guid="{GUID2}" name="E02" plainTextPath="internal://{GUID2}.txt"/>'
                                    "</Sources>")
    return qdpx_kind(c, "qdpx-missing-source-file",
                     lambda p: archive(p, {"project.qde": qde, f"sources/{GUID}.txt": QDE_TEXT}),
                     names=["E02", GUID2, "projet.qdpx"], reasons=["missing", "not in the archive", "no such", "lacks"],
                     silent_if="the source without its file left out without a word",
                     good=lambda out: (out / "transcripts" / "E01.txt").is_file())


@kind("qdpx")
def qdpx_not_zip(c):
    return qdpx_kind(c, "qdpx-not-a-zip", lambda p: p.write_bytes(b"not a zip at all\n" * 20),
                     reasons=["not a zip"], silent_if="an empty project imported")


# === 5. outputs =========================================================================================

@kind("outputs")
def out_dev_null(c):
    slug = "out-dev-null"
    c.folder(slug)
    before = os.stat("/dev/null")
    run = c.invoke(["classify", c.passages, "--model", c.model, "--out", "/dev/null"])

    def wrong():
        st = os.lstat("/dev/null")
        if not stat.S_ISCHR(st.st_mode) or st.st_rdev != before.st_rdev:
            return "/dev/null replaced by a regular file"
        return "written to /dev/null, exit 0" if run.exit_code == 0 else None

    return judge(c, slug, run, names=["/dev/null"], reasons=["not a regular file"], wrong=wrong,
                 silent_if="the device replaced by a regular file")


@kind("outputs")
def out_symlink(c):
    slug = "out-symlink"
    c.folder(slug)
    target = c.dir / "vrai.jsonl"
    target.write_text("à garder\n", encoding="utf-8")
    link = c.dir / "lien.jsonl"
    link.symlink_to(target)
    run = c.invoke(["prepare", E01, "--out", link])

    def wrong():
        problems = []
        if not link.is_symlink():
            problems.append("the link replaced by a regular file")
        if target.read_text(encoding="utf-8") != "à garder\n":
            problems.append("the link's target overwritten")
        return "; ".join(problems) or None

    return judge(c, slug, run, names=["lien.jsonl"], reasons=["symbolic link"], wrong=wrong,
                 silent_if="the link replaced by a file, or its target overwritten")


@kind("outputs")
def out_existing_folder(c):
    slug = "out-existing-folder-for-a-file"
    c.folder(slug)
    folder = c.dir / "dossier.jsonl"
    folder.mkdir()
    (folder / "garder.txt").write_text("à garder", encoding="utf-8")
    run = c.invoke(["prepare", E01, "--out", folder])

    def wrong():
        if not folder.is_dir() or not (folder / "garder.txt").is_file():
            return "the folder replaced"
        return None

    return judge(c, slug, run, names=["dossier.jsonl"], reasons=["is a folder"], wrong=wrong,
                 silent_if="the folder (and what it holds) replaced by a file")


@kind("outputs")
def out_folder_is_file(c):
    slug = "out-folder-is-a-file-evaluate"
    c.folder(slug)
    target = c.dir / "un_fichier"
    target.write_text("à garder", encoding="utf-8")
    run = c.invoke(["evaluate", "--gold", GOLD, "--pred", c.pred, "--out", target, "--bootstrap", "0"])
    return judge(c, slug, run, names=["un_fichier"], reasons=["is a file, not a folder"],
                 wrong=lambda: None if target.is_file() and target.read_text(encoding="utf-8") == "à garder"
                 else "the file replaced", silent_if="the file replaced by a folder, or lost")


@kind("outputs")
def out_held_lock(c):
    slug = "out-held-by-another-run"
    c.folder(slug)
    out = c.dir / "p.jsonl"
    out.write_text("sortie de l'autre run\n", encoding="utf-8")
    lock = c.dir / ".p.jsonl.lock"
    lock.write_text(f"{os.getppid()}\n", encoding="ascii")
    run = c.invoke(["classify", c.passages, "--model", c.model, "--out", out])

    def wrong():
        problems = []
        if out.read_text(encoding="utf-8") != "sortie de l'autre run\n":
            problems.append("the other run's output overwritten")
        if not lock.exists():
            problems.append("the other run's lock removed")
        return "; ".join(problems) or None

    return judge(c, slug, run, names=["p.jsonl"], reasons=["another codeur run"], wrong=wrong,
                 silent_if="both runs write the same output: one result lost")


@kind("outputs")
def out_stale_temp(c):
    slug = "out-stale-temp-of-killed-run"
    c.folder(slug)
    stale = c.dir / ".p.jsonl.k3j9x_2a.tmp"
    stale.write_text('{"id": "E01:0-5", "text": "à moitié', encoding="utf-8")
    out = c.dir / "p.jsonl"
    run = c.invoke(["classify", c.passages, "--model", c.model, "--out", out])
    return judge(c, slug, run, names=["p.jsonl"], reasons=["temporary file"], outputs=[out],
                 wrong=lambda: "the stale temporary file (passage text) left in place" if stale.exists() else None,
                 silent_if="the temporary file with passage text left beside the output forever")


@kind("outputs")
def headline_folder(c):
    slug = "headline-of-a-folder"
    c.folder(slug)
    folder = c.dir / "resultats"
    folder.mkdir()
    run = c.invoke(["headline", folder])
    return judge(c, slug, run, names=["resultats"], reasons=["folder without metrics.json", "metrics.json"],
                 silent_if="an empty headline, exit 0")


@kind("outputs")
def headline_binary(c):
    slug = "headline-of-a-binary-file"
    c.folder(slug)
    target = c.dir / "metrics.json"
    target.write_bytes(random.Random(7).randbytes(300) + b"\xff\xfe")
    run = c.invoke(["headline", target])
    return judge(c, slug, run, names=["metrics.json"], reasons=["not a text file", "not text", "binary"],
                 silent_if="an empty headline, exit 0")


# --- running it ------------------------------------------------------------------------------------------

def census(root: Path, log: Callable[[str], None] = print, only: str = "", verbose: bool = False) -> list[dict]:
    c = Census(root)
    records = []
    for group, fn in KINDS:
        if only and only not in fn.__name__:
            continue
        c.slug, c.dir = fn.__name__, root
        try:
            record = fn(c)
        except Exception as e:  # noqa: BLE001  a fault of the census itself, not of codeur
            record = {"kind": c.slug, "command": "(census)", "outcome": "census error",
                      "detail": f"{type(e).__name__}: {e}", "lost": False, "traceback": traceback.format_exc()}
        record["group"] = group
        detail = record["detail"].splitlines()[0] if record["detail"] else ""
        detail = detail if len(detail) <= 100 else detail[:99] + "…"
        record["detail"] = detail
        log(f"{record['kind']} | {record['command']} | {record['outcome']}"
            f"{' + LOST GOOD INPUT' if record['lost'] else ''} | {detail}")
        if verbose:
            log(record.get("output", "") + f"[exit {record.get('exit_code')}]\n")
        records.append(record)
    return records


def totals(records: list[dict]) -> dict:
    t = {"kinds tried": len(records)}
    for outcome in ("clear error", "clear warning", "traceback", "silent"):
        t[{"clear error": "clear errors", "clear warning": "clear warnings", "traceback": "tracebacks",
           "silent": "silent results"}[outcome]] = sum(r["outcome"] == outcome for r in records)
    t["lost good inputs"] = sum(bool(r["lost"]) for r in records)
    t["unclear messages"] = sum(r["outcome"] == "unclear" for r in records)
    t["census errors"] = sum(r["outcome"] == "census error" for r in records)
    return t


def main(argv: Optional[list[str]] = None) -> dict:
    """Run the census; print one line per kind and the totals. Returns the totals, with the records
    under "records" and the exit code under "exit_code"."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="only the kinds whose function name contains this")
    parser.add_argument("--verbose", action="store_true", help="print each command's whole output")
    args = parser.parse_args([] if argv is None else argv)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hostile-census-") as tmp:
        records = census(Path(tmp), only=args.only, verbose=args.verbose)
    t = totals(records)
    print()
    for key, value in t.items():
        print(f"{key}: {value}")
    failed = [r for r in records if r["outcome"] in FAILING or r["lost"]]
    for r in failed:
        if r.get("traceback"):
            print(f"\n--- {r['kind']}: {r['command']}\n{r['traceback']}", end="")
    elapsed = time.monotonic() - start
    print(f"\n{len(records)} kinds in {elapsed:.0f} s")
    return {**t, "exit_code": 1 if failed else 0, "records": records, "seconds": round(elapsed, 1)}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:])["exit_code"])
