"""Size limits on what codeur reads, so that a huge or hostile file is refused with a clear message
instead of taking minutes and gigabytes before failing.

The defaults sit far above any interview (a three-hour interview is about 200 KB of text, its longest
line a few thousand characters) and each can be raised, for one run with the command's options
(`--max-file-mb`, `--max-line-chars`) or for a session with the environment variables below, which
worker processes inherit:

    CODEUR_MAX_FILE_MB          largest transcript or table file, in MB (default 20)
    CODEUR_MAX_LINE_CHARS       longest line of a transcript's text (default 200,000 characters)
    CODEUR_MAX_UNPACKED_MB      largest uncompressed part of a .docx/.odt package (default 64 MB)
    CODEUR_MAX_ZIP_RATIO        largest compression ratio of a part above 1 MB (default 200, as QDPX)
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import ConfigError, InputFileError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * MB
    max_line_chars: int = 200_000
    max_unpacked_bytes: int = 64 * MB
    max_zip_ratio: float = 200.0
    ratio_floor_bytes: int = MB  # the ratio is checked for parts above this size (small parts vary)
    max_zip_entries: int = 20_000


_ENV = {"max_file_bytes": ("CODEUR_MAX_FILE_MB", MB), "max_line_chars": ("CODEUR_MAX_LINE_CHARS", 1),
        "max_unpacked_bytes": ("CODEUR_MAX_UNPACKED_MB", MB), "max_zip_ratio": ("CODEUR_MAX_ZIP_RATIO", 1)}


def current() -> Limits:
    """The limits in force: the defaults, overridden by the environment variables."""
    values = {}
    for field, (var, unit) in _ENV.items():
        raw = os.environ.get(var)
        if raw is None or not raw.strip():
            continue
        try:
            number = float(raw)
        except ValueError:
            raise ConfigError(f"{var}={raw!r} is not a number", path=var) from None
        if number <= 0:
            raise ConfigError(f"{var}={raw!r} must be above 0", path=var)
        values[field] = number * unit if field == "max_zip_ratio" else int(number * unit)
    return Limits(**values)


@contextlib.contextmanager
def overridden(*, max_file_mb: float | None = None, max_line_chars: int | None = None) -> Iterator[None]:
    """Limits from command-line options, for this process and the workers it starts, for one command."""
    wanted = {"CODEUR_MAX_FILE_MB": max_file_mb, "CODEUR_MAX_LINE_CHARS": max_line_chars}
    saved = {var: os.environ.get(var) for var in wanted}
    try:
        for var, value in wanted.items():
            if value is not None:
                os.environ[var] = str(value)
        current()  # a bad value is refused now, before any work
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def check_file_size(path: Path, size: int | None = None) -> None:
    limit = current().max_file_bytes
    size = path.stat().st_size if size is None else size
    if size > limit:
        raise InputFileError(
            f"too large: {_mb(size)} MB, above the limit of {_mb(limit)} MB",
            path=str(path), hint="split it, or raise the limit with --max-file-mb or CODEUR_MAX_FILE_MB")


def _mb(n: int) -> str:
    return f"{n / MB:.1f}" if n >= MB else f"{n / MB:.3g}"


def check_line_lengths(text: str, path: Path) -> None:
    """Refuse a text with a line longer than the limit, naming the line."""
    limit = current().max_line_chars
    if len(text) <= limit:
        return
    for number, line in enumerate(text.split("\n"), 1):
        if len(line) > limit:
            raise InputFileError(
                f"line {number} is {len(line):,} characters long, above the limit of {limit:,}: is this really a "
                "transcript?", path=str(path),
                hint="put each speaker turn on its own line, or raise the limit with --max-line-chars or "
                     "CODEUR_MAX_LINE_CHARS")
