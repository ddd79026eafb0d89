"""Position conventions of REFI-QDA selections: the standard counts Unicode code points into the
source's plain text, NVivo 12.6 UTF-16 code units (they differ after an emoji), ATLAS.ti a CRLF line
break as one character. `detect_positions` picks the one under which the selections fall on the text
they name and on word boundaries; `check_given_positions` refuses a convention given by hand that puts
them off their words across the board."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Sequence

from ..core.errors import InputFileError

#: Position conventions: the standard's, NVivo's, ATLAS.ti's.
POSITIONS = ("codepoints", "utf16", "crlf-as-one")


# --- positions ------------------------------------------------------------------------------------

class PositionScale:
    """Converts a project's positions in one convention to code-point indices of the source text."""

    def __init__(self, text: str, convention: str):
        if convention not in POSITIONS:
            raise ValueError(convention)
        self.text, self.convention = text, convention
        if convention == "utf16":  # UTF-16 unit where each astral character starts
            astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]
            self._marks = [m + j for j, m in enumerate(astral)]
            self.length = len(text) + len(astral)
        elif convention == "crlf-as-one":  # position of each CRLF, counted as one character
            lfs = crlf_lf_indices(text)
            self._marks = [m - j for j, m in enumerate(lfs)]
            self.length = len(text) - len(lfs)
        else:
            self._marks, self.length = [], len(text)

    def index(self, pos: int) -> int | None:
        """Code-point index of `pos`, or None if out of range or inside one character."""
        if not 0 <= pos <= self.length:
            return None
        if self.convention == "utf16":
            k = bisect.bisect_left(self._marks, pos)  # astral characters starting before pos
            if k and pos == self._marks[k - 1] + 1:
                return None  # between the two halves of a surrogate pair
            return pos - k
        if self.convention == "crlf-as-one":
            return pos + bisect.bisect_right(self._marks, pos)  # after the LF of a CRLF at pos
        return pos


def crlf_lf_indices(text: str) -> list[int]:
    return [m.start() + 1 for m in re.finditer("\r\n", text)]


def position_writer(text: str, convention: str):
    """The inverse of `PositionScale.index`: code-point index → position in `convention`."""
    if convention == "utf16":
        astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]
        return lambda index: index + bisect.bisect_left(astral, index)
    if convention == "crlf-as-one":
        lfs = crlf_lf_indices(text)
        return lambda index: index - bisect.bisect_left(lfs, index)
    return lambda index: index


def _clean_cut(text: str, i: int) -> bool:
    """A position that does not cut a word in two."""
    return i <= 0 or i >= len(text) or not (text[i - 1].isalnum() and text[i].isalnum())


def squash(s: str) -> str:
    return " ".join(s.split())


def name_matches(name: str, covered: str) -> bool:
    """Tools name a selection after its text, often cut short ('favoritos. 2 horas…')."""
    n = squash(name)
    cut = n.endswith(("...", "…"))
    n = n.rstrip(".…").rstrip() if cut else n
    if len(n) < 4:
        return False
    c = squash(covered)
    return c == n or ((cut or len(n) >= 12) and c.startswith(n))


@dataclass
class PositionsChoice:
    convention: str
    reason: str


def detect_positions(texts_and_selections: Sequence[tuple[str, Sequence[tuple[int, int, str]]]],
                     origin: str = "") -> PositionsChoice:
    """Pick the position convention of a project from its texts and (start, end, name) selections.

    A convention is out when a selection falls outside the text or inside a character; among the
    others the winner has the most selections whose name matches the covered text, then the most
    selections that start and end between words; a tie goes to what the origin tool is known to
    do (NVivo: UTF-16, ATLAS.ti: CRLF as one), then to the standard (code points).
    """
    results = {}
    for conv in POSITIONS:
        valid, named, clean, offsets = True, 0, 0, []
        for text, sels in texts_and_selections:
            scale = PositionScale(text, conv)
            lfs = crlf_lf_indices(text)
            for start, end, name in sels:
                a, b = scale.index(start), scale.index(end)
                if a is None or b is None or a > b:
                    valid = False
                    continue
                offsets.append((a - bisect.bisect_left(lfs, a), b - bisect.bisect_left(lfs, b)))
                named += bool(name) and name_matches(name, text[a:b])
                clean += _clean_cut(text, a) and _clean_cut(text, b)
        results[conv] = (valid, named, clean, offsets)
    n = sum(len(s) for _, s in texts_and_selections)
    if n == 0:
        return PositionsChoice("codepoints", "no text selections")
    if len({tuple(r[3]) for r in results.values() if r[0]}) == 1 and all(r[0] for r in results.values()):
        return PositionsChoice("codepoints", "all conventions agree on this project (no CRLF or emoji before "
                                             "a selection)")
    o = origin.lower()
    hint = "utf16" if "nvivo" in o else "crlf-as-one" if "atlas" in o else "codepoints"

    def rank(conv: str) -> tuple:
        valid, named, clean, _ = results[conv]
        return (valid, named, clean, conv == hint, conv == "codepoints")

    best = max(POSITIONS, key=rank)
    v, named, clean, _ = results[best]
    if not v:
        return PositionsChoice(best, "no convention puts every selection inside its text")
    others = ", ".join(f"{c}: {results[c][1]} named / {results[c][2]} clean"
                       + ("" if results[c][0] else " (out of range)") for c in POSITIONS if c != best)
    return PositionsChoice(best, f"detected: {named}/{n} selections match their name, {clean}/{n} start and end "
                                 f"between words ({others})")


def _selection_fits(text: str, a: int | None, b: int | None, name: str) -> bool:
    """A selection whose ends fall between words and outside line breaks, and on its name if it has one."""
    if a is None or b is None or a > b:
        return False
    if not (_clean_cut(text, a) and _clean_cut(text, b)):
        return False
    if any(0 < i < len(text) and text[i - 1:i + 1] == "\r\n" for i in (a, b)):
        return False
    return not name or len(squash(name)) < 4 or name_matches(name, text[a:b])


def check_given_positions(texts_and_selections: Sequence[tuple[str, Sequence[tuple[int, int, str]]]],
                          given: str, detected: str, *, where: str) -> str:
    """Refuse a convention given by the user that puts the selections off their words across the board.

    Only the selections that the given and the detected convention place differently are compared
    (the others land on the same characters either way). When at least three of them fit the
    detected convention and at most half as many fit the given one, the given one is wrong: the
    import would read every coding at shifted characters. Returns '' or a warning for weaker cases.
    """
    if given == detected:
        return ""
    fits_given = fits_detected = differ = 0
    for text, sels in texts_and_selections:
        sg, sd = PositionScale(text, given), PositionScale(text, detected)
        for start, end, name in sels:
            g, d = (sg.index(start), sg.index(end)), (sd.index(start), sd.index(end))
            if g == d:
                continue
            differ += 1
            fits_given += _selection_fits(text, *g, name)
            fits_detected += _selection_fits(text, *d, name)
    if fits_detected >= 3 and 2 * fits_given <= fits_detected:
        raise InputFileError(
            f"--positions {given} places {differ} selection(s) differently from {detected}, and only {fits_given} "
            f"of them then start and end between words (and on their names), against {fits_detected} with "
            f"{detected}: the coding would be read at the wrong characters, refused", path=where,
            hint=f"leave --positions out (detected: {detected}) or check which tool wrote the project")
    if fits_given < fits_detected:
        return (f"--positions {given}: {fits_given}/{differ} of the selections it moves fit the text, "
                f"{fits_detected}/{differ} with {detected}")
    return ""
