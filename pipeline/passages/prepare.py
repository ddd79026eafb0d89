"""Batch preparation: transcript files → `Transcript`s → interviewee `Passage`s.

One bad file never stops the batch (unless `strict`): it is reported with its name and reason,
the others are processed, and the summary says what was skipped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..core.errors import CodeurError, InputFileError, TableError
from ..core.tables import read_rows
from ..core.transcript import Passage, Transcript

#: Documentation files that sit beside transcripts in real folders; skipped when a folder is walked.
DOC_FILE_STEMS = {"readme", "licence", "license", "notice", "copying", "format"}


@dataclass
class FileReport:
    path: str
    doc_id: str = ""
    status: str = "ok"  # ok | error | skipped (an input left out) | ignored (documentation beside transcripts)
    reason: str = ""
    turns: int = 0
    passages: int = 0
    words: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class PrepareResult:
    transcripts: list[Transcript]
    passages: list[Passage]
    reports: list[FileReport]

    @property
    def failed(self) -> list[FileReport]:
        return [r for r in self.reports if r.status == "error"]

    @property
    def skipped(self) -> list[FileReport]:
        return [r for r in self.reports if r.status == "skipped"]


def collect_inputs(paths: Iterable[str | Path]) -> tuple[list[Path], list[FileReport]]:
    """Expand folders (recursively, sorted) into transcript files.

    A file named explicitly is always attempted (an unknown extension is then an error); inside a
    folder, hidden files, sidecar metadata and documentation files are skipped and reported.
    """
    from ..ingest.readers import CONVERSION_HINTS, SUPPORTED_EXTENSIONS

    files: list[Path] = []
    notes: list[FileReport] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                rel = f.relative_to(p)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                name = f.name.lower()
                if name.endswith((".meta.yaml", ".meta.yml", ".meta.json")):
                    continue
                if f.stem.lower().split(".")[0] in DOC_FILE_STEMS:
                    notes.append(FileReport(str(f), status="ignored", reason="documentation file, not a transcript"))
                    continue
                if f.suffix.lower() not in SUPPORTED_EXTENSIONS:
                    hint = CONVERSION_HINTS.get(f.suffix.lower())
                    notes.append(FileReport(str(f), status="skipped", reason=f"unsupported extension "
                                            f"{f.suffix or '(none)'}" + (f" ({hint})" if hint else "")))
                    continue
                files.append(f)
        elif p.exists():
            files.append(p)
        else:
            notes.append(FileReport(str(p), status="error", reason="no such file or folder"))
    return files, notes


def ingest(files: Iterable[Path], *, speaker_config=None, strict: bool = False,
           on_file: Callable[[FileReport], None] | None = None) -> tuple[list[Transcript], list[FileReport]]:
    from ..ingest.readers import read_transcript

    transcripts: list[Transcript] = []
    reports: list[FileReport] = []
    seen: dict[str, str] = {}
    for f in files:
        rep = FileReport(str(f))
        try:
            tr = read_transcript(f, speaker_config)
            if tr.doc_id in seen:
                raise InputFileError(f"duplicate document id {tr.doc_id!r} (also {seen[tr.doc_id]})", path=str(f),
                                     hint="rename one of the files")
            seen[tr.doc_id] = str(f)
        except CodeurError as e:
            if strict:
                raise
            rep.status, rep.reason = "error", e.reason + (f" ({e.hint})" if e.hint else "")
        except (OSError, UnicodeError, ValueError) as e:  # a reader's library gave up: still name the file
            if strict:
                raise InputFileError(f"{type(e).__name__}: {e}", path=str(f)) from e
            rep.status, rep.reason = "error", f"{type(e).__name__}: {e}"
        except Exception as e:  # noqa: BLE001  last resort: one odd file never costs the rest of the batch
            reason = (f"unexpected failure while reading ({type(e).__name__}: {e}); the file is probably "
                      "damaged: open and save it again, and please report it")
            if strict:
                raise InputFileError(reason, path=str(f)) from e
            rep.status, rep.reason = "error", reason
        else:
            transcripts.append(tr)
            rep.doc_id, rep.turns, rep.warnings = tr.doc_id, len(tr.turns), list(tr.warnings)
        reports.append(rep)
        if on_file:
            on_file(rep)
    return transcripts, reports


def segment(transcripts: list[Transcript], *, segmenter=None) -> list[Passage]:
    from .segment import Segmenter

    seg = segmenter or Segmenter()
    return [p for ps in seg.segment_many(transcripts) for p in ps]


def prepare(paths: Iterable[str | Path], *, speaker_config=None, segmenter=None, strict: bool = False,
            on_file: Callable[[FileReport], None] | None = None) -> PrepareResult:
    files, notes = collect_inputs(paths)
    if strict and any(n.status == "error" for n in notes):
        bad = next(n for n in notes if n.status == "error")
        raise InputFileError(bad.reason, path=bad.path)
    transcripts, reports = ingest(files, speaker_config=speaker_config, strict=strict, on_file=on_file)
    passages = segment(transcripts, segmenter=segmenter)
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    for r in reports:
        if r.status == "ok":
            ps = by_doc.get(r.doc_id, [])
            r.passages, r.words = len(ps), sum(p.n_words for p in ps)
            if not ps:
                r.status, r.reason = "skipped", ("no interviewee passage: check the speaker roles "
                                                 "(role_method), or name them in a FILE.meta.yaml sidecar")
    return PrepareResult(transcripts, passages, notes + reports)


# --- tables on disk ---------------------------------------------------------------------------

def load_transcripts(path: str | Path) -> list[Transcript]:
    """Read `codeur ingest` output; a malformed line is an error naming it (offsets depend on it)."""

    got = read_rows(path, required=("doc_id", "text", "turns"))
    if got.errors:
        raise TableError(got.errors[0], path=str(path), hint=f"{len(got.errors)} bad line(s); rerun `codeur ingest`")
    out = []
    for d in got.rows:
        try:
            out.append(Transcript.from_dict(d))
        except (KeyError, TypeError, ValueError) as e:
            raise TableError(f"transcript {d.get('doc_id')!r}: not a transcript ({e})", path=str(path)) from None
    return out
