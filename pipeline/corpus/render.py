"""Rendering an authored interview (corpus/authoring/<ID>.interview) as the transcript file a
researcher would have: corpus/transcripts/<ID>.<ext>, in the convention its `render:` names
(table in corpus/authoring/FORMAT.md). `codeur corpus-build` then reads the file back with the
readers, so the corpus exercises every format codeur claims to read.

Deterministic: the same interview gives the same bytes (times derive from word counts, zip
entries and document properties carry fixed dates).
"""
from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape

from ..core.atomic import atomic_open
from .authoring import AuthoredInterview
from ..core.errors import ConfigError
from ..ingest.readers.labels import LabelFinder
from ..ingest.readers.speakers import load_speaker_config, speaker_key

WORDS_PER_SECOND = 2.5  # unhurried interview speech
MIN_TURN_SECONDS = 1.0  # even "Hm hm." takes a moment
TURN_GAP_SECONDS = 0.6  # so that hh:mm:ss stamps of successive turns always increase
CAPTION_MAX_WORDS = 20  # long turns are cut into captions of 12–20 words
SECOND_INTERVIEWEE = "Collègue"  # R2's name when the header has no `interviewee2`
FIXED_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)  # docx properties: reproducible output
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# Stock labels of some conventions: (Q, R); R2 always gets a name.
STOCK_LABELS = {"qr": ("Q", "R"), "int": ("INT", "P1"), "enqueteur": ("Enquêteur", "Interviewé")}


@dataclass(frozen=True)
class RenderedTurn:
    tag: str  # Q, R or R2
    speaker: str
    text: str
    start: float  # seconds from the start of the recording
    end: float


Writer = Callable[[list[RenderedTurn], AuthoredInterview], bytes]


@dataclass(frozen=True)
class Convention:
    extension: str
    labels: str  # "names", "upper", "none" (no labels shown), or a key of STOCK_LABELS
    write: Writer
    one_speaker_per_run: bool = False  # the format cannot show two turns of one speaker in a row


def render_interview(iv: AuthoredInterview, out_dir: str | Path) -> Path:
    """Write `<out_dir>/<ID>.<ext>` in the convention `iv.header["render"]`; return its path."""
    name = iv.header.get("render", "")
    convention = CONVENTIONS.get(name)
    if convention is None:
        raise ConfigError(f"unknown render {name!r}; one of {', '.join(CONVENTIONS)}", path=str(iv.path))
    if convention.one_speaker_per_run:
        _check_alternation(iv, name)
    turns = _timed_turns(iv, _speaker_names(iv, convention.labels))
    data = convention.write(turns, iv)
    path = Path(out_dir) / f"{iv.id}.{convention.extension}"
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return path


def _speaker_names(iv: AuthoredInterview, labels: str) -> dict[str, str]:
    interviewer, interviewee = STOCK_LABELS.get(labels, (iv.header["interviewer"], iv.header["interviewee"]))
    names = {"Q": interviewer, "R": interviewee, "R2": iv.header.get("interviewee2") or SECOND_INTERVIEWEE}
    if labels == "upper":
        names = {tag: name.upper() for tag, name in names.items()}
    if labels == "none":
        return names
    used = {tag: names[tag] for tag in dict.fromkeys(t.tag for t in iv.turns)}
    if len({speaker_key(n) for n in used.values()}) < len(used):
        raise ConfigError(f"two speakers would share a name ({', '.join(used.values())})", path=str(iv.path))
    finder = LabelFinder(load_speaker_config())
    for tag, speaker in used.items():
        if not finder.looks_like_name(speaker):
            raise ConfigError(
                f"{tag} speaker {speaker!r} would not be read back as a speaker label",
                path=str(iv.path), hint="a name is 1–5 capitalised words, e.g. 'Bernard Perrin'")
    return names


def _check_alternation(iv: AuthoredInterview, render: str) -> None:
    """Dash turns and merged captions cannot show who speaks beyond strict alternation."""
    previous = None
    for n, turn in enumerate(iv.turns, 1):
        if render == "txt:dash" and (turn.tag == "R2" or (n == 1 and turn.tag != "Q")):
            raise ConfigError(f"turn {n}: txt:dash shows only Q and R turns, starting with Q", path=str(iv.path),
                              hint="choose another render for this interview")
        if turn.tag == previous:
            raise ConfigError(f"turn {n}: two {turn.tag} turns in a row cannot be told apart in {render}",
                              path=str(iv.path), hint="merge them, or choose another render")
        previous = turn.tag


