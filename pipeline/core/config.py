"""Reading the YAML files a user edits (codebook, training, segmentation, speakers, pseudonymisation,
SLURM workers, corpus splits and coders, a model's own codebook): one loader and one error format.

`load_config(path, Model, what="training config")` reads the file with `yaml.safe_load` (a Python
tag never builds an object) and validates it with the pydantic `Model`. Whatever goes wrong is one
`ConfigError` naming the file, and for a bad value the field path:

    [E020] configs/train.yaml: params.C: Input should be a valid number

A missing file and a YAML syntax error (with its line and column) read the same way.
"""
from __future__ import annotations

import types
import typing
from collections import abc
from pathlib import Path
from typing import Any, Sequence, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import ConfigError

M = TypeVar("M", bound=BaseModel)

#: problems listed in one message; the rest are counted
MAX_PROBLEMS = 3


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
    except IsADirectoryError:
        raise ConfigError(f"is a folder, not a {what}", path=str(path)) from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 text (byte {e.start}): a {what} is YAML text", path=str(path)) from None
    except OSError as e:
        raise ConfigError(f"cannot read the {what}: {e.strerror}", path=str(path)) from None
    return parse_yaml(text, str(path))


def load_config(path: str | Path, model: type[M], *, what: str, hint: str | None = None) -> M:
    """The YAML file `path` validated as `model` (an empty file: the model's defaults)."""
    return validate_config(load_yaml(path, what), model, where=str(path), what=what, hint=hint)


def validate_config(data: Any, model: type[M], *, where: str | None, what: str, hint: str | None = None,
                    prefix: Sequence[str | int] = (), error: type[ConfigError] | type = ConfigError) -> M:
    """`data` (already parsed) validated as `model`. `where` names the file in the error, `prefix` the
    place of `data` inside it ("params" of a training config), `error` the class raised."""
    empty = data is None
    if empty:
        data = {}
    if not isinstance(data, dict):
        at = f"{'.'.join(map(str, prefix))}: " if prefix else ""
        raise error(f"{at}expected a mapping (key: value lines) for the {what}, got a {_kind(data)}",
                    path=where, hint=hint or _known_hint(model))
    try:
        return model.model_validate(data)
    except ValidationError as e:
        message = describe_validation(e, model, prefix=prefix)
        if empty:
            message = f"the {what} is empty; {message}"
        raise error(message, path=where, hint=hint) from None


def describe_validation(e: ValidationError, model: type[BaseModel] | None = None, *,
                        prefix: Sequence[str | int] = ()) -> str:
    """A pydantic error as one line: `field.path: what is wrong` per problem (at most
    `MAX_PROBLEMS`, the others counted), an unknown key with the keys that are known there."""
    parts = []
    errors = e.errors()
    for err in errors[:MAX_PROBLEMS]:
        loc = tuple(err["loc"])
        msg = err["msg"]
        for lead in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(lead)
        if err["type"] == "extra_forbidden":
            owner = _model_at(model, loc[:-1]) if model is not None else None
            if owner is not None:
                title = owner.model_config.get("title")
                msg = f"unknown key{f' for {title}' if title else ''} (known: {', '.join(owner.model_fields)})"
            else:
                msg = "unknown key"
        elif err["type"] == "missing":
            msg = "missing (required)"
        where = ".".join(str(x) for x in (*prefix, *loc))
        parts.append(f"{where}: {msg}" if where else msg)
    if len(errors) > MAX_PROBLEMS:
        parts.append(f"and {len(errors) - MAX_PROBLEMS} more problem(s)")
    return "; ".join(parts)


def _kind(data: Any) -> str:
    return {list: "list", str: "text", int: "number", float: "number", bool: "boolean"}.get(type(data),
                                                                                          type(data).__name__)


def _known_hint(model: type[BaseModel]) -> str | None:
    return f"keys: {', '.join(model.model_fields)}" if model.model_fields else None


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `loc` inside `model`, if one does."""
    current: Any = model
    for step in loc:
        current = _unwrap(current, step)
        if current is None:
            return None
    return _unwrap(current, None)


def _unwrap(tp: Any, step: str | int | None) -> Any:
    """One step down the type `tp`: a field of a model (`step` a name), an item of a list or a
    value of a dict (`step` an index or key); `step` None only looks through Optional/Union."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if step is None:
            return tp
        field = tp.model_fields.get(step) if isinstance(step, str) else None
        return field.annotation if field is not None else None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        for a in args:
            found = _unwrap(a, step)
            if found is not None:
                return found
        return None
    if step is None:
        return None
    if origin in (list, tuple, set, frozenset, abc.Sequence) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None
