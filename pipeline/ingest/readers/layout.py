"""From a reader's lines to `Transcript.text` and turn spans, the same way for every format.

Two shapes of input: lines of a document in which labels must be found (.txt, .md, .docx and .odt
paragraphs), and turns whose speakers the format states (subtitles, Transcriber), which are
written one per line as `Name : text`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from ...core.spans import Span
from ...core.transcript import Turn
from .labels import UNKNOWN_SPEAKER, Label, LabelFinder
from .speakers import SpeakerConfig

NO_LABELS_WARNING = "no speaker labels found: the whole text is one turn of an unknown speaker"


@dataclass
class Layout:
    """What a reader hands to `Transcript`: text, turns, warnings and how turns were found."""

    text: str
    turns: list[Turn]
    warnings: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class SpokenTurn:
    """A turn whose speaker the file format states (a subtitle voice, a Transcriber Turn)."""

    speaker: str
    text: str
    start_time: float | None = None
    end_time: float | None = None
    overlapping: bool = False


def lay_out_spoken_turns(spoken: Sequence[SpokenTurn]) -> Layout:
    """One line per turn, `Name : text` (just `text` for an unknown speaker), joined by "\\n"."""
    parts: list[str] = []
    turns: list[Turn] = []
    offset = 0
    for item in spoken:
        prefix = "" if item.speaker == UNKNOWN_SPEAKER else f"{item.speaker} : "
        start = offset + len(prefix)
        turns.append(Turn(item.speaker, Span(start, start + len(item.text)), start_time=item.start_time,
                          end_time=item.end_time, overlapping=item.overlapping))
        parts.append(prefix + item.text)
        offset += len(parts[-1]) + 1
    return Layout("\n".join(parts), turns)


def lay_out_lines(lines: Sequence[str], config: SpeakerConfig, *, given: dict[int, Label] | None = None,
                  unit: str = "line") -> Layout:
    """Find the turns in the lines of a document whose text is `"\\n".join(lines)`.

    `given` holds labels the format states outright (a docx table row `speaker | text`); other
    lines are scanned for labels. Without any label, em-dash turns are tried, then the whole text
    becomes one turn of an unknown speaker.
    """
    text = "\n".join(lines)
    starts = _line_starts(lines)
    scan = LabelFinder(config).scan(lines, unit=unit)
    labels = scan.labels
    if given:
        labels = [given.get(i, label) for i, label in enumerate(labels)]
    if any(label is not None for label in labels):
        layout = _labelled_turns(text, lines, starts, labels, unit)
        layout.warnings[:0] = scan.warnings
        used = sorted({label.layout for label in labels if label is not None})
        layout.metadata["turn_layout"] = "labels: " + ", ".join(used)
        return layout
    dashed = _dash_turns(text, lines, starts, config, unit)
    if dashed is not None:
        return dashed
    span = _strip_span(text, 0, len(text))
    turns = [Turn(UNKNOWN_SPEAKER, span)] if span is not None else []
    return Layout(text, turns, [NO_LABELS_WARNING], {"turn_layout": "unlabelled"})


def _line_starts(lines: Sequence[str]) -> list[int]:
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    return starts


def _strip_span(text: str, start: int, end: int) -> Span | None:
    """The span of [start, end) without its leading and trailing blank space; None if blank."""
    segment = text[start:end]  # str methods, not a Python loop: a turn may be 50 MB of spaces
    stripped = segment.lstrip()
    start += len(segment) - len(stripped)
    end -= len(stripped) - len(stripped.rstrip())
    return Span(start, end) if start < end else None


class _TurnBuilder:
    """Accumulates the lines of the current turn; a turn spans from its first to its last word."""

    def __init__(self, text: str, lines: Sequence[str], starts: list[int]):
        self.text, self.lines, self.starts = text, lines, starts
        self.turns: list[Turn] = []
        self._open: tuple[str, float | None, int] | None = None  # speaker, time, content start
        self._end = 0

    def open(self, speaker: str, time: float | None, line_no: int, column: int) -> None:
        self.close()
        start = self.starts[line_no] + column
        self._open, self._end = (speaker, time, start), start
        self.extend(line_no, column)

    def extend(self, line_no: int, column: int = 0) -> bool:
        """Add a line to the open turn; False if no turn is open."""
        if self._open is None:
            return False
        rest = self.lines[line_no][column:]
        if rest.strip():
            self._end = self.starts[line_no] + len(self.lines[line_no].rstrip())
        return True

    def close(self) -> None:
        if self._open is None:
            return
        speaker, time, start = self._open
        self._open = None
        span = _strip_span(self.text, start, self._end)
        if span is not None:  # a label with nothing said after it is not a turn
            self.turns.append(Turn(speaker, span, start_time=time))


def _labelled_turns(text: str, lines: Sequence[str], starts: list[int], labels: Sequence[Label | None],
                    unit: str) -> Layout:
    builder = _TurnBuilder(text, lines, starts)
    preamble: list[int] = []
    for i, label in enumerate(labels):
        if label is not None:
            builder.open(label.speaker, label.time, i, label.content_start)
        elif not builder.extend(i) and lines[i].strip():
            preamble.append(i + 1)
    builder.close()
    warnings = []
    if preamble:
        where = f"{unit} {preamble[0]}" if len(preamble) == 1 else f"{unit}s {preamble[0]}–{preamble[-1]}"
        warnings.append(f"text before the first speaker label ({where}) is not part of any turn")
    return Layout(text, builder.turns, warnings)


def _dash_turns(text: str, lines: Sequence[str], starts: list[int], config: SpeakerConfig,
                unit: str) -> Layout | None:
    """Turns opened by a dash, speakers alternating, the interviewer first.

    None unless at least two lines, and half the non-blank lines, open with a dash: a few
    bullet points in a narrative are not a dialogue.
    """
    markers = "|".join(re.escape(m) for m in config.dash_turns.markers)
    dash_re = re.compile(rf"^[ \t]*(?:{markers})[ \t]+(?=\S)")
    openings = [dash_re.match(line[:20]) for line in lines]
    n_openings = sum(1 for m in openings if m)
    if n_openings < 2 or n_openings * 2 < sum(1 for line in lines if line.strip()):
        return None
    first, second = config.dash_turns.speakers
    builder = _TurnBuilder(text, lines, starts)
    preamble: list[int] = []
    n_dashes = 0
    for i, m in enumerate(openings):
        if m:
            builder.open(first if n_dashes % 2 == 0 else second, None, i, m.end())
            n_dashes += 1
        elif not builder.extend(i) and lines[i].strip():
            preamble.append(i + 1)
    builder.close()
    warnings = []
    if preamble:
        warnings.append(f"text before the first dash turn ({unit} {preamble[0]}) is not part of any turn")
    metadata = {
        "turn_layout": "dash",
        # The convention itself says who is who; pipeline.ingest.roles reads this.
        "format_roles": {first: "interviewer", second: "interviewee"},
    }
    return Layout(text, builder.turns, warnings, metadata)