def _timed_turns(iv: AuthoredInterview, names: dict[str, str]) -> list[RenderedTurn]:
    turns, clock_ms = [], 0  # integer milliseconds: no floating-point drift over an hour
    for turn in iv.turns:
        duration_ms = round(1000 * max(MIN_TURN_SECONDS, len(turn.text.split()) / WORDS_PER_SECOND))
        turns.append(RenderedTurn(turn.tag, names[turn.tag], turn.text, clock_ms / 1000,
                                  (clock_ms + duration_ms) / 1000))
        clock_ms += duration_ms + round(1000 * TURN_GAP_SECONDS)
    return turns


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{_hms(ms // 1000)}.{ms % 1000:03d}"


# --- plain-text conventions -------------------------------------------------------------------

def _text_lines(line: Callable[[RenderedTurn], str]) -> Writer:
    """One line per turn, turns separated by a blank line, UTF-8, "\\n" line endings."""
    def write(turns: list[RenderedTurn], iv: AuthoredInterview) -> bytes:
        return ("\n\n".join(line(t) for t in turns) + "\n").encode("utf-8")
    return write


# --- word processors --------------------------------------------------------------------------

def _write_docx(turns: list[RenderedTurn], iv: AuthoredInterview, as_table: bool) -> bytes:
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title, props.author, props.last_modified_by = f"Entretien {iv.id}", "codeur", "codeur"
    props.created = props.modified = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1
    if as_table:
        table = document.add_table(rows=1, cols=2)
        table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Locuteur", "Texte"
        for turn in turns:
            row = table.add_row()
            row.cells[0].text, row.cells[1].text = turn.speaker, turn.text
    else:
        for turn in turns:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{turn.speaker} :").bold = True
            paragraph.add_run(f" {turn.text}")
    buffer = io.BytesIO()
    document.save(buffer)
    return _reproducible_zip(buffer.getvalue())


ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"
ODF_OFFICE = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
ODF_TEXT = 'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
ODF_META = 'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"'
ODF_MANIFEST = 'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _write_odt(turns: list[RenderedTurn], iv: AuthoredInterview) -> bytes:
    """A minimal ODF text package, written by hand: odfpy declares every namespace the process has
    met so far (a class-level registry), so its output would depend on what ran before."""
    paragraphs = "".join(f"<text:p>{escape(f'{t.speaker} : {t.text}')}</text:p>" for t in turns)
    parts = {
        "mimetype": ODT_MIMETYPE,
        "META-INF/manifest.xml": (
            f'{XML_DECLARATION}<manifest:manifest {ODF_MANIFEST} manifest:version="1.2">'
            f'<manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="{ODT_MIMETYPE}"/>'
            + "".join(f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
                      for name in ("content.xml", "styles.xml", "meta.xml"))
            + "</manifest:manifest>"),
        "content.xml": (
            f'{XML_DECLARATION}<office:document-content {ODF_OFFICE} {ODF_TEXT} office:version="1.2">'
            f"<office:body><office:text>{paragraphs}</office:text></office:body></office:document-content>"),
        "styles.xml": f'{XML_DECLARATION}<office:document-styles {ODF_OFFICE} office:version="1.2"/>',
        "meta.xml": (
            f'{XML_DECLARATION}<office:document-meta {ODF_OFFICE} {ODF_META} office:version="1.2"><office:meta>'
            f"<meta:generator>codeur</meta:generator></office:meta></office:document-meta>"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, FIXED_ZIP_TIME)
            # ODF readers sniff the type from a first, uncompressed `mimetype` entry.
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.create_system = 3
            package.writestr(info, content.encode("utf-8"))
    return buffer.getvalue()


def _reproducible_zip(data: bytes) -> bytes:
    """The same zip with fixed entry dates (python-docx stamps the current time), order kept."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            fixed.create_system = 3
            target.writestr(fixed, source.read(info))
    return out.getvalue()


# --- subtitles --------------------------------------------------------------------------------

def _write_vtt(turns: list[RenderedTurn], iv: AuthoredInterview) -> bytes:
    blocks = ["WEBVTT"]
    cue = 0
    for turn in turns:
        for start, end, words in _captions(turn):
            cue += 1
            blocks.append(f"{cue}\n{_vtt_time(start)} --> {_vtt_time(end)}\n<v {turn.speaker}>{_vtt_escape(words)}")
    return ("\n\n".join(blocks) + "\n").encode("utf-8")


def _captions(turn: RenderedTurn) -> list[tuple[float, float, str]]:
    """Cut a turn into captions of at most CAPTION_MAX_WORDS words, as even as possible (a 45-word
    turn gives 15 + 15 + 15), timed in proportion to their words within the turn."""
    words = turn.text.split()
    parts = max(1, math.ceil(len(words) / CAPTION_MAX_WORDS))
    size, extra = divmod(len(words), parts)
    captions, done = [], 0
    per_word = (turn.end - turn.start) / max(1, len(words))
    for k in range(parts):
        n = size + (1 if k < extra else 0)
        start = turn.start + done * per_word
        end = turn.end if k == parts - 1 else turn.start + (done + n) * per_word
        captions.append((start, end, " ".join(words[done: done + n])))
        done += n
    return captions


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


CONVENTIONS: dict[str, Convention] = {
    "txt:colon": Convention("txt", "names", _text_lines(lambda t: f"{t.speaker} : {t.text}")),
    "txt:upper": Convention("txt", "upper", _text_lines(lambda t: f"{t.speaker} : {t.text}")),
    "txt:qr": Convention("txt", "qr", _text_lines(lambda t: f"{t.speaker} : {t.text}")),
    "txt:int": Convention("txt", "int", _text_lines(lambda t: f"{t.speaker} : {t.text}")),
    "txt:enqueteur": Convention("txt", "enqueteur", _text_lines(lambda t: f"{t.speaker} : {t.text}")),
    "txt:timestamp": Convention("txt", "names", _text_lines(lambda t: f"[{_hms(t.start)}] {t.speaker} : {t.text}")),
    "txt:nametime": Convention("txt", "names", _text_lines(lambda t: f"{t.speaker} ({_hms(t.start)}) : {t.text}")),
    "txt:dash": Convention("txt", "none", _text_lines(lambda t: f"— {t.text}"), one_speaker_per_run=True),
    "md": Convention("md", "names", _text_lines(lambda t: f"**{t.speaker} :** {t.text}")),
    "docx:para": Convention("docx", "names", lambda turns, iv: _write_docx(turns, iv, as_table=False)),
    "docx:table": Convention("docx", "names", lambda turns, iv: _write_docx(turns, iv, as_table=True)),
    "odt": Convention("odt", "names", _write_odt),
    "vtt": Convention("vtt", "names", _write_vtt, one_speaker_per_run=True),
}
