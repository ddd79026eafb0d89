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
    """Passages / predictions files that are malformed or do not match each other."""

    code = "E050"


class EngineError(CodeurError):
    """A distributed run that cannot go on: no scheduler, a lost worker, partial results of
    another run."""

    code = "E060"
