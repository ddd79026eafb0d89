"""Codebook exchange with QDA software (REFI-QDA): codeur's `Codebook` ↔ a REFI-QDA code tree.

Used by `codeur import-qdc` / `export-qdc` (a `.qdc` codebook file, namespace
`urn:QDA-XML:codebook:1.0`) and by `pipeline.exchange.qdpx` for the code tree inside a project.

How the two shapes meet:

- codeur has two levels (dimension → codes); a REFI-QDA tree has any depth. A top-level code with
  children becomes a dimension and every code below it (flattened, depth first) one of its codes;
  top-level codes without children go to one dimension of their own (`LOOSE_DIMENSION`).
  Category codes (`isCodable="false"`) are never codes, unless coding points at them anyway.
- Names are normalised to codeur's code-name rule (`[a-z][a-z0-9_]*`), an identifier for internal
  use; the original name (any language, any script) stays as the code's label, a dimension's label
  is its category's name, and an export shows that name again (`shown_name`). A mapping file
  (project code name or GUID → codeur name, `~` to leave a code out) overrides the normalised
  names, and is written next to the import whenever names changed.
- On export a code's `Description` carries its definition, then its label and its include /
  exclude / example lists under French headers that the import reads back, so a codebook makes
  the round trip intact (its name, version and rules excepted: REFI-QDA has no place for them).

Untrusted XML is parsed with defusedxml (no DTD, no entities); XML is written with lxml (why no
REFI-QDA library: see `pipeline.exchange.qdpx`).
"""
from __future__ import annotations

import json
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import yaml
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml import ElementTree as SafeET
from lxml import etree

from ..core.atomic import atomic_open
from ..core.codebook import CODE_NAME, Code, Codebook, Dimension, codebook_from_dict
from ..core.errors import ConfigError, InputFileError
from ..core.config import load_yaml

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
#: Where top-level codes without a category go (codeur needs every code in a dimension).
LOOSE_DIMENSION = "codes"
#: Largest .qdc file read (a codebook is a few hundred kilobytes at most).
MAX_QDC_BYTES = 32 * 1024 * 1024

#: Every GUID codeur writes is a uuid5 in this namespace, from the content it names: the same
#: input always gives the same file, and the same code keeps its GUID from one export to the next.
GUID = re.compile(r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$")
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://codeur.invalid/refi-qda")

# Section headers of a code's Description written by codeur (and read back on import).
LABEL_HEADER = "Libellé :"
LIST_HEADERS = {"Inclure :": "include", "Exclure :": "exclude", "Exemples :": "examples"}

# Distinct, readable colours for codes in the QDA software (cycled).
PALETTE = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F",
           "#BCBD22", "#17BECF")


# --- GUIDs and names ---------------------------------------------------------------------------

