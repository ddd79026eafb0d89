"""A REFI-QDA archive from someone else, read safely: never extracted, entries read in memory with
size caps (`MAX_*`), paths that would escape a folder refused."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..core.errors import InputFileError

# --- limits on a foreign archive ------------------------------------------------------------------
MAX_ENTRIES = 20_000                     # files in the zip (a project holds a few hundred sources)
MAX_ENTRY_BYTES = 256 * 1024 * 1024      # one uncompressed entry (project.qde or a source)
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024  # all entries together, uncompressed
MAX_RATIO = 200                          # uncompressed / compressed size of one entry…
RATIO_FLOOR_BYTES = 1024 * 1024          # …checked for entries above this size (small files vary)


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
            if path_escapes(name):
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


def path_escapes(name: str) -> bool:
    """True for entry names that would land outside a folder they were extracted into."""
    n = name.replace("\\", "/")
    if n.startswith("/") or re.match(r"^[A-Za-z]:", n) or "\x00" in n:
        return True
    return any(part == ".." for part in n.split("/"))
