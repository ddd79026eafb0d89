"""Classifier backends, chosen by name in a training config (`backend: spacy`).

Every backend answers the same small protocol (`Backend`): fit on texts with multi-hot labels,
predict a probability per code, save to a directory, load from it. The CLI, training and the
audit never know which backend they hold. A backend with `reads_context = True` also takes one
`Context` per text (the interviewer's question and the passage before, `pipeline/passages/context.py`);
the others are never given one.
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from ...passages.context import Context
from ...core.config import validate_config
from ...core.errors import ConfigError, ModelError

#: name → "module:Class", imported lazily so that e.g. torch is only loaded when asked for.
REGISTRY: dict[str, str] = {
    "spacy": "pipeline.classify.backends.spacy_textcat:SpacyTextcat",
    "baseline": "pipeline.classify.backends.baseline:TfidfLogReg",
    "transformers": "pipeline.classify.backends.transformers_backend:TransformersClassifier",
    "e5": "pipeline.classify.backends.e5_tfidf:E5TfidfLogReg",
}


class BackendParams(BaseModel):
    """A backend's `params` (training config, model card): typed, with today's defaults; a key the
    backend does not know is refused, never silently kept."""

    model_config = ConfigDict(extra="forbid")


class Backend(ABC):
    """The protocol. `__init__` only checks and stores parameters; learned state ends in `_`."""

    name: ClassVar[str]
    #: the parameters it takes (a `BackendParams` with `extra="forbid"` and a title naming the backend)
    Params: ClassVar[type[BackendParams]] = BackendParams
    #: whether `fit`/`predict_proba` use the `contexts` argument (training with `context: true`)
    reads_context: ClassVar[bool] = False
    #: whether `fit` takes `sample_weight` (one weight per text, e.g. real passages against authored)
    supports_sample_weight: ClassVar[bool] = False

    def __init__(self, codes: Sequence[str], **params: Any):
        self.codes = list(codes)
        self.params = self.check_params(params)

    @classmethod
    def check_params(cls, params: Any, *, where: str | None = None, prefix: Sequence[str] = (),
                     error: type = ModelError) -> dict[str, Any]:
        """`params` validated, with the defaults filled in; a bad one raises `error` naming `where`."""
        return validate_config(params, cls.Params, where=where, what=f"parameters of backend {cls.name!r}",
                               prefix=prefix, error=error).model_dump()

    @abstractmethod
    def fit(self, texts: Sequence[str], labels: np.ndarray, dev_texts: Sequence[str], dev_labels: np.ndarray,
            *, seed: int = 0, contexts: Sequence[Context] | None = None) -> "Backend":
        """Train on `texts` with multi-hot `labels` (n × len(codes)); dev data only for model selection.
        `contexts` (one per text) only for a backend that `reads_context`."""

    @abstractmethod
    def predict_proba(self, texts: Sequence[str], *, batch_size: int = 256, n_process: int = 1,
                      contexts: Sequence[Context] | None = None) -> np.ndarray:
        """One probability per text and code (n × len(codes)), in `self.codes` order."""

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write everything needed to `load` into the (empty) folder `path`."""

    @classmethod
    @abstractmethod
    def load(cls, path: Path, codes: Sequence[str], params: dict[str, Any]) -> "Backend":
        """Rebuild a trained backend from `path` (offline)."""

    def library_versions(self) -> dict[str, str]:
        return {}


def backend_class(name: str) -> type[Backend]:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown backend {name!r}", hint=f"choose one of: {', '.join(REGISTRY)}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)
