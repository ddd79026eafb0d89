"""Parser of the corpus authoring format (`corpus/authoring/*.interview`, see FORMAT.md there).

An authored interview is the provenance of a corpus transcript and of its first gold coding:
`codeur corpus-build` renders it to a transcript file and locates each coded segment in it.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import ConfigError

REQUIRED = ("id", "render", "interviewer", "interviewee", "actor_type", "activity", "market",
            "headcount", "punctuation")
RENDERS = ("txt:colon", "txt:upper", "txt:qr", "txt:int", "txt:enqueteur", "txt:timestamp",
           "txt:nametime", "txt:dash", "md", "docx:para", "docx:table", "odt", "vtt")
HEADCOUNTS = ("<10", "10-19", "20-49", "50-99", "100-249")
MARKETS = ("automobile", "aéronautique", "médical", "connectique", "travaux publics", "varié")
CODES = ("proximite", "exterieur", "concurrents", "confiance", "mefiance", "tacite", "explicite",
         "procede", "produit")
TURN_RE = re.compile(r"^(Q|R|R2):\s?(.*)$")
SEGMENT_RE = re.compile(r"\[\[([^\]|]*)\|(.*?)\]\]", re.S)


@dataclass
class Segment:
    codes: list[str]
    text: str  # the coded words, markup removed


@dataclass
class AuthoredTurn:
    tag: str  # Q, R or R2
    text: str  # markup removed
    segments: list[Segment] = field(default_factory=list)


@dataclass
class AuthoredInterview:
    path: Path
    header: dict[str, str]
    turns: list[AuthoredTurn]

    @property
    def id(self) -> str:
        return self.header["id"]


def parse_authoring(path: str | Path) -> AuthoredInterview:
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    if "\n===\n" not in raw:
        raise ConfigError("no '===' line between header and body", path=str(path))
    head, body = raw.split("\n===\n", 1)
    header: dict[str, str] = {}
    for n, line in enumerate(head.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if ":" not in line:
            raise ConfigError(f"line {n}: expected 'key: value'", path=str(path))
        k, v = line.split(":", 1)
        header[k.strip()] = v.strip()
    missing = [k for k in REQUIRED if not header.get(k)]
    if missing:
        raise ConfigError(f"header lacks {', '.join(missing)}", path=str(path))
    if header["render"] not in RENDERS:
        raise ConfigError(f"unknown render {header['render']!r}; one of {', '.join(RENDERS)}", path=str(path))
    if header["actor_type"] not in ("PME", "institution"):
        raise ConfigError("actor_type must be PME or institution", path=str(path))
    if header["headcount"] not in HEADCOUNTS:
        raise ConfigError(f"headcount must be one of {HEADCOUNTS}", path=str(path))
    if header["market"] not in MARKETS:
        raise ConfigError(f"market must be one of {MARKETS}", path=str(path))

    turns: list[AuthoredTurn] = []
    current: list[str] | None = None
    tag = ""
    body_start = head.count("\n") + 2

    def flush(lineno: int) -> None:
        if current is None:
            return
        text = " ".join(s.strip() for s in current if s.strip())
        segs: list[Segment] = []
        for m in SEGMENT_RE.finditer(text):
            codes = [c.strip() for c in m.group(1).split(",") if c.strip()]
            bad = [c for c in codes if c not in CODES]
            if bad or not codes:
                raise ConfigError(f"turn ending line {lineno}: unknown or empty codes {bad or codes}", path=str(path))
            if tag == "Q":
                raise ConfigError(f"turn ending line {lineno}: interviewer turns are not coded", path=str(path))
            segs.append(Segment(codes, " ".join(m.group(2).split())))
        plain = SEGMENT_RE.sub(lambda m: m.group(2), text)
        if "[[" in plain or "]]" in plain:
            raise ConfigError(f"turn ending line {lineno}: unbalanced [[ ]] markup", path=str(path))
        plain = " ".join(plain.split())
        if not plain:
            raise ConfigError(f"turn ending line {lineno}: empty turn", path=str(path))
        turns.append(AuthoredTurn(tag, plain, segs))

    for n, line in enumerate(body.splitlines(), body_start):
        m = TURN_RE.match(line)
        if m:
            flush(n - 1)
            tag, current = m.group(1), [m.group(2)]
        elif current is None:
            if line.strip():
                raise ConfigError(f"line {n}: text before the first Q:/R: turn", path=str(path))
        else:
            current.append(line)
    flush(n)
    return AuthoredInterview(path, header, turns)


def summary(iv: AuthoredInterview) -> dict[str, int]:
    r_turns = [t for t in iv.turns if t.tag != "Q"]
    words = sum(len(t.text.split()) for t in r_turns)
    coded = sum(1 for t in r_turns if t.segments)
    per_code: dict[str, int] = {}
    for t in r_turns:
        for c in {c for s in t.segments for c in s.codes}:
            per_code[c] = per_code.get(c, 0) + 1
    return {"interviewee_words": words, "interviewee_turns": len(r_turns), "coded_turns": coded, **per_code}


if __name__ == "__main__":  # python -m pipeline.corpus.authoring FILE... : validate and count
    tot: dict[str, int] = {}
    for p in sys.argv[1:]:
        try:
            s = summary(parse_authoring(p))
        except ConfigError as e:
            print(f"ERROR {e}")
            continue
        print(Path(p).name, s)
        for k, v in s.items():
            tot[k] = tot.get(k, 0) + v
    print("TOTAL", tot)
