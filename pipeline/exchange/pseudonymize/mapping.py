"""The mapping original → pseudonym: the user's own (a CSV, or a previous run's map.csv, so that
pseudonyms stay stable as the corpus grows) and the one written after a run. The mapping undoes
the pseudonymisation: it is personal data, written apart, never inside the shared output."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ...core.atomic import atomic_open
from ...core.csvfile import read_csv
from ...core.errors import ConfigError, DataError


@dataclass
class MappingEntry:
    original: str
    replacement: str
    kind: str
    count: int = 0


PSEUDONYM_RE = re.compile(r"^\[?([A-Z]+)_(\d+)\]?$")


def read_user_mapping(path: str | Path) -> list[MappingEntry]:
    """A CSV with columns original,replacement (kind and count optional): a previous run's map.csv
    works, so pseudonyms stay the same when the corpus grows."""

    path = Path(path)
    if not path.exists():
        raise ConfigError("mapping file not found", path=str(path))
    try:
        _, rows = read_csv(path, what="pseudonym map", required=("original", "replacement"))
    except DataError as e:
        raise ConfigError(e.reason, path=str(path), hint=e.hint) from None
    out = []
    for n, row in rows:
        original, replacement = (row.get("original") or "").strip(), (row.get("replacement") or "").strip()
        if not original or not replacement:
            raise ConfigError(f"line {n}: empty original or replacement", path=str(path))
        kind = (row.get("kind") or "").strip().upper()
        m = PSEUDONYM_RE.match(replacement)
        out.append(MappingEntry(original, replacement, kind or (m.group(1) if m else "USER")))
    return out


def pseudonym_number(replacement: str) -> int:
    m = PSEUDONYM_RE.match(replacement)
    return int(m.group(2)) if m else 0


def write_mapping(path: str | Path, mapping: Sequence[MappingEntry]) -> None:

    with atomic_open(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["original", "replacement", "kind", "count"])
        for e in mapping:
            w.writerow([e.original, e.replacement, e.kind, e.count])


def check_map_outside(map_path: Path, out_dir: Path) -> None:
    """The mapping undoes the pseudonymisation: it must never travel with the shared folder."""
    try:
        inside = map_path.resolve().is_relative_to(out_dir.resolve())
    except OSError:
        inside = False
    if inside:
        raise ConfigError("the mapping file would be written inside the output folder", path=str(map_path),
                          hint="keep --map outside --out: the output is meant to be shared, the mapping never")
