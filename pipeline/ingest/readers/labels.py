"""Speaker labels at the start of a line: "Nom :", "[00:12:03] Nom :", "**Nom :**", "Q :"...

A label is believed only when it looks like a name and is a role alias, recurs in the document, or
comes in a deliberate layout (timestamp, bold); so "Alors là je lui ai dit : non" stays inside the
turn that contains it. The layouts themselves live in configs/speakers.yaml.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from .speakers import SpeakerConfig, speaker_key

# Labels are looked for in the first characters of a line only: a 50 MB single-line file then
# costs no more than a short one, whatever regex the user adds.
LABEL_WINDOW = 160

UNKNOWN_SPEAKER = "?"  # speaker of text that carries no label at all

_CLOCK_RE = re.compile(r"^(?:(\d{1,2}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")
# One word of a name: a capital or a digit first ("Perrin", "P1", "M.", "Jean-Pierre",
# "Interviewé(e)", "d'Arc" after its particle), letters, digits, - ' . · inside.
_NAME_WORD_RE = re.compile(r"^[^\W_][\w'.·\-]*(?:\([^\W\d_]{1,3}\))?$")
_TRAILING_NOTE_RE = re.compile(r"\s*\([^()]{1,30}\)$")  # "Bernard Perrin (gérant)"


def parse_clock(value: str) -> float | None:
    """'00:12:03' → 723.0; '12:03' → 723.0 (mm:ss); '1:02:03,5' → 3723.5; anything else → None."""
    m = _CLOCK_RE.match(value.strip())
    if not m:
        return None
    hours, minutes, seconds, fraction = m.groups()
    if int(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        return None
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


@dataclass(frozen=True)
class Label:
    speaker: str
    content_start: int  # offset in the line where the spoken text begins
    time: float | None = None
    layout: str = ""


@dataclass
class LabelScan:
    labels: list[Label | None]  # one per line: the believed label, or None
    warnings: list[str]


class LabelFinder:
    """Finds believable speaker labels in a sequence of lines (file lines, paragraphs, captions)."""

    def __init__(self, config: SpeakerConfig):
        self.config = config
        self._layouts = [(layout, layout.regex) for layout in config.labels]

    def looks_like_name(self, name: str) -> bool:
        """1–5 capitalised words (particles allowed inside), or a role alias in any case."""
        if self.config.alias_role(name):
            return True
        if not name or len(name) > self.config.max_label_chars:
            return False
        words = _TRAILING_NOTE_RE.sub("", name).split()
        if not words or len(words) > self.config.max_label_words:
            return False
        if self.config.is_not_speaker(words[0]):
            return False
        for i, word in enumerate(words):
            if i > 0 and self.config.is_particle(word):
                continue
            if i > 0 and "'" in word and self.config.is_particle(word.split("'", 1)[0] + "'"):
                word = word.split("'", 1)[1]  # "d'Arc" → "Arc"
            if not _NAME_WORD_RE.match(word) or not (word[0].isupper() or word[0].isdigit()):
                return False
        return words[0][0].isalpha()

    def candidate(self, line: str) -> tuple[Label, bool] | None:
        """The first layout whose name looks like one: (label, strong layout?)."""
        window = line[:LABEL_WINDOW]
        for layout, regex in self._layouts:
            m = regex.match(window)
            if not m:
                continue
            name = " ".join(m.group("name").split())
            if not self.looks_like_name(name):
                continue
            time_text = m.groupdict().get("time")
            time = parse_clock(time_text) if time_text else None
            return Label(name, m.end(), time, layout.name), layout.strong
        return None

    def scan(self, lines: Sequence[str], unit: str = "line") -> LabelScan:
        """Believed labels for every line; `unit` names a line in warnings ("line", "paragraph")."""
        candidates = [self.candidate(line) for line in lines]
        counts = Counter(speaker_key(c[0].speaker) for c in candidates if c)
        trusted = {
            key for key in counts
            if counts[key] >= 2 or self.config.alias_role(key)
        } | {speaker_key(c[0].speaker) for c in candidates if c and c[1]}
        labels: list[Label | None] = []
        warnings: list[str] = []
        for number, found in enumerate(candidates, 1):
            if found is None:
                labels.append(None)
                continue
            label, _strong = found
            key = speaker_key(label.speaker)
            if key in trusted:
                labels.append(label)
            elif trusted:
                # A one-off name in a labelled document: most likely a third person who speaks once.
                labels.append(label)
                warnings.append(f"speaker {label.speaker!r} appears only once ({unit} {number}); "
                                "taken as a speaker")
            else:
                labels.append(None)
        return LabelScan(labels, warnings)
