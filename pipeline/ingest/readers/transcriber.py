"""Reader for Transcriber files (.trs), the XML format of ESLO and many French speech corpora.

Speakers come from the <Speakers> table (id → name); each <Turn> gives a turn, and a turn where
several people speak at once (`speaker="spk1 spk2"` with <Who nb="1"/>, <Who nb="2"/>) gives one
turn per person, marked overlapping. <Event> tags become bracketed marks where they occur
(`[rire]`, `[b]`, `[pi]`; the closing tag of a begin/end pair is dropped) — the cleaner removes
bracketed marks; <Comment> (transcribers' notes), <Background> and <Sync> are not speech and
are dropped. Plain text: one line per turn, `Name : text`, turns without words skipped.

The XML is parsed with defusedxml and never fetches anything: the usual
`<!DOCTYPE Trans SYSTEM "trans-14.dtd">` is accepted unread, entity declarations are refused.
"""
from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from ...core.errors import InputFileError
from ...core.transcript import Transcript
from .encoding import decode_text, read_bytes, refuse_binary
from .labels import UNKNOWN_SPEAKER
from .layout import SpokenTurn, lay_out_spoken_turns
from .speakers import SpeakerConfig

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\bencoding=[\"']([A-Za-z0-9._-]+)[\"']")
_XML_DECL_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")
_MARKS = re.compile(r"\[[^\]]*\]")
_WORD = re.compile(r"\w")


def read_trs(path: Path, config: SpeakerConfig) -> Transcript:
    raw = read_bytes(path)
    warnings: list[str] = []
    root = _parse(raw, path, warnings)
    if root.tag != "Trans":
        raise InputFileError(f"not a Transcriber file: the root element is <{root.tag}>, not <Trans>",
                             path=str(path))

    names = {s.get("id", ""): s.get("name") or s.get("id", "") for s in root.iter("Speaker")}
    spoken: list[SpokenTurn] = []
    unknown_ids: set[str] = set()
    for turn in root.iter("Turn"):
        for speaker_id, text, overlapping in _pieces(turn):
            if not _WORD.search(_MARKS.sub("", text)):
                continue  # silence, or only noises: not a turn
            if speaker_id and speaker_id not in names:
                unknown_ids.add(speaker_id)
            speaker = names.get(speaker_id, speaker_id) or UNKNOWN_SPEAKER
            spoken.append(SpokenTurn(speaker, text, _float(turn.get("startTime")), _float(turn.get("endTime")),
                                     overlapping))
    if unknown_ids:
        warnings.append(f"speaker ids not in the <Speakers> table: {', '.join(sorted(unknown_ids))}")

    layout = lay_out_spoken_turns(spoken)
    metadata = {key: root.get(key) for key in ("scribe", "audio_filename", "version", "version_date")
                if root.get(key)}
    metadata["speakers"] = names
    return Transcript(doc_id=path.stem, source=str(path), format="trs", text=layout.text,
                      turns=layout.turns, metadata=metadata, warnings=warnings)


def _parse(raw: bytes, path: Path, warnings: list[str]) -> Element:
    m = _XML_DECL.match(raw)
    declared = m.group(1).decode("ascii") if m else "utf-8"
    source: bytes | str = raw
    if not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        refuse_binary(raw, path)
        try:
            raw.decode(declared)
        except (UnicodeDecodeError, LookupError):
            # Declared encoding is wrong (hand-edited file): decode as for text files, then parse.
            decoded = decode_text(raw, path)
            source = _XML_DECL_TEXT.sub("", decoded.text, count=1)
            warnings.append(f"declares encoding {declared} but is not; decoded as {decoded.encoding}")
    try:
        return SafeET.fromstring(source, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden as e:
        raise InputFileError(
            f"refused: the XML declares entity {e.name!r} (<!ENTITY>); codeur never expands entities",
            path=str(path), hint="remove the internal DTD subset [...] from the DOCTYPE line") from None
    except (ExternalReferenceForbidden, DTDForbidden) as e:
        raise InputFileError(f"refused: the XML refers to an external resource ({e}); codeur never fetches one",
                             path=str(path)) from None
    except SafeET.ParseError as e:
        if "undefined entity" in str(e):
            raise InputFileError(
                f"the XML uses an entity defined only in an external DTD ({e}); codeur never fetches DTDs",
                path=str(path), hint="replace the entity by the character it stands for") from None
        raise InputFileError(f"malformed XML ({e})", path=str(path)) from None


def _pieces(turn: Element) -> list[tuple[str, str, bool]]:
    """(speaker id, text, overlapping) for each person speaking in a <Turn>."""
    ids = (turn.get("speaker") or "").split()
    overlapping = len(ids) > 1
    buffers: dict[int, list[str]] = {}
    who = 1  # text before any <Who> belongs to the first speaker

    def add(text: str | None) -> None:
        if text and text.strip():
            buffers.setdefault(who, []).append(text)

    add(turn.text)
    for child in turn:
        if child.tag == "Who":
            who = _int(child.get("nb"), default=1)
        elif child.tag == "Event":
            add(_event_mark(child))
        add(child.tail)
    pieces = []
    for nb in sorted(buffers):
        speaker_id = ids[nb - 1] if 1 <= nb <= len(ids) else (ids[0] if ids else "")
        pieces.append((speaker_id, " ".join(" ".join(buffers[nb]).split()), overlapping))
    return pieces


def _event_mark(event: Element) -> str | None:
    if event.get("extent") == "end":
        return None  # its "begin" twin already left the mark
    desc = " ".join((event.get("desc") or "").split())
    return f" [{desc}] " if desc else None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
