"""Readers: every transcript format researchers have → one `Transcript` (first stage of codeur).

`read_transcript(path)` picks the reader from the file extension, finds the speaker turns,
reads the optional `<file>.meta.yaml` beside the file, and assigns speaker roles.

    >>> t = read_transcript("entretiens/E07.docx")
    >>> [(turn.speaker, turn.role) for turn in t.turns][:2]
    [('Enquêtrice', 'interviewer'), ('Bernard Perrin', 'interviewee')]
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ...core.errors import InputFileError, UnsupportedFormatError
from ...core.limits import check_line_lengths
from ...core.transcript import Transcript
from .docx import read_docx
from .labels import UNKNOWN_SPEAKER
from .odt import read_odt
from .sidecar import is_sidecar, read_sidecar
from .speakers import SpeakerConfig, load_speaker_config
from .subtitles import read_subtitles
from .text import read_text_file
from .transcriber import read_trs

Reader = Callable[[Path, SpeakerConfig], Transcript]

# The registry: file extension (lower case) → reader. A new format is one module and one line here.
READERS: dict[str, Reader] = {
    ".txt": read_text_file,
    ".md": read_text_file,
    ".docx": read_docx,
    ".odt": read_odt,
    ".vtt": read_subtitles,
    ".srt": read_subtitles,
    ".trs": read_trs,
}
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(sorted(READERS))

# What to tell a user who hands us a format we do not read.
CONVERSION_HINTS = {
    ".doc": "save it as .docx from Word or LibreOffice",
    ".rtf": "save it as .docx or .txt",
    ".pdf": "export the transcript from its source as .docx or .txt",
    ".pages": "export it as .docx",
    ".sbv": "convert the captions to .srt or .vtt",
    ".xml": "if it is a Transcriber file, give it the .trs extension",
}

__all__ = [
    "READERS", "SUPPORTED_EXTENSIONS", "UNKNOWN_SPEAKER", "SpeakerConfig", "load_speaker_config",
    "read_transcript",
]


def read_transcript(path: str | Path, config: SpeakerConfig | None = None, doc_id: str | None = None) -> Transcript:
    """Read any supported transcript file into a `Transcript` with speakers and roles.

    Raises `InputFileError` (or `UnsupportedFormatError`) naming the file and the reason.
    """
    from ..roles import (
        assign_roles,  # imported here: pipeline.ingest.roles itself imports readers.speakers
    )

    path = Path(path)
    if is_sidecar(path):
        raise UnsupportedFormatError("is a metadata file for a transcript, not a transcript", path=str(path))
    extension = path.suffix.lower()
    reader = READERS.get(extension)
    if reader is None:
        what = f"unknown extension {extension!r}" if extension else "no file extension"
        raise UnsupportedFormatError(
            f"{what}; codeur reads {', '.join(SUPPORTED_EXTENSIONS)}", path=str(path),
            hint=CONVERSION_HINTS.get(extension))
    config = config if config is not None else load_speaker_config()

    transcript = reader(path, config)  # every reader opens the file through read_bytes, which checks its size
    check_line_lengths(transcript.text, path)
    if not transcript.turns:
        raise InputFileError("no speaker turns found (the file holds no spoken text)", path=str(path))
    transcript.doc_id = doc_id or path.stem
    sidecar, sidecar_path = read_sidecar(path)
    if sidecar_path is not None:
        transcript.metadata.update(sidecar)
        transcript.metadata["metadata_file"] = sidecar_path.name
    assign_roles(transcript, config)
    return transcript

