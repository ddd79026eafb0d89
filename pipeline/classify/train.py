"""Training: corpus splits → a backend → per-code thresholds on dev → a model directory with its card.

Test interviews are scored for the card only; nothing is tuned on them.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..core.agreement import precision_recall_f1, summary_scores
from .backends import REGISTRY, backend_class
from ..core.codebook import load_codebook
from ..passages.context import Context, contexts_for_rows
from ..core.errors import ConfigError, ModelError
from .model import save_model
from ..core.config import load_config

REPO = Path(__file__).resolve().parents[2]
MIN_POSITIVES = 5  # below this a code cannot be learned or thresholded: refuse
WARN_POSITIVES = 20


class ExtraCorpus(BaseModel):
    """Another coded corpus trained on beside the main one (e.g. the real interviews, corpus/real)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    path: Path
    splits: Path | None = None      # default: the corpus folder's own splits.yaml
    coder: str = "gold"
    #: weight of each of its training passages against a main-corpus passage (1.0)
    weight: float = Field(1.0, gt=0)
    #: train on it (False: only scored, with thresholds possibly tuned on its dev interviews)
    train: bool = True


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
    #: also read the interviewer's question and the previous passage (pipeline/passages/context.py)
    context: bool = False
    #: the backend's parameters (its `Params`: checked when the config is loaded, defaults filled in)
    params: dict[str, Any] = Field(default_factory=dict)
    #: more coded corpora (their train interviews join training; their dev and test are scored)
    extra_corpora: list[ExtraCorpus] = Field(default_factory=list)
    #: whose dev interviews tune the per-code thresholds: "main", the name of an extra corpus, or
    #: several ("main+real"): then each code's threshold maximises the mean of its F1 on each
    thresholds_on: str = "main"
    notes: str = ""

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        if v not in REGISTRY:
            raise ValueError(f"unknown backend {v!r} (one of {', '.join(REGISTRY)})")
        return v


def load_train_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    cfg = load_config(path, TrainConfig, what="training config")
    # the backend's own parameters: a misspelt key is refused here, naming it and the known ones
    backend_class(cfg.backend).check_params(cfg.params, where=str(path), prefix=("params",), error=ConfigError)
    base = Path.cwd()

    def resolve(p: Path) -> Path:
        return REPO / p if not p.is_absolute() and not (base / p).exists() and (REPO / p).exists() else p

    for field in ("corpus", "codebook", "splits"):
        setattr(cfg, field, resolve(getattr(cfg, field)))
    names = ["main"]
    for extra in cfg.extra_corpora:
        extra.path = resolve(extra.path)
        if extra.splits is not None:
            extra.splits = resolve(extra.splits)
        if extra.name in names:
            raise ConfigError(f"extra_corpora: the name {extra.name!r} is used twice", path=str(path))
        names.append(extra.name)
    if not set(cfg.thresholds_on.split("+")) <= set(names):
        raise ConfigError(f"thresholds_on: {cfg.thresholds_on!r} is neither 'main' nor an extra corpus",
                          path=str(path), hint=f"choose one of: {', '.join(names)}")
    return cfg


_PUNCT = re.compile(r"[^\w\s'’-]+|(?<!\w)[-']|[-'](?!\w)")


