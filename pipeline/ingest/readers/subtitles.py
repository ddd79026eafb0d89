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

from ...core.errors import InputFileError
from ...core.limits import check_line_lengths
from ...core.transcript import Transcript
from .encoding import decode_text, read_bytes
from .labels import UNKNOWN_SPEAKER, LabelFinder
from .layout import NO_LABELS_WARNING, SpokenTurn, lay_out_spoken_turns
from .speakers import SpeakerConfig

STAMP_RE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")
VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+([^>]*))?>")
TAG_RE = re.compile(r"<[^>\n]{0,200}>")  # <c.red>, </i>, <00:00:01.500>, <lang fr>, </v>...
ASS_RE = re.compile(r"\{\\[^}\n]{0,100}\}")  # {\an8}: SubRip positioning


@dataclass
class _Caption:
    speaker: str | None  # None: the caption names no speaker
    text: str
    start: float | None  # None: the cue's timing line could not be read (its text is kept)
    end: float | None


def read_subtitles(path: Path, config: SpeakerConfig) -> Transcript:
    decoded = decode_text(read_bytes(path), path)
    check_line_lengths(decoded.text, path)  # before the label search, which is slow on a huge line
    fmt = path.suffix.lower().lstrip(".")
    lines = decoded.text.split("\n")
    warnings = list(decoded.warnings)
    if fmt == "vtt" and not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        warnings.append("no WEBVTT header on the first line; read as WebVTT anyway")

    cues, cue_warnings = _cues(lines)
    if not cues:
        raise InputFileError("no subtitle cues found (no 'hh:mm:ss.mmm --> hh:mm:ss.mmm' timing line)",
                             path=str(path))
    if all(start is None for start, _, _ in cues):
        raise InputFileError(f"no cue has a readable timing line ({cue_warnings[0]})", path=str(path),
                             hint="timings look like 00:01:02.500 --> 00:01:05.000")
    warnings += cue_warnings
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


#: A timing line whose arrow is mistyped (`->`, `- >`, `--->` is fine): only times, digits and
#: separators around it, so that an arrow inside a caption's text is not taken for one.
BROKEN_ARROW_RE = re.compile(r"\s*[\d:.,]*\s*(?:-\s*>|=>|—>|–>)\s*[\d:.,]*(?:\s+\S.*)?")


def _cues(lines: list[str]) -> tuple[list[tuple[float | None, float | None, str]], list[str]]:
    """(start, end, payload) of every cue, and one warning per cue whose timing line is broken
    (unreadable or out-of-range time, a missing side, an end before the start): such a cue keeps
    its text, without times. Identifiers, NOTE, STYLE and REGION blocks are skipped."""
    cues = []
    warnings = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        broken_arrow = "-->" not in line and BROKEN_ARROW_RE.fullmatch(line) is not None
        if "-->" not in line and not broken_arrow:
            continue
        number, line_no = len(cues) + 1, i
        if broken_arrow:
            start, end, problem = None, None, "the arrow of the timing line is not '-->'"
        else:
            start, end, problem = _timing(line)
        payload = []
        while i < len(lines) and lines[i].strip():
            payload.append(lines[i])
            i += 1
        if problem:
            warnings.append(f"cue {number} (line {line_no}): {problem} in {line.strip()!r}; "
                            + ("its text is kept without times" if payload else "it holds no text"))
            start = end = None
        cues.append((start, end, "\n".join(payload)))
    return cues, warnings


def _timing(line: str) -> tuple[float | None, float | None, str | None]:
    """Start and end seconds of a cue timing line, or the reason it cannot be used."""
    left, _, right = line.partition("-->")
    left, right = left.strip(), (right.split() or [""])[0]
    if not left or not right:
        return None, None, f"the timing line lacks its {'start' if not left else 'end'} time"
    start, problem = _seconds(left)
    if problem is None:
        end, problem = _seconds(right)
    if problem is not None:
        return None, None, problem
    if end < start:
        return None, None, "the cue ends before it starts"
    return start, end, None


def _seconds(stamp: str) -> tuple[float | None, str | None]:
    m = STAMP_RE.match(stamp)
    if not m:
        return None, f"unreadable time {stamp!r}"
    hours, minutes, seconds, fraction = m.groups()
    if int(seconds) > 59 or (int(minutes) > 59):
        return None, f"time {stamp!r} out of range (minutes and seconds go up to 59)"
    value = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return value + (float("0." + fraction) if fraction else 0.0), None


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
            if caption.end is not None:
                turns[-1].end_time = caption.end
        else:
            turns.append(SpokenTurn(caption.speaker or UNKNOWN_SPEAKER, caption.text, caption.start, caption.end))
    return turns
