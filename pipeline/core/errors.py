"""User-facing errors: each carries a code, the file (or field) at fault and what to do.

Bad input never produces a traceback: the CLI catches `CodeurError` and prints its message.
"""
from __future__ import annotations


class CodeurError(Exception):
    """An error caused by the user's input or configuration, with a stable code (E0xx)."""

    code = "E000"

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None):
        self.path = path
        self.reason = message
        self.hint = hint
        super().__init__(self.format())

    def format(self) -> str:
        where = f"{self.path}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"[{self.code}] {where}{self.reason}{hint}"

    def __reduce__(self):
        # Pickled as its parts (a Dask worker sends it back to the command): unpickling through
        # __init__(formatted message) would lose the path and hint and repeat the code.
        return _rebuild, (type(self), self.reason, self.path, self.hint)


def _rebuild(cls, reason, path, hint):
    return cls(reason, path=path, hint=hint)


class InputFileError(CodeurError):
    """A transcript or data file that cannot be read (empty, binary, malformed, unsafe...)."""

    code = "E010"


class UnsupportedFormatError(InputFileError):
    code = "E011"


class ConfigError(CodeurError):
    """A configuration, codebook or split file that does not validate."""

    code = "E020"


class GoldError(CodeurError):
    """Gold coding that does not match its transcripts or codebook."""

    code = "E030"


class ModelError(CodeurError):
    """A missing, corrupt or incompatible model directory."""

    code = "E040"


class DataError(CodeurError):
    """Passages, predictions, codings or case tables that cannot be used. The base of the E05x
    errors below (`except DataError` catches them all); raised as such only for a cause none of
    them names."""

    code = "E050"


class TableError(DataError):
    """A table (JSONL, CSV, Parquet) that is missing, unreadable or malformed: not UTF-8, a quote
    left open, a column missing or named twice, a line that is not a row of the expected shape."""

    code = "E051"


class MismatchError(DataError):
    """Codings or predictions that do not fit what they code: offsets outside the transcript, a
    text that differs from the transcript's at the same offsets, a document or code that is not
    there, two codings with nothing in common to compare."""

    code = "E052"


class CaseTableError(DataError):
    """Case attributes (cases.csv) that cannot be used: an empty or repeated doc_id, an unknown
    attribute, no classified interview with attributes."""

    code = "E053"


class MetricsError(DataError):
    """A metrics.json (of `codeur evaluate` / `codeur audit`) that is missing or of the wrong shape."""

    code = "E054"


class ProjectError(DataError):
    """The QDA project kept by `codeur import-qdpx` for the way back: missing, changed since the
    import, or its map.json unreadable."""

    code = "E055"


class EmptyInputError(DataError):
    """Readable inputs that hold nothing to work on: no passage, no prediction, nothing to export."""

    code = "E056"


class OptionError(DataError):
    """A command-line value that cannot be used (--n 0, --min-score 2, a --format that contradicts
    the file name, --names without a comma)."""

    code = "E057"


class EngineError(CodeurError):
    """A distributed run that cannot go on: no scheduler, a lost worker, partial results of
    another run."""

    code = "E060"