def spoken_form(text: str) -> str:
    """How an ESLO-style transcriber would write it: lower case, no punctuation but apostrophes."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def tune_thresholds(y: np.ndarray | Sequence[np.ndarray], probs: np.ndarray | Sequence[np.ndarray],
                    codes: Sequence[str]) -> dict[str, float]:
    """Per code, the threshold in [0.05, 0.95] that maximises F1 on dev (ties: nearest 0.5).

    Given several dev sets (lists of `y` and `probs`, e.g. authored and real interviews, whose base
    rates differ tenfold), the threshold maximises the mean of the F1s on the sets where the code
    occurs, so that neither kind of interview is sacrificed to the other."""
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    ps = list(probs) if isinstance(probs, (list, tuple)) else [probs]
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    out = {}
    for j, code in enumerate(codes):
        sets = [(yy[:, j], pp[:, j]) for yy, pp in zip(ys, ps) if yy[:, j].sum() > 0]
        if not sets:
            out[code] = 0.5
            continue
        best = max(grid, key=lambda t: (float(np.mean([precision_recall_f1(yy, pp >= t)[2] for yy, pp in sets])),
                                        -abs(t - 0.5)))
        out[code] = float(best)
    return out


def ranking_scores(y: np.ndarray, probs: np.ndarray, codes: Sequence[str]) -> dict[str, Any]:
    """How well the scores rank passages, whatever the thresholds: per code ROC-AUC and average
    precision (scikit-learn), and their means over the codes that have both classes."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    per = {}
    for j, c in enumerate(codes):
        if 0 < y[:, j].sum() < len(y):
            per[c] = {"auc": float(roc_auc_score(y[:, j], probs[:, j])),
                      "ap": float(average_precision_score(y[:, j], probs[:, j]))}
    mean = lambda k: float(np.mean([r[k] for r in per.values()])) if per else float("nan")  # noqa: E731
    return {"mean_auc": mean("auc"), "mean_ap": mean("ap"), "per_code": per}


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


@dataclass
class Part:
    """One split of one corpus, ready for a backend: passages, model texts, labels, contexts."""

    corpus: str
    split: str
    passages: list
    texts: list[str]
    y: np.ndarray
    contexts: list[Context] | None

    def __len__(self) -> int:
        return len(self.passages)


def coder_of(cfg: TrainConfig, name: str) -> str:
    """Whose coding is the gold of corpus `name` ("main" or an extra corpus)."""
    return cfg.coder if name == "main" else next(e.coder for e in cfg.extra_corpora if e.name == name)


def load_corpora(cfg: TrainConfig, codebook, *, corpus=None) -> dict[str, Any]:
    """The main corpus and every extra corpus of a training config, by name ("main" first)."""
    from ..corpus.dataset import load_corpus

    out = {"main": corpus or load_corpus(cfg.corpus, codebook=codebook, splits_path=cfg.splits)}
    where = {"main": cfg.corpus}
    for extra in cfg.extra_corpora:
        out[extra.name] = load_corpus(extra.path, codebook=codebook, splits_path=extra.splits, primary=extra.coder)
        where[extra.name] = extra.path
    for name, c in out.items():
        if coder_of(cfg, name) not in c.labels:
            raise ConfigError(f"no gold coding by {coder_of(cfg, name)!r} in corpus {name!r}", path=str(where[name]),
                              hint=f"coders there: {', '.join(c.labels) or 'none'}")
    return out


def make_part(cfg: TrainConfig, corpora: dict[str, Any], name: str, split: str,
              docs: set[str] | None = None) -> Part:
    c = corpora[name]
    coder = coder_of(cfg, name)
    ps = [p for p in c.passages_of(split) if docs is None or p.doc_id in docs]
    texts = [getattr(p, cfg.text) for p in ps]
    ctx = contexts_for_rows([p.to_dict() for p in ps], lambda r: r[cfg.text]) if cfg.context else None
    y = np.array(c.multi_hot(ps, coder), dtype=np.int8).reshape(len(ps), len(c.codebook.codes))
    return Part(name, split, ps, texts, y, ctx)


