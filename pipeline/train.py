"""Training: corpus splits → a backend → per-code thresholds on dev → a model directory with its card.

Test interviews are scored for the card only; nothing is tuned on them.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .agreement import precision_recall_f1, summary_scores
from .backends import backend_class
from .codebook import load_codebook
from .context import Context, contexts_for_rows
from .errors import ConfigError, ModelError
from .model import save_model
from .yamlfile import load_yaml

REPO = Path(__file__).resolve().parent.parent
MIN_POSITIVES = 5  # below this a code cannot be learned or thresholded: refuse
WARN_POSITIVES = 20


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: str = "spacy"
    name: str = ""
    seed: int = 0
    corpus: Path = Path("corpus")
    codebook: Path = Path("configs/codebook.yaml")
    splits: Path = Path("configs/splits.yaml")
    coder: str = "coder1"
    text: str = Field("clean_text", pattern="^(clean_text|text)$")
    #: also train on a lower-cased, unpunctuated copy of each passage, as real spoken transcripts are
    spoken_augmentation: bool = True
    #: also read the interviewer's question and the previous passage (pipeline/context.py)
    context: bool = False
    params: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""


def load_train_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    data = load_yaml(path, "training config") or {}
    try:
        cfg = TrainConfig.model_validate(data)
    except ValidationError as e:
        msg = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise ConfigError(msg, path=str(path)) from None
    base = Path.cwd()
    for field in ("corpus", "codebook", "splits"):
        p = getattr(cfg, field)
        if not p.is_absolute() and not (base / p).exists() and (REPO / p).exists():
            setattr(cfg, field, REPO / p)
    return cfg


_PUNCT = re.compile(r"[^\w\s'’-]+|(?<!\w)[-']|[-'](?!\w)")


def spoken_form(text: str) -> str:
    """How an ESLO-style transcriber would write it: lower case, no punctuation but apostrophes."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def tune_thresholds(y: np.ndarray, probs: np.ndarray, codes: Sequence[str]) -> dict[str, float]:
    """Per code, the threshold in [0.05, 0.95] that maximises F1 on dev (ties: nearest 0.5)."""
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    out = {}
    for j, code in enumerate(codes):
        if y[:, j].sum() == 0:
            out[code] = 0.5
            continue
        best = max(grid, key=lambda t: (precision_recall_f1(y[:, j], probs[:, j] >= t)[2], -abs(t - 0.5)))
        out[code] = float(best)
    return out


def data_hash(rows: Sequence[tuple[str, str, str, Sequence[int]]]) -> str:
    h = hashlib.sha256()
    for split, pid, text, labels in rows:
        h.update(json.dumps([split, pid, text, list(map(int, labels))], ensure_ascii=False).encode("utf-8"))
    return "sha256:" + h.hexdigest()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    try:
        import spacy

        spacy.util.fix_random_seed(seed)
    except ImportError:  # pragma: no cover
        pass