def content_guid(*parts: object) -> str:
    """A deterministic GUID (upper case, as NVivo and ATLAS.ti write them) for what `parts` name."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(str(p) for p in parts))).upper()


def guid_key(guid: str | None) -> str:
    """GUIDs compare without braces and case: `{ABC-…}` and `abc-…` are the same object."""
    return (guid or "").strip().strip("{}").lower()


def normalise_code_name(name: str) -> str:
    """'Partenaires de proximité' → 'partenaires_de_proximite' (codeur's code-name rule)."""
    decomposed = unicodedata.normalize("NFKD", name.replace("’", "'").replace("œ", "oe").replace("æ", "ae"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    slug = re.sub(r"[^a-z0-9]+", "_", bare).strip("_")
    if not slug:
        return "code"
    return slug if slug[0].isalpha() else f"c_{slug}"


# --- reading XML safely --------------------------------------------------------------------------

def parse_xml(data: bytes, *, path: str, what: str):
    """Parse untrusted XML; a DTD, entity declarations or bad XML are a user error naming the file."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise InputFileError(f"{what}: declares a DTD or XML entities, which codeur refuses (entity-expansion "
                             "and external-file attacks hide there)", path=path,
                             hint="QDA software never writes them: export the project again") from None
    except SafeET.ParseError as e:
        raise InputFileError(f"{what}: not well-formed XML ({e})", path=path) from None


def local(tag: object) -> str:
    """Element name without its namespace (files differ: `urn:QDA-XML:project:1.0`, none, …)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def kids(el, name: str) -> Iterator:
    return (c for c in el if local(c.tag) == name)


def kid(el, name: str):
    return next(kids(el, name), None)


def kid_text(el, name: str) -> str:
    c = kid(el, name)
    return (c.text or "") if c is not None else ""


# --- the code tree --------------------------------------------------------------------------------

@dataclass
class CodeNode:
    """One `Code` element of a REFI-QDA code book, with its sub-codes."""

    guid: str
    name: str
    codable: bool
    description: str = ""
    children: list["CodeNode"] = field(default_factory=list)

    def walk(self, depth: int = 0) -> Iterator[tuple["CodeNode", int]]:
        yield self, depth
        for c in self.children:
            yield from c.walk(depth + 1)


def read_code_tree(codes_el) -> list[CodeNode]:
    """The `Code` children of a `Codes` element, recursively."""
    def node(el) -> CodeNode:
        codable = (el.get("isCodable") or "true").strip().lower() not in ("false", "0")
        return CodeNode(guid=el.get("guid") or "", name=(el.get("name") or "").strip(), codable=codable,
                        description=kid_text(el, "Description").strip(),
                        children=[node(c) for c in kids(el, "Code")])
    return [node(c) for c in kids(codes_el, "Code")] if codes_el is not None else []


# --- a code's Description ------------------------------------------------------------------------

def describe_code(code: Code) -> str:
    """The Description codeur writes: the definition, then label and lists under French headers."""
    parts = [code.definition]
    extra = []
    if code.label:
        extra.append(f"{LABEL_HEADER} {code.label}")
    for header, attr in LIST_HEADERS.items():
        items = getattr(code, attr)
        if items:
            extra.append(header)
            extra.extend(f"- {item}" for item in items)
    if extra:
        parts.append("\n".join(extra))
    return "\n\n".join(parts)


def read_description(text: str) -> dict:
    """Definition, label and lists from a Description (a foreign one is all definition)."""
    out: dict = {"definition": [], "label": "", "include": [], "exclude": [], "examples": []}
    section = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.strip()
        if stripped in LIST_HEADERS:
            section = LIST_HEADERS[stripped]
        elif stripped.startswith(LABEL_HEADER) and out["definition"]:
            out["label"] = stripped[len(LABEL_HEADER):].strip()
            section = "label"
        elif section in LIST_HEADERS.values() and stripped.startswith("- "):
            out[section].append(stripped[2:].strip())
        elif section is None:
            out["definition"].append(line)
        elif stripped:  # text after the sections that codeur did not write: keep it in the definition
            out["definition"].append(line)
    out["definition"] = "\n".join(out["definition"]).strip()
    return out


def category_label(node: CodeNode) -> str:
    """A dimension's label: its category's name, or the label codeur wrote as 'Libellé : …' (a
    foreign category's description is a description, never its label)."""
    first = node.description.strip().split("\n", 1)[0].strip()
    if first.startswith(LABEL_HEADER) and "\n" not in node.description.strip():
        return first[len(LABEL_HEADER):].strip() or node.name
    return node.name


# --- code tree → Codebook ---------------------------------------------------------------------------

@dataclass
class CodebookImport:
    """A code tree read into a codeur `Codebook`, and how each foreign code maps onto it."""

    codebook: Codebook | None           # None: no code to import (allowed with `allow_empty`)
    code_of: dict[str, str | None]      # guid key → codeur code name (None: left out by the mapping)
    renamed: list[tuple[str, str, str | None, str]]  # (key, original name, codeur name, path) per code
    notes: list[str] = field(default_factory=list)

    @property
    def names_changed(self) -> bool:
        return any(orig != new for _, orig, new, _ in self.renamed)


def load_mapping(path: str | Path | None) -> dict[str, str | None]:
    """A mapping file: `project code name or GUID: codeur name` (`~` leaves the code out)."""
    if path is None:
        return {}
    path = Path(path)
    data = load_yaml(path, "mapping file", encoding="utf-8-sig")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping such as 'Partenaires de proximité: proximite'", path=str(path))
    out: dict[str, str | None] = {}
    for key, value in data.items():
        if value is not None and (not isinstance(value, str) or not CODE_NAME.match(value)):
            raise ConfigError(f"{key!r}: {value!r} is not a codeur code name (lower-case ASCII letters, digits, _)",
                              path=str(path), hint="or ~ to leave the code out")
        out[str(key).strip()] = value
        if GUID.match(str(key).strip()):
            out[guid_key(str(key))] = value
    return out


def _lookup(mapping: Mapping[str, str | None], node: CodeNode) -> tuple[bool, str | None]:
    for key in (node.guid, guid_key(node.guid), node.name):
        if key and key in mapping:
            return True, mapping[key]
    return False, None


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


def tree_to_codebook(roots: list[CodeNode], *, name: str, mapping: Mapping[str, str | None] | None = None,
                     used: Iterable[str] = (), not_codes: Iterable[str] = (), where: str = "",
                     allow_empty: bool = False) -> CodebookImport:
    """Turn a REFI-QDA code tree into a valid codeur `Codebook` (see the module docstring).

    `used`: guid keys of codes that text coding points at (they become codes even when the tree
    calls them categories); `not_codes`: guid keys to leave out (NVivo lists its cases as codes).
    """
    mapping = mapping or {}
    used = {guid_key(g) for g in used}
    not_codes = {guid_key(g) for g in not_codes}
    notes: list[str] = []
    code_of: dict[str, str | None] = {}
    renamed: list[tuple[str, str, str | None, str]] = []
    codes_by_name: dict[str, Code] = {}
    taken_codes: set[str] = set()
    names_count: dict[str, int] = {}
    for root in roots:
        for n, _ in root.walk():
            names_count[n.name] = names_count.get(n.name, 0) + 1

    def key_for(node: CodeNode) -> str:  # the mapping-file key: the name unless two codes share it
        return node.name if names_count.get(node.name, 0) == 1 and node.name else guid_key(node.guid)

    def make_code(node: CodeNode, path: str) -> Code | None:
        mapped, target = _lookup(mapping, node)
        if mapped and target is None:
            code_of[guid_key(node.guid)] = None
            renamed.append((key_for(node), node.name, None, path))
            return None
        new = target if mapped else normalise_code_name(node.name)
        if new in codes_by_name and mapped:  # several project codes mapped onto one codeur code
            code_of[guid_key(node.guid)] = new
            renamed.append((key_for(node), node.name, new, path))
            notes.append(f"code {path!r} merged into {new!r} (mapping)")
            return None
        if new in taken_codes:
            unique = _unique(new, taken_codes)
            notes.append(f"two codes are named {new!r} once normalised; {path!r} became {unique!r}")
            new = unique
        taken_codes.add(new)
        code_of[guid_key(node.guid)] = new
        renamed.append((key_for(node), node.name, new, path))
        desc = read_description(node.description)
        definition = desc["definition"] or node.name  # no description: the name is all the project says
        label = desc["label"] or (node.name if node.name != new else "")  # the original name, when it differs
        code = Code(name=new, label=label, definition=definition,
                    include=desc["include"], exclude=desc["exclude"], examples=desc["examples"])
        codes_by_name[new] = code
        return code

    dimensions: list[Dimension] = []
    loose: list[Code] = []
    taken_dims: set[str] = set()
    for root in roots:
        if guid_key(root.guid) in not_codes:
            continue
        if not root.children:
            if root.codable or guid_key(root.guid) in used:
                code = make_code(root, root.name)
                if code:
                    loose.append(code)
            else:
                notes.append(f"category {root.name!r} has no codes: left out")
            continue
        mapped, target = _lookup(mapping, root)
        dim_name = _unique(target if mapped and target else normalise_code_name(root.name), taken_dims)
        codes: list[Code] = []
        if guid_key(root.guid) in used:
            notes.append(f"{root.name!r} has sub-codes and is coded itself: it is a dimension and a code")
            code = make_code(root, root.name)
            if code:
                codes.append(code)
        flattened = False
        stack: list[tuple[CodeNode, str, int]] = [(c, f"{root.name}/{c.name}", 1) for c in root.children]
        while stack:
            node, path, depth = stack.pop(0)
            if guid_key(node.guid) in not_codes:
                continue
            if depth > 1:
                flattened = True
            if node.codable or guid_key(node.guid) in used:
                code = make_code(node, path)
                if code:
                    codes.append(code)
            stack[0:0] = [(c, f"{path}/{c.name}", depth + 1) for c in node.children]
        if flattened:
            notes.append(f"codes nested more than one level under {root.name!r} are flattened into "
                         f"dimension {dim_name!r}")
        if not codes:
            notes.append(f"category {root.name!r} has no codes left: no dimension")
            continue
        taken_dims.add(dim_name)
        dimensions.append(Dimension(name=dim_name, label=category_label(root), codes=codes))
    if loose:
        name_loose = _unique(LOOSE_DIMENSION, taken_dims)
        dimensions.append(Dimension(name=name_loose, label="Codes without a category", codes=loose))
        notes.append(f"{len(loose)} code(s) outside any category put in dimension {name_loose!r}")
    if not dimensions and allow_empty:
        return CodebookImport(None, code_of, renamed, notes)
    if not dimensions:
        raise ConfigError("no codes to import (the code book is empty, or every code was left out)",
                          path=where or None)
    # REFI-QDA says nothing of the codebook's language: "und" (BCP 47 undetermined), not a guess.
    codebook = codebook_from_dict({"name": name or "imported", "version": 1, "language": "und",
                                   "dimensions": [d.model_dump() for d in dimensions]}, where=where)
    return CodebookImport(codebook, code_of, renamed, notes)


# --- Codebook → code tree --------------------------------------------------------------------------

def dimension_guid(name: str) -> str:
    return content_guid("dimension", name)


def code_guid(name: str) -> str:
    return content_guid("code", name)


def shown_name(name: str, label: str) -> str:
    """The name a QDA tool shows: the original one an import kept as the label ('sárga' for code
    'sarga'), since the import turns it back into the same codeur name; else codeur's name."""
    return label if label and normalise_code_name(label) == name else name


def append_code_tree(parent, codebook: Codebook, ns: str) -> None:
    """Write `<Codes>` into `parent`: each dimension a category (isCodable=false) holding its codes."""
    codes_el = etree.SubElement(parent, f"{{{ns}}}Codes")
    n = 0
    for dim in codebook.dimensions:
        cat = etree.SubElement(codes_el, f"{{{ns}}}Code", guid=dimension_guid(dim.name),
                               name=shown_name(dim.name, dim.label), isCodable="false")
        if dim.label and cat.get("name") != dim.label:
            etree.SubElement(cat, f"{{{ns}}}Description").text = f"{LABEL_HEADER} {dim.label}"
        for code in dim.codes:
            el = etree.SubElement(cat, f"{{{ns}}}Code", guid=code_guid(code.name),
                                  name=shown_name(code.name, code.label), isCodable="true", color=PALETTE[n % len(PALETTE)])
            etree.SubElement(el, f"{{{ns}}}Description").text = describe_code(code)
            n += 1


def xml_document(root) -> bytes:
    """UTF-8 bytes with the declaration as QDA tools write it (double quotes; lxml writes single)."""
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def codebook_xml(codebook: Codebook, *, origin: str) -> bytes:
    """A `.qdc` document for `codebook` (valid against the REFI-QDA Codebook.xsd)."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin=origin)
    append_code_tree(root, codebook, CODEBOOK_NS)
    return xml_document(root)


def origin_string() -> str:
    try:
        from importlib.metadata import version

        return f"codeur {version('codeur')}"
    except Exception:  # not installed (running from a checkout)
        return "codeur"


# --- files -------------------------------------------------------------------------------------------

def write_qdc(codebook: Codebook, path: str | Path) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(codebook_xml(codebook, origin=origin_string()))


def read_qdc(path: str | Path, *, mapping: Mapping[str, str | None] | None = None) -> CodebookImport:
    """Read a `.qdc` codebook file into a codeur `Codebook`."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputFileError("file not found", path=str(path)) from None
    if size > MAX_QDC_BYTES:
        raise InputFileError(f"{size} bytes: larger than a codebook can be ({MAX_QDC_BYTES} bytes at most)",
                             path=str(path))
    root = parse_xml(path.read_bytes(), path=str(path), what="codebook")
    if local(root.tag) != "CodeBook":
        raise InputFileError(f"not a REFI-QDA codebook: the root element is <{local(root.tag)}>, expected "
                             "<CodeBook>", path=str(path), hint="a .qdpx project is read by `codeur import-qdpx`")
    return tree_to_codebook(read_code_tree(kid(root, "Codes")), name=path.stem, mapping=mapping, where=str(path))


def codebook_yaml(codebook: Codebook, *, source: str) -> str:
    """The codebook as `configs/codebook.yaml` writes it, with a header saying where it came from."""
    data = codebook.model_dump(mode="json")
    for dim in data["dimensions"]:
        for code in dim["codes"]:
            for key in ("label", "include", "exclude", "examples"):
                if not code[key]:
                    del code[key]
    if not data["rules"]:
        del data["rules"]
    head = (f"# Imported by codeur from {source}.\n"
            "# Check the definitions (and the include / exclude lists) before training on this codebook.\n")
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def write_codebook_yaml(path: str | Path, codebook: Codebook, *, source: str) -> None:
    with atomic_open(path) as fh:
        fh.write(codebook_yaml(codebook, source=source))


def mapping_yaml(imported: CodebookImport, *, source: str) -> str:
    """The mapping file a user edits and passes back with `--mapping`."""
    lines = [f"# Code names of {source} → codeur code names (edit, then pass this file with --mapping).",
             "# Keys are the project's code names (its GUID when two codes share a name); ~ leaves a code out."]
    for key, original, new, path in imported.renamed:
        value = "~" if new is None else new
        lines.append(f"{json.dumps(key, ensure_ascii=False)}: {value}  # {path}")
    return "\n".join(lines) + "\n"


def write_mapping(path: str | Path, imported: CodebookImport, *, source: str) -> None:
    with atomic_open(path) as fh:
        fh.write(mapping_yaml(imported, source=source))