def fit_model(cfg: TrainConfig, codebook, corpora: dict[str, Any], *, log=print,
              train_docs: dict[str, set[str]] | None = None, config_path: str | Path = "") -> dict[str, Any]:
    """Fit the configured backend on the train interviews of every corpus, tune thresholds on the
    dev interviews of `thresholds_on`, and score every dev and test split.

    `train_docs` restricts a corpus's train interviews (the learning curve); returns the backend,
    thresholds, scores and what the card records."""
    codes = codebook.codes
    backend = backend_class(cfg.backend)(codes, **cfg.params)
    if cfg.context and not backend.reads_context:
        raise ConfigError(f"backend {cfg.backend!r} does not read contexts; set context: false",
                          path=str(config_path))
    seed_everything(cfg.seed)
    weights = {"main": 1.0, **{e.name: e.weight for e in cfg.extra_corpora}}
    trains = [make_part(cfg, corpora, "main", "train", (train_docs or {}).get("main"))]
    trains += [make_part(cfg, corpora, e.name, "train", (train_docs or {}).get(e.name))
               for e in cfg.extra_corpora if e.train]
    trains = [t for t in trains if len(t)]
    devs = {n: make_part(cfg, corpora, n, "dev") for n in corpora}
    tests = {n: make_part(cfg, corpora, n, "test") for n in corpora}
    tunes = [devs[n] for n in cfg.thresholds_on.split("+")]
    tune = tunes[0]
    if not trains or not all(len(t) for t in tunes):
        raise ConfigError("the train and dev splits need passages", path=str(cfg.splits))
    train_y = np.vstack([t.y for t in trains])
    counts = train_y.sum(axis=0)
    too_few = [f"{c} ({int(n)})" for c, n in zip(codes, counts) if n < MIN_POSITIVES]
    if too_few:
        raise ModelError(f"too few positive training passages for {', '.join(too_few)}; "
                         f"at least {MIN_POSITIVES} are needed per code",
                         hint="code more passages (see `codeur suggest`) or remove the code from the codebook")
    for c, n in zip(codes, counts):
        if n < WARN_POSITIVES:
            log(f"warning: only {int(n)} positive training passages for {c}; its scores will be unreliable")

    fit_x: list[str] = []
    fit_c: list[Context] | None = [] if cfg.context else None
    fit_w: list[float] = []
    fit_ys = []
    for t in trains:
        variants = [(t.texts, t.contexts)]
        if cfg.spoken_augmentation:
            variants.append(([spoken_form(x) for x in t.texts],
                             [c.map(spoken_form) for c in t.contexts] if t.contexts is not None else None))
        for xs, cs in variants:
            fit_x += xs
            if fit_c is not None:
                fit_c += cs
            fit_w += [weights[t.corpus]] * len(xs)
            fit_ys.append(t.y)
    fit_y = np.vstack(fit_ys)
    kwargs: dict[str, Any] = {}
    if any(w != 1.0 for w in fit_w):
        if backend.supports_sample_weight:
            kwargs["sample_weight"] = np.array(fit_w)
        elif all(float(w).is_integer() for w in fit_w):  # a weight of 3 is the passage three times
            reps = [int(w) for w in fit_w]
            fit_x = [x for x, r in zip(fit_x, reps) for _ in range(r)]
            fit_c = [c for c, r in zip(fit_c, reps) for _ in range(r)] if fit_c is not None else None
            fit_y = np.repeat(fit_y, reps, axis=0)
        else:
            raise ConfigError(f"backend {cfg.backend!r} takes only whole-number corpus weights",
                              path=str(config_path))
    n_train = sum(len(t) for t in trains)
    log(f"training backend {cfg.backend!r} on {n_train} passages "
        + "(" + ", ".join(f"{t.corpus} {len(t)}" for t in trains)
        + (f"; {len(fit_x)} with spoken variants), " if cfg.spoken_augmentation else "), ")
        + f"thresholds on {cfg.thresholds_on} dev ({sum(len(t) for t in tunes)}), seed {cfg.seed}")
    t0 = time.time()
    backend.fit(fit_x, fit_y, tune.texts, tune.y, seed=cfg.seed, contexts=fit_c, **kwargs)
    seconds = round(time.time() - t0, 1)

    # every dev and test split scored once; the thresholds come from the dev splits named
    probs: dict[str, np.ndarray] = {}
    parts: dict[str, Part] = {}
    for name in corpora:
        prefix = "" if name == "main" else f"{name}_"
        for split, part in (("dev", devs[name]), ("test", tests[name])):
            if len(part):
                parts[prefix + split] = part
                probs[prefix + split] = backend.predict_proba(part.texts, contexts=part.contexts)
    tune_keys = ["dev" if n == "main" else f"{n}_dev" for n in cfg.thresholds_on.split("+")]
    thresholds = tune_thresholds([parts[k].y for k in tune_keys], [probs[k] for k in tune_keys], codes)
    th = np.array([thresholds[c] for c in codes])
    scores: dict[str, Any] = {}
    for key, part in parts.items():
        scores[key] = summary_scores(part.y, probs[key] >= th, codes)
        scores[key]["ranking"] = ranking_scores(part.y, probs[key], codes)
    test = tests["main"]
    if len(test):
        spoken_c = [c.map(spoken_form) for c in test.contexts] if test.contexts is not None else None
        spoken = backend.predict_proba([spoken_form(t) for t in test.texts], contexts=spoken_c)
        scores["test_spoken_form"] = summary_scores(test.y, spoken >= th, codes)
        if cfg.context:  # what a passages table without questions gets
            bare = backend.predict_proba(test.texts, contexts=[Context()] * len(test))
            scores["test_without_context"] = summary_scores(test.y, bare >= th, codes)
    return {"backend": backend, "thresholds": thresholds, "scores": scores, "probs": probs, "tests": tests,
            "trains": trains, "devs": devs, "seconds": seconds, "counts": counts}