def train(config_path: str | Path, out: str | Path, *, log=print, corpus=None) -> dict[str, Any]:
    from . import __version__
    from .corpus import load_corpus

    cfg = load_train_config(config_path)
    codebook = load_codebook(cfg.codebook)
    codes = codebook.codes
    backend = backend_class(cfg.backend)(codes, **cfg.params)
    if cfg.context and not backend.reads_context:
        raise ConfigError(f"backend {cfg.backend!r} does not read contexts; set context: false",
                          path=str(config_path))
    seed_everything(cfg.seed)
    corpus = corpus or load_corpus(cfg.corpus, codebook=codebook, splits_path=cfg.splits)
    if cfg.coder not in corpus.labels:
        raise ConfigError(f"no gold coding by {cfg.coder!r}", path=str(config_path),
                          hint=f"coders in the corpus: {', '.join(corpus.labels)}")

    def split_data(split: str):
        ps = corpus.passages_of(split)
        texts = [getattr(p, cfg.text) for p in ps]
        ctx = contexts_for_rows([p.to_dict() for p in ps], lambda r: r[cfg.text]) if cfg.context else None
        return ps, texts, np.array(corpus.multi_hot(ps, cfg.coder), dtype=np.int8).reshape(len(ps), len(codes)), ctx

    train_ps, train_x, train_y, train_c = split_data("train")
    dev_ps, dev_x, dev_y, dev_c = split_data("dev")
    test_ps, test_x, test_y, test_c = split_data("test")
    if not len(train_ps) or not len(dev_ps):
        raise ConfigError("the train and dev splits need passages", path=str(cfg.splits))
    counts = train_y.sum(axis=0)
    too_few = [f"{c} ({int(n)})" for c, n in zip(codes, counts) if n < MIN_POSITIVES]
    if too_few:
        raise ModelError(f"too few positive training passages for {', '.join(too_few)}; "
                         f"at least {MIN_POSITIVES} are needed per code",
                         hint="code more passages (see `codeur suggest`) or remove the code from the codebook")
    for c, n in zip(codes, counts):
        if n < WARN_POSITIVES:
            log(f"warning: only {int(n)} positive training passages for {c}; its scores will be unreliable")

    fit_x, fit_y, fit_c = list(train_x), train_y, train_c
    if cfg.spoken_augmentation:
        fit_x = fit_x + [spoken_form(t) for t in train_x]
        fit_y = np.vstack([train_y, train_y])
        if train_c is not None:
            fit_c = train_c + [c.map(spoken_form) for c in train_c]

    log(f"training backend {cfg.backend!r} on {len(train_ps)} passages "
        f"({len(fit_x)} with spoken variants), dev {len(dev_ps)}, seed {cfg.seed}")
    t0 = time.time()
    backend.fit(fit_x, fit_y, dev_x, dev_y, seed=cfg.seed, contexts=fit_c)  # contexts None unless cfg.context
    seconds = round(time.time() - t0, 1)

    def predict(texts, ctx):
        return backend.predict_proba(texts, contexts=ctx)

    dev_p = predict(dev_x, dev_c)
    thresholds = tune_thresholds(dev_y, dev_p, codes)
    th = np.array([thresholds[c] for c in codes])
    scores = {"dev": summary_scores(dev_y, dev_p >= th, codes)}
    if len(test_ps):
        scores["test"] = summary_scores(test_y, predict(test_x, test_c) >= th, codes)
        spoken_c = [c.map(spoken_form) for c in test_c] if test_c is not None else None
        test_spoken = predict([spoken_form(t) for t in test_x], spoken_c)
        scores["test_spoken_form"] = summary_scores(test_y, test_spoken >= th, codes)
        if cfg.context:  # what a passages table without questions gets
            bare = predict(test_x, [Context()] * len(test_x))
            scores["test_without_context"] = summary_scores(test_y, bare >= th, codes)

    import platform

    versions = {"python": platform.python_version(), "codeur": __version__, "numpy": np.__version__}
    versions.update(backend.library_versions())
    rows = [(s, p.id, t, y) for s, ps, xs, ys in (("train", train_ps, train_x, train_y), ("dev", dev_ps, dev_x, dev_y),
                                                 ("test", test_ps, test_x, test_y)) for p, t, y in zip(ps, xs, ys)]
    card = {
        "name": cfg.name or Path(out).name,
        "backend": cfg.backend,
        "params": backend.params,
        "codebook_name": codebook.name,
        "codebook_hash": codebook.content_hash(),
        "labels": codes,
        "thresholds": thresholds,
        "coder": cfg.coder,
        "text_field": cfg.text,
        "spoken_augmentation": cfg.spoken_augmentation,
        "context": cfg.context,
        "seed": cfg.seed,
        "data_hash": data_hash(rows),
        "split": {s: sorted({p.doc_id for p in ps}) for s, ps in (("train", train_ps), ("dev", dev_ps), ("test", test_ps))},
        "n_passages": {"train": len(train_ps), "dev": len(dev_ps), "test": len(test_ps)},
        "train_positives": {c: int(n) for c, n in zip(codes, counts)},
        "scores": scores,
        "training_seconds": seconds,
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "library_versions": versions,
        "config": json.loads(cfg.model_dump_json()),
    }
    save_model(out, backend, codebook, card)
    return card
