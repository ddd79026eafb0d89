"""Reader for subtitle transcripts (.vtt WebVTT, .srt SubRip), as exported by automatic
transcription tools and video platforms.

Speakers come from `<v Nom>` voice tags or, failing those, from `Nom: text` captions.
Consecutive captions of one speaker make one turn; plain text is one line per turn,
`Nom : text`, the captions joined by single spaces, with inline markup removed.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFileError
from ..transcript import Transcript
from .encoding import decode_text, read_bytes
from .labels import UNKNOWN_SPEAKER, LabelFinder
from .layout import NO_LABELS_WARNING, SpokenTurn, lay_out_spoken_turns
from .speakers import SpeakerConfig

_TIME = r"(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
TIMING_RE = re.compile(rf"^\s*({_TIME})\s*-->\s*({_TIME})")
VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+([^>]*))?>")
TAG_RE = re.compile(r"<[^>\n]{0,200}>")  # <c.red>, </i>, <00:00:01.500>, <lang fr>, </v>...
ASS_RE = re.compile(r"\{\\[^}\n]{0,100}\}")  # {\an8}: SubRip positioning


@dataclass
class _Caption:
    speaker: str | None  # None: the caption names no speaker
    text: str
    start: float
    end: float


def read_subtitles(path: Path, config: SpeakerConfig) -> Transcript:
    decoded = decode_text(read_bytes(path), path)
    fmt = path.suffix.lower().lstrip(".")
    lines = decoded.text.split("\n")
    warnings = list(decoded.warnings)
    if fmt == "vtt" and not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        warnings.append("no WEBVTT header on the first line; read as WebVTT anyway")

    cues = _cues(lines)
    if not cues:
        raise InputFileError("no subtitle cues found (no 'hh:mm:ss.mmm --> hh:mm:ss.mmm' timing line)",
                             path=str(path))
    if any(VOICE_RE.search(payload) for _, _, payload in cues):
        captions = _voiced_captions(cues)
    else:
        captions, label_warnings = _labelled_captions(cues, config)
        warnings += label_warnings
    turns = _merge(captions)
    if len(turns) == 1 and turns[0].speaker == UNKNOWN_SPEAKER:
        warnings.append(NO_LABELS_WARNING)
    layout = lay_out_spoken_turns(turns)
    return Transcript(
        doc_id=path.stem, source=str(path), format=fmt, text=layout.text, turns=layout.turns,
        metadata={"encoding": decoded.encoding, "captions": len(cues)}, warnings=warnings,
    )


def _cues(lines: list[str]) -> list[tuple[float, float, str]]:
    """(start, end, payload) of every cue; identifiers, NOTE, STYLE and REGION blocks are skipped."""
    cues = []
    i = 0
    while i < len(lines):
        m = TIMING_RE.match(lines[i])
        i += 1
        if not m:
            continue
        payload = []
        while i < len(lines) and lines[i].strip():
            payload.append(lines[i])
            i += 1
        cues.append((_seconds(m.group(1)), _seconds(m.group(2)), "\n".join(payload)))
    return cues


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    seconds = float(parts[-1])
    for unit, value in zip((60, 3600), reversed(parts[:-1])):
        seconds += unit * int(value)
    return seconds


def _clean(payload: str) -> str:
    text = TAG_RE.sub("", ASS_RE.sub("", payload))
    return " ".join(html.unescape(text).split())


def _voiced_captions(cues) -> list[_Caption]:
    captions = []
    for start, end, payload in cues:
        voices = list(VOICE_RE.finditer(payload))
        # Text before the first voice tag belongs to nobody named (the speaker continues).
        pieces = [(None, payload[: voices[0].start()] if voices else payload)]
        for k, voice in enumerate(voices):
            until = voices[k + 1].start() if k + 1 < len(voices) else len(payload)
            name = " ".join((voice.group(1) or "").split()) or None
            pieces.append((name, payload[voice.end(): until]))
        for name, piece in pieces:
            text = _clean(piece)
            if text:
                captions.append(_Caption(name, text, start, end))
    return captions


def _labelled_captions(cues, config: SpeakerConfig) -> tuple[list[_Caption], list[str]]:
    units = [(start, end, _clean(line)) for start, end, payload in cues for line in payload.split("\n")]
    units = [u for u in units if u[2]]
    scan = LabelFinder(config).scan([text for _, _, text in units], unit="caption line")
    captions = []
    speaker: str | None = None  # a label alone on its line still changes who speaks
    for (start, end, text), label in zip(units, scan.labels):
        if label is not None:
            speaker, text = label.speaker, text[label.content_start:].strip()
        if text:
            captions.append(_Caption(speaker, text, start, end))
    return captions, scan.warnings


def _merge(captions: list[_Caption]) -> list[SpokenTurn]:
    """Consecutive captions of one speaker → one turn; an unnamed caption continues the speaker."""
    turns: list[SpokenTurn] = []
    for caption in captions:
        if turns and caption.speaker in (None, turns[-1].speaker):
            turns[-1].text += " " + caption.text
            turns[-1].end_time = caption.end
        else:
            turns.append(SpokenTurn(caption.speaker or UNKNOWN_SPEAKER, caption.text, caption.start, caption.end))
    return turns