def train(config_path: str | Path, out: str | Path, *, log=print, corpus=None) -> dict[str, Any]:
    from .. import __version__

    cfg = load_train_config(config_path)
    codebook = load_codebook(cfg.codebook)
    codes = codebook.codes
    corpora = load_corpora(cfg, codebook, corpus=corpus)
    fitted = fit_model(cfg, codebook, corpora, log=log, config_path=config_path)
    backend, trains, devs, tests = fitted["backend"], fitted["trains"], fitted["devs"], fitted["tests"]

    import platform

    versions = {"python": platform.python_version(), "codeur": __version__, "numpy": np.__version__}
    versions.update(backend.library_versions())
    rows = [(("" if part.corpus == "main" else part.corpus + ":") + part.split, p.id, t, y)
            for part in [*trains, *devs.values(), *tests.values()] for p, t, y in zip(part.passages, part.texts, part.y)]
    main = {p.split: p for p in [*trains, devs["main"], tests["main"]] if p.corpus == "main"}
    card = {
        "name": cfg.name or Path(out).name,
        "backend": cfg.backend,
        "params": backend.params,
        "codebook_name": codebook.name,
        "codebook_hash": codebook.content_hash(),
        "labels": codes,
        "thresholds": fitted["thresholds"],
        "thresholds_on": cfg.thresholds_on,
        "coder": cfg.coder,
        "text_field": cfg.text,
        "spoken_augmentation": cfg.spoken_augmentation,
        "context": cfg.context,
        "seed": cfg.seed,
        "data_hash": data_hash(rows),
        "split": {s: sorted({p.doc_id for p in main[s].passages}) if s in main else []
                  for s in ("train", "dev", "test")},
        "n_passages": {s: len(main[s]) if s in main else 0 for s in ("train", "dev", "test")},
        "extra_corpora": [{"name": e.name, "path": str(e.path), "coder": e.coder, "weight": e.weight,
                           "trained_on": e.train,
                           "split": {s: sorted({p.doc_id for p in corpora[e.name].passages_of(s)})
                                     for s in ("train", "dev", "test")},
                           "n_passages": {s: len(corpora[e.name].passages_of(s)) for s in ("train", "dev", "test")}}
                          for e in cfg.extra_corpora],
        "train_positives": {c: int(n) for c, n in zip(codes, fitted["counts"])},
        "scores": fitted["scores"],
        "training_seconds": fitted["seconds"],
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "library_versions": versions,
        "config": json.loads(cfg.model_dump_json()),
    }
    save_model(out, backend, codebook, card)
    return card
