"""Cleaning of spoken-French text for classifiers, without ever losing plain-text offsets.

`clean_text` turns one turn's text into what a classifier should read (no hesitations, marks,
stutters...) and records, for every cleaned character, where it came from in `Transcript.text`,
so any cleaned range maps back to a `Span`.

Each operation is a compiled regex pass that rewrites (text, starts, ends) together: kept
characters keep their source; a replacement of a different length maps its common prefix and
suffix one to one and its middle to the whole source range it replaces (e.g. ftfy's "Ã©" → "é").

Cut words (`cut_words: prefix`, the default): a fragment "ac-" followed by a space is dropped
only when the next word starts with it ("ac- acheté" → "acheté", "vinaig- vinaigrière" →
"vinaigrière"); other fragments ("n- qui") are kept, because we cannot tell what they repair.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from .segment_config import CleanConfig
from ..core.spans import Span


@dataclass(slots=True)
class CleanText:
    """Cleaned text and, per cleaned character, its source range in the plain text.

    `offsets[k]` is the plain-text index of the character cleaned character k came from
    (`base` + index into the input); `ends[k]` is the end (exclusive) of its source range, which
    is longer than one character for replacements such as "Ã©" → "é" or NFC compositions,
    and empty (== offsets[k]) for an inserted separator.
    """

    text: str
    offsets: list[int]
    ends: list[int]
    base: int = 0
    source_len: int = 0

    def span(self, i: int, j: int) -> Span:
        """The plain-text `Span` that cleaned characters [i, j) come from."""
        if not (0 <= i <= j <= len(self.text)):
            raise IndexError(f"cleaned range [{i}, {j}) outside [0, {len(self.text)}]")
        if i == j:
            at = self.offsets[i] if i < len(self.text) else (self.ends[-1] if self.text else self.base)
            return Span(at, at)
        return Span(self.offsets[i], max(self.ends[j - 1], self.offsets[i]))

    def words(self) -> list[tuple[int, int]]:
        """Cleaned [i, j) ranges of the whitespace-separated words."""
        return [m.span() for m in _NONSPACE.finditer(self.text)]


_NONSPACE = re.compile(r"\S+")

# Everything that is whitespace for Python except "\n" (kept for line-break hyphenation),
# plus zero-width characters that separate words in copied text.
_SPACE_CHARS = [chr(c) for c in range(0x3001) if chr(c).isspace() and chr(c) != "\n"]
_SPACE_CHARS += ["\u200b", "\ufeff"]

# Mojibake: a UTF-8 lead byte read as Latin-1/cp1252 (Â..ô) followed by a continuation byte read
# the same way (U+0080..U+00BF or a cp1252 symbol), or "Ã" before a space that lost its NBSP.
_CP1252 = "\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178"
_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][\u0080-\u00bf{_CP1252}]|\u00c3 ")
_MOJIBAKE_TOKEN = re.compile(r"(?:\S|(?<=\u00c3)[\xa0 ])+")


class _Rewrite:
    """Text plus per-character source ranges, rewritten pass after pass."""

    __slots__ = ("text", "starts", "ends")

    def __init__(self, text: str, base: int):
        self.text = text
        self.starts = list(range(base, base + len(text)))
        self.ends = list(range(base + 1, base + len(text) + 1))

    def sub(self, pattern: re.Pattern, repl: Callable[[re.Match], str | None] | str) -> None:
        """Like `pattern.sub`, keeping offsets; `repl` returning None keeps the match."""
        text, starts, ends = self.text, self.starts, self.ends
        pieces: list[str] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        pos = 0
        fixed = repl if isinstance(repl, str) else None
        for m in pattern.finditer(text):
            a, b = m.span()
            src = text[a:b]
            r = fixed if fixed is not None else repl(m)
            if r is None or r == src:
                continue
            pieces.append(text[pos:a])
            new_starts += starts[pos:a]
            new_ends += ends[pos:a]
            if r:
                _align(r, src, a, starts, ends, new_starts, new_ends)
                pieces.append(r)
            pos = b
        if not pieces:
            return
        pieces.append(text[pos:])
        new_starts += starts[pos:]
        new_ends += ends[pos:]
        self.text = "".join(pieces)
        self.starts = new_starts
        self.ends = new_ends

    def translate(self, table: dict[int, str]) -> None:
        """One-to-one character replacement: offsets do not move."""
        self.text = self.text.translate(table)


def _align(r: str, src: str, a: int, starts: list[int], ends: list[int], out_s: list[int], out_e: list[int]) -> None:
    """Source ranges for replacement `r` of `src` (= text[a:a+len(src)])."""
    n, m = len(r), len(src)
    if n == m:  # same length: character for character
        out_s += starts[a : a + m]
        out_e += ends[a : a + m]
        return
    lim = min(n, m)
    p = 0
    while p < lim and r[p] == src[p]:
        p += 1
    q = 0
    while q < lim - p and r[n - 1 - q] == src[m - 1 - q]:
        q += 1
    out_s += starts[a : a + p]
    out_e += ends[a : a + p]
    mid = n - p - q
    if mid:
        if m - p - q > 0:  # the middle of r replaces the middle of src
            s, e = starts[a + p], ends[a + m - q - 1]
        else:  # pure insertion: an empty source range between its neighbours
            s = e = ends[a + p - 1] if p else starts[a]
        out_s += [s] * mid
        out_e += [e] * mid
    out_s += starts[a + m - q : a + m]
    out_e += ends[a + m - q : a + m]


class Cleaner:
    """Compiled form of a `CleanConfig`; `clean(text, base)` returns a `CleanText`."""

    def __init__(self, config: CleanConfig | None = None):
        self.config = config = config or CleanConfig()
        table: dict[int, str] = {}
        if config.normalize_spaces:
            table.update({ord(c): " " for c in _SPACE_CHARS})
        table.update({ord(k): v for k, v in config.quotes.items()})
        self._table = table
        self._dehyphen = re.compile(r"(?<=\w)-[ \t]*\n[ \t]*(?=[a-zà-öø-ÿœæ])")
        removable = list(config.marks) + list(config.timestamps)
        self._marks = re.compile("|".join(f"(?:{p})" for p in removable), re.I) if removable else None
        if config.hesitations:
            words = sorted(config.hesitations, key=len, reverse=True)
            alts = "|".join(
                "".join(re.escape(c) + ("+" if config.hesitation_elongation else "") for c in w) for w in words
            )
            # A hesitation takes its comma or ellipsis with it ("alors, euh, on" → "alors, on").
            self._hesitations = re.compile(rf"(?<![\w'-])(?:{alts})(?![\w'-])(?:[ \t]*(?:,|\.\.\.|…))?", re.I)
        else:
            self._hesitations = None
        if config.cut_words == "prefix":
            self._cut = re.compile(r"(?<![\w'-])(\w+)-[ \t]+(?=\1)", re.I)
        elif config.cut_words == "all":
            self._cut = re.compile(r"(?<![\w'-])\w+-[ \t]+(?=\w)")
        else:
            self._cut = None
        g = config.repetition_max_group_words - 1
        self._repeat = re.compile(
            rf"(?<![\w'-])((?:[\w'-]+\s+){{0,{g}}}?[\w'-]+)(?:\s+\1)+(?![\w'-])", re.I
        )
        self._exceptions = {" ".join(e.lower().split()) for e in config.repetition_exceptions}
        self._ws = re.compile(r"\s{2,}|[^\S ]")

    def clean(self, text: str, base: int = 0) -> CleanText:
        c = self.config
        rw = _Rewrite(text, base)
        if c.fix_mojibake and _MOJIBAKE.search(text):
            rw.sub(_MOJIBAKE_TOKEN, _fix_mojibake)
        if c.normalize_unicode and not unicodedata.is_normalized("NFC", rw.text):
            rw.sub(_NONSPACE, lambda m: unicodedata.normalize("NFC", m.group()))
        if self._table:
            rw.translate(self._table)
        if c.dehyphenate and "-" in rw.text:
            rw.sub(self._dehyphen, "")
        if self._marks is not None:
            rw.sub(self._marks, " ")  # a space, so "bon[rires]alors" stays two words
        if self._hesitations is not None:
            rw.sub(self._hesitations, "")
        if self._cut is not None and "-" in rw.text:
            rw.sub(self._cut, "")
        if c.collapse_whitespace:
            rw.sub(self._ws, " ")
        if c.repetitions:
            rw.sub(self._repeat, self._collapse_repeat)
        if c.collapse_whitespace:
            _strip(rw)
        return CleanText(rw.text, rw.starts, rw.ends, base, len(text))

    def _collapse_repeat(self, m: re.Match) -> str | None:
        group = m.group(1)
        words = group.split()
        if len(words) == 1 and len(group) > self.config.repetition_max_word_chars:
            return None
        key = " ".join(words).lower()
        if f"{key} {key}" in self._exceptions:
            # "nous nous nous sommes" → "nous nous sommes": keep the legitimate pair.
            second = m.group(0).lower().find(words[0].lower(), len(group))
            return m.group(0)[: second + len(group)]
        return group


def _fix_mojibake(m: re.Match) -> str | None:
    token = m.group()
    if not _MOJIBAKE.search(token):
        return None
    import ftfy  # imported only when some token looks like mojibake

    return ftfy.fix_encoding(token)


def _strip(rw: _Rewrite) -> None:
    t = rw.text
    a = len(t) - len(t.lstrip(" "))
    b = len(t.rstrip(" "))
    if a or b < len(t):
        rw.text = t[a:b]
        rw.starts = rw.starts[a:b]
        rw.ends = rw.ends[a:b]


_cleaners: dict[int, Cleaner] = {}


def get_cleaner(config: CleanConfig | None = None) -> Cleaner:
    """A cached `Cleaner` for `config` (configs are frozen, so one per object is safe)."""
    key = id(config)
    cleaner = _cleaners.get(key)
    if cleaner is None or cleaner.config is not (config or cleaner.config):
        if len(_cleaners) > 32:
            _cleaners.clear()
        cleaner = _cleaners[key] = Cleaner(config)
    return cleaner


def clean_text(text: str, base: int = 0, config: CleanConfig | None = None) -> CleanText:
    """Clean `text` (which starts at plain-text index `base`), keeping each character's source."""
    return get_cleaner(config).clean(text, base)
