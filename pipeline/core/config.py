"""Reading the YAML files a user edits (codebook, training, segmentation, speakers, pseudonymisation,
code mappings): a missing file or a YAML syntax error is one `ConfigError` naming the file and,
for a syntax error, the line and column."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError


def parse_yaml(text: str, where: str) -> Any:
    """`text` as YAML; `where` names its source in the error."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"not valid YAML{at}", path=where, hint="check indentation and quoting") from None


def load_yaml(path: str | Path, what: str, *, encoding: str = "utf-8") -> Any:
    """The content of the YAML file `path`; `what` says what it is in the error ("codebook")."""
    path = Path(path)
    try:
        text = path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", path=str(path)) from None
    except OSError as e:
        raise ConfigError(f"cannot read the {what}: {e.strerror}", path=str(path)) from None
    return parse_yaml(text, str(path))
