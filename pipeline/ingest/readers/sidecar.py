"""Per-document metadata beside a transcript: `<file>.meta.yaml` (or `.meta.json`).

A researcher states there who interviewed whom when the labels do not say it:

    # entretien_07.txt.meta.yaml  (or entretien_07.meta.yaml)
    interviewer: [Claire Martin]
    interviewee: [Bernard Perrin]
    date: 2023-03-14

Role lists go to `pipeline.ingest.roles`; every key lands in `Transcript.metadata`.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any


from ...core.config import parse_yaml
from ...core.errors import ConfigError

SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml", ".meta.json")
ROLE_KEYS = ("interviewer", "interviewee", "other")


def sidecar_paths(path: Path) -> list[Path]:
    """Where a transcript's metadata may be: `E07.txt.meta.yaml` first, then `E07.meta.yaml`."""
    return [path.with_name(base + suffix) for base in (path.name, path.stem) for suffix in SIDECAR_SUFFIXES]


def is_sidecar(path: Path) -> bool:
    return path.name.lower().endswith(SIDECAR_SUFFIXES)


def read_sidecar(path: Path) -> tuple[dict[str, Any], Path | None]:
    """The metadata of the transcript at `path` ({} if it has none), and the file it came from."""
    for candidate in sidecar_paths(path):
        if candidate.is_file():
            return _load(candidate), candidate
    return {}, None


def _load(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"not valid JSON ({e.msg}, line {e.lineno})", path=str(path)) from None
    else:
        data = parse_yaml(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping such as 'interviewer: [Name]'", path=str(path))
    for key in ROLE_KEYS:
        if key not in data:
            continue
        names = data[key]
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(n, (str, int)) for n in names):
            raise ConfigError(f"'{key}' must be a name or a list of names", path=str(path))
        data[key] = [str(n) for n in names]
    return {str(k): _json_safe(v) for k, v in data.items()}


def _json_safe(value: Any) -> Any:
    """Transcripts are saved as JSON: YAML dates (`date: 2023-03-14`) become ISO strings."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
