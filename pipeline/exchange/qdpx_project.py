"""The researcher's own project, kept whole for the way back to the QDA tool.

`codeur import-qdpx --out DIR` stores the .qdpx it read, unchanged, as `DIR/project/original.qdpx`,
with `DIR/project/map.json`: which source GUID became which codeur document, which code GUID which
codebook code, the position convention and each source's line endings and byte-order mark.
`codeur export-qdpx --project DIR` writes that project back: every zip entry as it was, and
`project.qde` byte for byte as it was except for what codeur adds — one `<User>` per model and,
inside the sources, `<PlainTextSelection>` elements holding the machine's `<Coding>`s, on the
original source GUIDs and code GUIDs, at positions counted the way the target tool counts them.

Editing bytes rather than re-serialising a parsed tree is what keeps the rest identical by
construction (attribute order, quotes, comments, vendor extensions, line endings). The project is
still parsed first by defusedxml (no DTD, no entities); only then does expat, with DTDs refused
again, report where each element starts and ends.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import re
import xml.parsers.expat
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ..core.atomic import atomic_open, atomic_path
from ..core.errors import (
    InputFileError,
    MismatchError,
    OptionError,
    ProjectError,
    TableError,
)
from ..core.prediction import Prediction
from ..core.tables import read_predictions
from ..ingest.readers.encoding import normalise_newlines
from .qdc import content_guid, guid_key, kid, kids, local, parse_xml

KEEP_DIR = "project"
ARCHIVE_NAME = "original.qdpx"
MAP_NAME = "map.json"
MAP_FORMAT = "codeur-qdpx-map/1"
#: How each tool counts positions when it reads a project (see ../shared/refi-qda-notes.md and the
#: module docstring of pipeline.exchange.qdpx). MAXQDA and QualCoder follow the standard.
TOOLS = {"nvivo": "utf16", "atlasti": "crlf-as-one", "maxqda": "codepoints", "qualcoder": "codepoints"}
EXCERPT_CHARS = 80


def tool_of(origin: str) -> str | None:
    """The tool that wrote a project, from its `origin` attribute ('NVivo 12.6…' → 'nvivo')."""
    o = origin.lower().replace(".", "").replace(" ", "")
    for tool in TOOLS:
        if tool in o:
            return tool
    return None


def line_endings(text: str) -> str:
    crlf = text.count("\r\n")
    lf, cr = text.count("\n") - crlf, text.count("\r") - crlf
    kinds = [k for k, n in (("crlf", crlf), ("lf", lf), ("cr", cr)) if n]
    return kinds[0] if len(kinds) == 1 else "mixed" if kinds else "none"


BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode_source(raw: bytes) -> tuple[str | None, str | None]:
    """(text, byte-order mark's encoding or None). REFI-QDA plain text is UTF-8; a BOM is not counted."""
    bom, encoding = None, "utf-8"
    for mark, enc in BOMS:
        if raw.startswith(mark):
            raw, bom, encoding = raw[len(mark):], enc, enc
            break
    try:
        return raw.decode(encoding), bom
    except UnicodeDecodeError:
        return None, bom


# --- what the import keeps -----------------------------------------------------------------------------

@dataclass
class KeptSource:
    guid: str                    # as the project writes it (case and braces kept)
    name: str
    kind: str                    # TextSource, PDFSource…
    doc_id: str | None = None    # the codeur document, when imported
    entry: str | None = None     # zip entry of its plain text; None: inline PlainTextContent or none
    bom: str | None = None
    line_endings: str = "none"
    aligned: bool = False        # codeur's text == the source's text with line endings made "\n"
    status: str = "skipped"
    reason: str = ""


def _code_records(codes, code_of: Mapping[str, str | None]) -> list[dict]:
    out = []

    def walk(node, path):
        p = [*path, node.name]
        out.append({"guid": node.guid, "name": node.name, "path": p, "codable": node.codable,
                    "code": code_of.get(guid_key(node.guid))})
        for c in node.children:
            walk(c, p)

    for root in codes:
        walk(root, [])
    return out


def kept_elements(root) -> dict[str, int]:
    """What the project holds that codeur does not read but keeps (for the import's summary)."""
    counts: dict[str, int] = defaultdict(int)
    notes = kid(root, "Notes")
    counts["memo(s)"] = len(list(kids(notes, "Note"))) if notes is not None else 0
    for name in ("Links", "Sets", "Graphs"):
        el = kid(root, name)
        counts[f"{name.lower()[:-1]}(s)"] = len(list(el)) if el is not None else 0
    sources = kid(root, "Sources")
    cases = kid(root, "Cases")
    counts["case description(s)"] = sum(kid(c, "Description") is not None for c in (cases if cases is not None else []))
    for src in (sources if sources is not None else []):
        counts["source description(s)"] += kid(src, "Description") is not None
        counts["memo link(s) on sources"] += len(list(kids(src, "NoteRef")))
        for sel in src:
            if local(sel.tag).endswith("Selection"):
                counts["selection annotation(s)"] += kid(sel, "Description") is not None
                counts["memo link(s) on selections"] += len(list(kids(sel, "NoteRef")))
    cb = kid(root, "CodeBook")
    codes = kid(cb, "Codes") if cb is not None else None
    stack = list(kids(codes, "Code")) if codes is not None else []
    while stack:
        c = stack.pop()
        counts["code colour(s)"] += bool(c.get("color"))
        counts["memo link(s) on codes"] += len(list(kids(c, "NoteRef")))
        stack.extend(kids(c, "Code"))
    return {k: v for k, v in counts.items() if v}


def write_kept_project(out_dir: Path, archive_path: Path, *, entry: str, origin: str, convention: str,
                       reason: str, sources: Sequence[KeptSource], codes, code_of: Mapping[str, str | None],
                       users: Mapping[str, str], coders: Mapping[str, str]) -> list[str]:
    """`DIR/project/original.qdpx` (the archive's bytes) and `DIR/project/map.json`."""
    folder = out_dir / KEEP_DIR
    data = archive_path.read_bytes()
    with atomic_path(folder / ARCHIVE_NAME) as tmp:
        tmp.write_bytes(data)
    record = {
        "format": MAP_FORMAT,
        "archive": ARCHIVE_NAME,
        "archive_sha256": hashlib.sha256(data).hexdigest(),
        "imported_from": archive_path.name,
        "project_entry": entry,
        "origin": origin,
        "tool": tool_of(origin),
        "positions": {"convention": convention, "reason": reason},
        "sources": [s.__dict__ for s in sources],
        "codes": _code_records(codes, code_of),
        "users": [{"guid": g, "name": n, "coder": coders.get(g, "")} for g, n in users.items()],
    }
    with atomic_open(folder / MAP_NAME) as fh:
        json.dump(record, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    return [str(folder / ARCHIVE_NAME), str(folder / MAP_NAME)]


@dataclass
class KeptProject:
    folder: Path
    map: dict

    @property
    def archive(self) -> Path:
        return self.folder / KEEP_DIR / ARCHIVE_NAME

    @property
    def convention(self) -> str:
        return self.map["positions"]["convention"]


def load_kept_project(folder: str | Path) -> KeptProject:
    folder = Path(folder)
    where = folder / KEEP_DIR / MAP_NAME
    hint = f"import the project with `codeur import-qdpx PROJECT.qdpx --out {folder}` first"
    if not where.is_file():
        raise ProjectError("no project kept by `codeur import-qdpx` here", path=str(where), hint=hint)
    try:
        record = json.loads(where.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProjectError(f"not a readable map ({e})", path=str(where), hint=hint) from None
    if not isinstance(record, dict) or record.get("format") != MAP_FORMAT:
        raise ProjectError(f"not a {MAP_FORMAT} map", path=str(where), hint=hint)
    for key, kind in (("sources", list), ("codes", list), ("positions", dict), ("project_entry", str),
                      ("archive_sha256", str)):
        if not isinstance(record.get(key), kind):
            raise ProjectError(f"field {key!r} missing or malformed", path=str(where), hint=hint)
    kept = KeptProject(folder, record)
    if not kept.archive.is_file():
        raise ProjectError("the kept project is missing", path=str(kept.archive), hint=hint)
    if hashlib.sha256(kept.archive.read_bytes()).hexdigest() != record["archive_sha256"]:
        raise ProjectError("the kept project changed since it was imported (its sha256 differs from map.json)",
                           path=str(kept.archive), hint=hint)
    return kept


# --- where each element sits in project.qde --------------------------------------------------------------

@dataclass
class ElementBytes:
    """Byte positions of one element of project.qde."""

    local: str
    qname: str                   # as written, prefix included
    start: int                   # '<' of the start tag
    tag_end: int                 # just after the start tag's '>'
    end: int = -1                # just after the element (its end tag, or the '/>' of an empty one)
    end_tag: int = -1            # '<' of the end tag (-1 for an empty element)
    attrs: dict = field(default_factory=dict)
    children: list["ElementBytes"] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.end_tag < 0


def _tag_end(data: bytes, start: int) -> tuple[int, bool]:
    """Just after the '>' closing the start tag at `start`, and whether it is an empty tag ('/>')."""
    quote = None
    i = start + 1
    while i < len(data):
        c = data[i]
        if quote is not None:
            if c == quote:
                quote = None
        elif c in (0x22, 0x27):
            quote = c
        elif c == 0x3E:
            return i + 1, data[i - 1] == 0x2F
        i += 1
    raise ValueError("unterminated start tag")


def index_elements(data: bytes, *, path: str) -> ElementBytes:
    """The element tree of a UTF-8 project.qde (already vetted by `parse_xml`) with byte positions."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    stack: list[ElementBytes] = []
    root: list[ElementBytes] = []

    def refuse(*_):
        raise InputFileError("project.qde declares a DTD: refused", path=path)

    def start(name, attrs):
        i = parser.CurrentByteIndex
        tag_end, empty = _tag_end(data, i)
        qname = re.match(rb"<([^\s/>]+)", data[i:tag_end]).group(1).decode("utf-8")
        el = ElementBytes(name.rsplit("}", 1)[-1], qname, i, tag_end, attrs=attrs)
        if empty:
            el.end = tag_end
        if stack:
            stack[-1].children.append(el)
        else:
            root.append(el)
        stack.append(el)

    def end(name):
        el = stack.pop()
        if el.end < 0:
            el.end_tag = parser.CurrentByteIndex
            el.end = data.index(b">", el.end_tag) + 1

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as e:
        raise InputFileError(f"project.qde: not well-formed XML ({e})", path=path) from None
    return root[0]


# --- the machine's codings ---------------------------------------------------------------------------------

def _attr(value: str) -> str:
    v = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return v.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def xml_safe(s: str) -> str:
    """Drop the control characters XML 1.0 cannot hold (a transcript may have a stray one)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", s)


def excerpt(text: str) -> str:
    """A selection's name: its text on one line, cut at EXCERPT_CHARS."""
    s = xml_safe(" ".join(text.split()))
    return s if len(s) <= EXCERPT_CHARS else s[: EXCERPT_CHARS - 1].rstrip() + "…"


@dataclass
class SourceText:
    """A source's text as the project stores it, and how codeur's offsets map onto it."""

    original: str

    def __post_init__(self):
        crs = [m.start() for m in re.finditer("\r\n", self.original)]
        self._norm_crs = [c - k for k, c in enumerate(crs)]   # where each CRLF's "\n" is in codeur's text
        self.normalised = normalise_newlines(self.original)

    def original_index(self, i: int) -> int:
        """Index in the source's text of index `i` of codeur's text (CRLF counted as two again)."""
        return i + bisect.bisect_left(self._norm_crs, i)


@dataclass
class MachineSelection:
    source: str                  # source guid key
    user: str                    # user name
    start: int                   # positions in the target convention
    end: int
    name: str
    codes: list[tuple[str, str, float | None]]   # (code GUID as written, code name, score)


@dataclass
class KeptExportReport:
    path: str
    convention: str
    added: dict[str, int]                # user → selections added
    codings: int
    already: int                         # selections already in the project (same GUID): left alone
    below: int                           # codes under --min-score
    notes: list[str]


def _rows_to_selections(predictions: Sequence[Prediction], kept: KeptProject, texts: Mapping[str, SourceText], *,
                        convention: str, min_score: float | None, user: str | None, where: str,
                        notes: list[str]) -> tuple[list[MachineSelection], int]:
    from .positions import position_writer

    by_doc = {s["doc_id"]: s for s in kept.map["sources"] if s.get("doc_id")}
    guids_of: dict[str, list[dict]] = defaultdict(list)
    for c in kept.map["codes"]:
        if c.get("code"):
            guids_of[c["code"]].append(c)
    for code, recs in guids_of.items():
        if len(recs) > 1:
            notes.append(f"codeur code {code!r} stands for {len(recs)} project codes (merged by the mapping): "
                         f"machine codings go to {'/'.join(recs[0]['path'])!r}")
    writers = {}
    out, below = [], 0
    for n, p in enumerate(predictions, 1):
        if not p.located:
            raise TableError(f"row {n}: not a prediction with doc_id, start, end, codes", path=where)
        doc, start, end, codes = p.doc_id, p.start, p.end, p.codes or []
        src = by_doc.get(doc)
        if src is None:
            raise MismatchError(f"row {n}: document {doc!r} is not a text source of the kept project", path=where,
                                hint="classify the transcripts that `codeur import-qdpx` wrote for this project")
        if not src.get("aligned"):
            raise MismatchError(f"row {n}: codeur's text of {doc!r} does not line up with the project's source, so "
                                "its positions cannot be carried back", path=where)
        st = texts[guid_key(src["guid"])]
        if not 0 <= start <= end <= len(st.normalised):
            raise MismatchError(f"row {n}: offsets {start}-{end} out of range for {doc!r}", path=where)
        if p.text is not None and st.normalised[start:end] != p.text:
            raise MismatchError(f"row {n}: the passage text differs from the project's source at {start}-{end} (was "
                                "the transcript changed after the import?)", path=where)
        scores = p.scores or {}
        chosen = []
        for code in codes:
            recs = guids_of.get(code)
            if not recs:
                raise MismatchError(f"row {n}: code {code!r} is no code of the kept project", path=where,
                                    hint="train on the codebook.yaml that `codeur import-qdpx` wrote")
            score = scores.get(code)
            if min_score is not None and (score is None or score < min_score):
                below += 1
                continue
            chosen.append((recs[0]["guid"], recs[0]["name"], score))
        if not chosen:
            continue
        key = guid_key(src["guid"])
        if key not in writers:
            writers[key] = position_writer(st.original, convention)
        pos = writers[key]
        a, b = st.original_index(start), st.original_index(end)
        model = p.model or "model"
        out.append(MachineSelection(key, user or f"codeur {model}", pos(a), pos(b),
                                    excerpt(st.normalised[start:end]), chosen))
    return out, below


def _fragment_user(prefix: str, guid: str, name: str) -> str:
    return f'<{prefix}User guid="{guid}" name="{_attr(xml_safe(name))}"/>'


def _fragment_selection(prefix: str, sel: MachineSelection, sel_guid: str, user_guid: str, nl: str) -> str:
    shown = ", ".join(f"{name} {score:.2f}" if score is not None else name for _, name, score in sel.codes)
    parts = [f'<{prefix}PlainTextSelection guid="{sel_guid}" name="{_attr(sel.name)}" '
             f'startPosition="{sel.start}" endPosition="{sel.end}" creatingUser="{user_guid}">',
             f"<{prefix}Description>{_text(xml_safe(f'{sel.user}: {shown}'))}</{prefix}Description>"]
    for code_guid, _, _ in sel.codes:
        parts.append(f'<{prefix}Coding guid="{content_guid("coding", sel_guid, guid_key(code_guid))}" '
                     f'creatingUser="{user_guid}"><{prefix}CodeRef targetGUID="{code_guid}"/></{prefix}Coding>')
    parts.append(f"</{prefix}PlainTextSelection>")
    return nl.join(parts)


def add_machine_coding(qde: bytes, selections: Sequence[MachineSelection], *, path: str,
                       notes: list[str]) -> tuple[bytes, dict[str, int], int, int]:
    """project.qde with the users and selections added; (bytes, added per user, codings, already there)."""
    if not selections:
        return qde, {}, 0, 0
    body_start = 3 if qde.startswith(b"\xef\xbb\xbf") else 0
    head = qde[body_start:body_start + 200]
    m = re.match(rb"<\?xml[^>]*encoding=[\"']([^\"']+)", head)
    if qde.startswith((b"\xff\xfe", b"\xfe\xff")) or (m and m.group(1).lower().replace(b"_", b"-")
                                                        not in (b"utf-8", b"utf8")):
        raise InputFileError("project.qde is not UTF-8: codeur adds coding to UTF-8 projects only", path=path)
    root = index_elements(qde, path=path)
    prefix = root.qname[: -len(root.local)]
    nl = "\r\n" if b"\r\n" in qde else "\n"
    existing = set()
    for el in _walk(root):
        if "guid" in el.attrs:
            existing.add(guid_key(el.attrs["guid"]))
    users_el = next((c for c in root.children if c.local == "Users"), None)
    user_names = {guid_key(u.attrs.get("guid")): u.attrs.get("name", "")
                  for u in (users_el.children if users_el else []) if u.local == "User"}
    sources_el = next((c for c in root.children if c.local == "Sources"), None)
    source_els = {guid_key(s.attrs.get("guid")): s for s in (sources_el.children if sources_el else [])}

    user_guid: dict[str, str] = {}
    new_users: list[str] = []
    for sel in selections:
        if sel.user in user_guid:
            continue
        g = content_guid("user", sel.user)
        if g.lower() in existing:
            if user_names.get(g.lower()) != sel.user:
                raise InputFileError(f"GUID {g} of user {sel.user!r} is already used by another object", path=path)
        else:
            new_users.append(_fragment_user(prefix, g, sel.user))
        user_guid[sel.user] = g

    inserts: list[tuple[int, int, str]] = []   # (start, end, text): bytes start:end replaced by text
    added: dict[str, int] = defaultdict(int)
    codings = already = 0
    by_source: dict[str, list[MachineSelection]] = defaultdict(list)
    for sel in selections:
        by_source[sel.source].append(sel)
    for key, sels in by_source.items():
        el = source_els.get(key)
        if el is None or el.local != "TextSource":
            raise InputFileError(f"source {key} is not a TextSource of project.qde", path=path)
        frags = []
        for sel in sorted(sels, key=lambda s: (s.start, s.end, s.user)):
            sel_guid = content_guid("selection", key, sel.user, sel.start, sel.end)
            if sel_guid.lower() in existing:
                already += 1
                continue
            existing.add(sel_guid.lower())
            frags.append(_fragment_selection(prefix, sel, sel_guid, user_guid[sel.user], nl))
            added[sel.user] += 1
            codings += len(sel.codes)
        if not frags:
            continue
        text = nl + nl.join(frags)
        if el.empty:  # <TextSource …/> → <TextSource …>…</TextSource>
            slash = qde.rindex(b"/", el.start, el.tag_end)
            inserts.append((slash, el.tag_end, ">" + text + nl + f"</{el.qname}>"))
        else:
            before = [c for c in el.children if c.local in ("Description", "PlainTextContent", "PlainTextSelection")]
            at = before[-1].end if before else el.tag_end
            inserts.append((at, at, text))
    if new_users:
        text = nl + nl.join(new_users)
        if users_el is None:
            inserts.append((root.tag_end, root.tag_end, f"{nl}<{prefix}Users>{text}{nl}</{prefix}Users>"))
        elif users_el.empty:
            slash = qde.rindex(b"/", users_el.start, users_el.tag_end)
            inserts.append((slash, users_el.tag_end, ">" + text + nl + f"</{users_el.qname}>"))
        else:
            last = users_el.children[-1].end if users_el.children else users_el.tag_end
            inserts.append((last, last, text))
    if already:
        notes.append(f"{already} machine-coded passage(s) are already in the project (same user, source and "
                     "positions): left as they are")
    out, prev = [], 0
    for start, end, text in sorted(inserts):
        out.append(qde[prev:start])
        out.append(text.encode("utf-8"))
        prev = end
    out.append(qde[prev:])
    return b"".join(out), dict(added), codings, already


def _walk(el: ElementBytes):
    yield el
    for c in el.children:
        yield from _walk(c)


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = info.compress_type if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
        else zipfile.ZIP_DEFLATED
    new.create_system, new.external_attr, new.comment = info.create_system, info.external_attr, info.comment
    new.flag_bits = info.flag_bits & 0x800  # keep the UTF-8 name flag only
    return new


def export_kept_project(project_dir: str | Path, out: str | Path, *, pred: str | Path | None = None,
                        min_score: float | None = None, positions: str | None = None,
                        user: str | None = None) -> KeptExportReport:
    """The kept project with codeur's codings (if `pred`) added as their own user(s), written to `out`."""
    from .archive import QdpxArchive
    from .positions import POSITIONS

    kept = load_kept_project(project_dir)
    convention = positions or kept.convention
    if convention not in POSITIONS:
        raise OptionError(f"unknown position convention {convention!r}", hint=f"use one of {', '.join(POSITIONS)}")
    if min_score is not None and not 0 <= min_score <= 1:
        raise OptionError(f"--min-score {min_score} is not a probability between 0 and 1")
    notes: list[str] = []
    if convention != kept.convention:
        notes.append(f"positions written as {convention}; the project came in as {kept.convention}")
    where = str(kept.archive)
    with QdpxArchive(kept.archive) as archive:
        def entry_of(name: str) -> str:
            found = archive.find(name)
            if found is None:
                raise ProjectError(f"map.json names {name!r}, which the kept project does not hold",
                                   path=str(kept.folder / KEEP_DIR / MAP_NAME), hint="import the project again")
            return found

        entry = entry_of(kept.map["project_entry"])
        qde = archive.read(entry)
        root = parse_xml(qde, path=where, what=entry)  # refuses DTDs and entities before expat sees it
        selections: list[MachineSelection] = []
        below = 0
        if pred is not None:
            predictions, errors = read_predictions(pred, required=("doc_id", "start", "end", "codes"))
            if errors:
                raise TableError(errors[0], path=str(pred))
            inline = {guid_key(s.get("guid")): (kid(s, "PlainTextContent").text or "")
                      for s in (kid(root, "Sources") if kid(root, "Sources") is not None else [])
                      if kid(s, "PlainTextContent") is not None}
            texts: dict[str, SourceText] = {}
            for s in kept.map["sources"]:
                if not s.get("doc_id"):
                    continue
                key = guid_key(s["guid"])
                if s.get("entry"):
                    text, _ = decode_source(archive.read(entry_of(str(s["entry"]))))
                else:
                    text = inline.get(key)
                if text is None:
                    raise ProjectError(f"source {s['name']!r} cannot be read back from the kept project", path=where)
                texts[key] = SourceText(text)
            selections, below = _rows_to_selections(predictions, kept, texts, convention=convention,
                                                    min_score=min_score, user=user, where=str(pred), notes=notes)
        new_qde, added, codings, already = add_machine_coding(qde, selections, path=where, notes=notes)
        out = Path(out)
        with atomic_path(out) as tmp:
            with zipfile.ZipFile(tmp, "w") as zf:
                for info in archive.entries():
                    data = new_qde if info.filename == entry else \
                        (b"" if info.is_dir() else archive.read(info.filename))
                    zf.writestr(_copy_info(info), data)
    return KeptExportReport(str(out), convention, added, codings, already, below, notes)
