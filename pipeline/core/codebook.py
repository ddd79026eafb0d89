"""The `Codebook`: the analysis grid (dimensions → codes) that gold coding and classifiers speak.

Loaded from `configs/codebook.yaml` and validated; its content hash is recorded in every model card
and audit report, so a model is never silently applied with a codebook it was not trained on.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .errors import ConfigError
from .config import load_config, validate_config

CODE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_CODEBOOK = Path(__file__).resolve().parents[2] / "configs" / "codebook.yaml"


class Code(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    label: str = ""
    definition: str
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not CODE_NAME.match(v):
            raise ValueError(f"code name {v!r} must be lower-case ASCII letters, digits or _")
        return v

    @field_validator("definition")
    @classmethod
    def _definition(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty definition")
        return v.strip()


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    label: str = ""
    codes: list[Code]

    @field_validator("codes")
    @classmethod
    def _non_empty(cls, v: list[Code]) -> list[Code]:
        if not v:
            raise ValueError("a dimension needs at least one code")
        return v


class Codebook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: int | str = 1
    language: str = "fr"
    rules: list[str] = Field(default_factory=list)
    dimensions: list[Dimension]

    @model_validator(mode="after")
    def _unique(self) -> "Codebook":
        seen: dict[str, str] = {}
        for dim in self.dimensions:
            for code in dim.codes:
                if code.name in seen:
                    where = (f"twice in dimension {dim.name!r}" if seen[code.name] == dim.name
                             else f"in dimensions {seen[code.name]!r} and {dim.name!r}")
                    raise ValueError(f"duplicate code {code.name!r} ({where})")
                seen[code.name] = dim.name
        dims = [d.name for d in self.dimensions]
        if len(set(dims)) != len(dims):
            raise ValueError("duplicate dimension name")
        return self

    @property
    def codes(self) -> list[str]:
        """Code names in codebook order: the label order of every model trained on it."""
        return [c.name for d in self.dimensions for c in d.codes]

    def dimension_of(self, code: str) -> str:
        for d in self.dimensions:
            if any(c.name == code for c in d.codes):
                return d.name
        raise KeyError(code)

    def code(self, name: str) -> Code:
        for d in self.dimensions:
            for c in d.codes:
                if c.name == name:
                    return c
        raise KeyError(name)

    def content_hash(self) -> str:
        """sha256 of the canonical JSON of the codebook (formatting and comments do not count)."""
        blob = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
        return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def check_codes(self, codes, *, where: str) -> None:
        unknown = sorted(set(codes) - set(self.codes))
        if unknown:
            raise ConfigError(
                f"unknown code(s) {', '.join(unknown)}", path=where,
                hint=f"codebook {self.name!r} has: {', '.join(self.codes)}",
            )


def codebook_from_dict(data: dict, *, where: str = "<codebook>", error: type[ConfigError] | type = ConfigError) -> Codebook:
    """A codebook from its parsed YAML; `error` is the class raised (a model's own codebook: ModelError)."""
    return validate_config(data, Codebook, where=where, what="codebook", error=error)


def load_codebook(path: str | Path | None = None) -> Codebook:
    return load_config(Path(path) if path else DEFAULT_CODEBOOK, Codebook, what="codebook file")
