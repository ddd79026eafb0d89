"""TF-IDF word and character n-grams + one-vs-rest logistic regression (scikit-learn).

The yardstick every other backend is measured against. Trained with contexts (`context: true`),
it reads the interviewer's question and the previous passage too: each gets its own TF-IDF
blocks, weighted by `question_weight` and `previous_weight` against the passage's weight of 1,
so « confiance » in the question is a different feature from « confiance » in the answer.
Such a model also fits a passage-only pipeline, which scores the passages that come without a
question (a passages table made without one, a monologue): a model that learned to lean on the
question does worse on them than one that never had it.

Training uses scikit-learn's pipelines; what is saved are their learned numbers only, as JSON
(vocabulary and layout of each TF-IDF block) and arrays (`baseline.npz`, IDF, coefficients and
intercepts, loaded with `allow_pickle=False`): opening a model folder never runs code from it. A
loaded model scores sigmoid(X @ W.T + b) per code, as the logistic regressions it was read from.
The pickle files older versions wrote (`baseline.joblib`) are refused, never opened.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, Optional, Sequence

import numpy as np
from pydantic import ConfigDict, Field, field_validator

from ...core.atomic import write_json
from ...core.errors import ModelError
from ...passages.context import Context
from . import Backend, BackendParams
from .tfidf_io import dump_vectorizer, load_vectorizer

FORMAT = 1
META, ARRAYS = "baseline.json", "baseline.npz"
#: what older versions saved with joblib (pickle): refused, never opened
LEGACY = ("baseline.joblib", "baseline-plain.joblib")
COLUMNS = (0, 1, 2)  # of the object array made by `TfidfLogReg._matrix`: passage, question, previous


class _Linear:
    """A fitted pipeline as plain numbers: TF-IDF blocks (each reading the texts, or one column of
    `_matrix`'s array, times its weight) stacked side by side, then one logistic regression per
    code, p = sigmoid(X @ W.T + b); a code seen in every training text has a constant probability."""

    def __init__(self, blocks: list[tuple[str, int | None, float, Any]], W: np.ndarray, b: np.ndarray,
                 constant: list[float | None]):
        self.blocks = blocks        # (name, column or None, weight, fitted TfidfVectorizer)
        self.W, self.b, self.constant = W, b, constant
        cols = {col for _, col, _, _ in blocks}
        if len(blocks) == 0 or (None in cols and len(cols) > 1):
            raise ValueError("blocks must all read the texts or all read columns")
        #: None: reads a list of texts; else the columns of `_matrix`'s array it reads
        self.columns = None if None in cols else sorted(cols)

    @classmethod
    def from_sklearn(cls, pipe) -> "_Linear":
        from sklearn.compose import ColumnTransformer

        features, clf = pipe.steps[0][1], pipe.steps[-1][1]
        weights = features.transformer_weights or {}
        if isinstance(features, ColumnTransformer):
            blocks = [(name, int(col), float(weights.get(name, 1.0)), vec)
                      for name, vec, col in features.transformers_ if not isinstance(vec, str)]  # not "drop"
        else:  # FeatureUnion
            blocks = [(name, None, float(weights.get(name, 1.0)), vec) for name, vec in features.transformer_list]
        n = sum(len(vec.vocabulary_) for *_, vec in blocks)
        W = np.zeros((len(clf.estimators_), n), dtype=np.float64)
        b = np.zeros(len(clf.estimators_), dtype=np.float64)
        constant: list[float | None] = [None] * len(clf.estimators_)
        for j, est in enumerate(clf.estimators_):
            if hasattr(est, "coef_"):
                W[j], b[j] = est.coef_[0], est.intercept_[0]
            else:  # scikit-learn's constant predictor, for a code in every training text
                constant[j] = float(np.ravel(est.y_)[0])
        return cls(blocks, W, b, constant)

    def predict_proba(self, X) -> np.ndarray:
        from scipy import sparse
        from scipy.special import expit

        parts = []
        for _, col, weight, vec in self.blocks:
            parts.append(vec.transform(X if col is None else X[:, col]) * weight)
        z = np.asarray(sparse.hstack(parts, format="csr") @ self.W.T) + self.b
        p = expit(z)
        for j, c in enumerate(self.constant):
            if c is not None:
                p[:, j] = c
        return p

    def describe(self, which: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """The JSON part; the arrays go into `arrays` under names starting with `which`."""
        blocks = [{"name": name, "column": col, "weight": weight, **dump_vectorizer(vec, f"{which}__{i}", arrays)}
                  for i, (name, col, weight, vec) in enumerate(self.blocks)]
        arrays[f"W__{which}"] = np.asarray(self.W, dtype=np.float64)
        arrays[f"b__{which}"] = np.asarray(self.b, dtype=np.float64)
        return {"blocks": blocks, "constant": self.constant}

    @classmethod
    def rebuild(cls, meta: dict[str, Any], which: str, arrays: dict[str, np.ndarray], n_codes: int) -> "_Linear":
        """The inverse of `describe`, checking every shape and value on the way."""
        blocks = []
        for i, blk in enumerate(meta["blocks"]):
            col = blk["column"]
            if not (col is None or (type(col) is int and col in COLUMNS)) or not np.isfinite(float(blk["weight"])):
                raise ValueError(f"block {i} of {which!r}: unexpected settings")
            vec = load_vectorizer(blk, f"{which}__{i}", arrays)
            blocks.append((str(blk["name"]), col, float(blk["weight"]), vec))
        W, b = arrays[f"W__{which}"], arrays[f"b__{which}"]
        n = sum(len(vec.vocabulary_) for *_, vec in blocks)
        if W.shape != (n_codes, n) or b.shape != (n_codes,) \
                or not (np.issubdtype(W.dtype, np.floating) and np.issubdtype(b.dtype, np.floating)):
            raise ValueError(f"{which!r}: coefficients of shape {W.shape} and {b.shape} for {n_codes} codes "
                             f"and {n} features")
        constant = meta["constant"]
        if len(constant) != n_codes or not all(c is None or (isinstance(c, (int, float)) and 0 <= c <= 1)
                                               for c in constant):
            raise ValueError(f"{which!r}: bad constant probabilities")
        return cls(blocks, W.astype(np.float64), b.astype(np.float64),
                   [None if c is None else float(c) for c in constant])


def ngram_range(v: list[int]) -> list[int]:
    if len(v) != 2 or not 1 <= v[0] <= v[1]:
        raise ValueError(f"expected [smallest, largest] n-gram sizes with 1 <= smallest <= largest, got {v}")
    return v


class TfidfParams(BackendParams):
    """TF-IDF of words and characters, one-vs-rest logistic regression (also the e5 backend's)."""

    model_config = ConfigDict(title="backend 'baseline'")

    C: float = Field(4.0, gt=0)                       # inverse regularisation strength
    word_ngrams: list[int] = Field(default_factory=lambda: [1, 2])
    char_ngrams: list[int] = Field(default_factory=lambda: [2, 5])
    min_df: int | float = Field(2, gt=0)              # in so many passages (a float: a share of them)
    class_weight: Optional[Literal["balanced"]] = "balanced"
    question_weight: float = Field(0.4, ge=0)         # of the question's features, the passage's being 1
    previous_weight: float = Field(0.5, ge=0)         # of the previous passage's features

    @field_validator("word_ngrams", "char_ngrams")
    @classmethod
    def _ngrams(cls, v: list[int]) -> list[int]:
        return ngram_range(v)


class TfidfLogReg(Backend):
    name = "baseline"

    reads_context = True
    Params = TfidfParams

    def __init__(self, codes: Sequence[str], **params: Any):
        super().__init__(codes, **params)
        self.pipeline_ = None
        self.plain_ = None  # passage-only pipeline of a model trained with contexts

    def _vectorizers(self):
        from sklearn.feature_extraction.text import TfidfVectorizer

        p = self.params
        return [("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(p["word_ngrams"]), min_df=p["min_df"],
                                         sublinear_tf=True, lowercase=True)),
                ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(p["char_ngrams"]), min_df=p["min_df"],
                                         sublinear_tf=True, lowercase=True))]

    def _build(self, seed: int, columns: Sequence[int] = ()):
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import make_pipeline, make_union

        p = self.params
        if columns:  # of the object array made by _matrix: 0 passage, 1 question, 2 previous
            blocks, weights = [], {}
            for col, part, w in ((0, "passage", 1.0), (1, "question", p["question_weight"]),
                                 (2, "previous", p["previous_weight"])):
                if col not in columns:
                    continue
                for kind, vec in self._vectorizers():
                    blocks.append((f"{part}_{kind}", vec, col))
                    weights[f"{part}_{kind}"] = float(w)
            features = ColumnTransformer(blocks, transformer_weights=weights)
        else:
            features = make_union(*(v for _, v in self._vectorizers()))
        clf = OneVsRestClassifier(LogisticRegression(C=p["C"], class_weight=p["class_weight"], max_iter=2000,
                                                     random_state=seed))
        return make_pipeline(features, clf)

    @property
    def with_context(self) -> bool:
        """Whether the fitted pipeline reads contexts (it was trained with them): such a model has a
        passage-only pipeline beside it."""
        return self.pipeline_ is not None and self.plain_ is not None

    @staticmethod
    def _matrix(texts, contexts):
        n = len(texts)
        if contexts is None:
            contexts = [Context()] * n
        elif len(contexts) != n:
            raise ModelError(f"{len(contexts)} contexts for {n} texts")
        X = np.empty((n, 3), dtype=object)
        X[:, 0] = list(texts)
        X[:, 1] = [c.question for c in contexts]
        X[:, 2] = [c.previous for c in contexts]
        return X

    def fit(self, texts, labels, dev_texts, dev_labels, *, seed: int = 0, contexts=None) -> "TfidfLogReg":
        labels = np.asarray(labels)
        empty = [c for c, n in zip(self.codes, labels.sum(axis=0)) if n == 0]
        if empty:
            raise ModelError(f"no positive training example for {', '.join(empty)}")
        plain = self._build(seed).fit(list(texts), labels)
        if contexts is None:
            self.pipeline_, self.plain_ = plain, None
            return self
        X = self._matrix(texts, contexts)
        # a context column with too few texts to make a vocabulary (no interviewer in any
        # transcript, say) is left out; the passage column is always in
        words = re.compile(r"\w\w")
        columns = [0] + [c for c in (1, 2) if sum(bool(words.search(t)) for t in X[:, c]) >= self.params["min_df"]]
        self.pipeline_, self.plain_ = self._build(seed, columns).fit(X, labels), plain
        return self

    def predict_proba(self, texts, *, batch_size: int = 256, n_process: int = 1, contexts=None) -> np.ndarray:
        if self.pipeline_ is None:
            raise ModelError("the baseline is not trained or loaded")
        if not len(texts):
            return np.zeros((0, len(self.codes)), dtype=np.float32)
        if not self.with_context:
            return np.asarray(self.pipeline_.predict_proba(list(texts)), dtype=np.float32)
        X = self._matrix(texts, contexts)
        out = np.empty((len(texts), len(self.codes)), dtype=np.float32)
        bare = np.array([not q for q in X[:, 1]], dtype=bool)
        if bare.any():
            out[bare] = self.plain_.predict_proba(list(X[bare, 0]))
        if (~bare).any():
            out[~bare] = self.pipeline_.predict_proba(X[~bare])
        return out

    def save(self, path: Path) -> None:
        """Learned parameters as JSON (vocabularies, layout) and arrays (`.npz`): no pickle."""

        if self.pipeline_ is None:
            raise ModelError("the baseline is not trained: nothing to save")
        meta: dict[str, Any] = {"format": FORMAT, "codes": self.codes, "pipelines": {}}
        arrays: dict[str, np.ndarray] = {}
        for which, pipe in (("main", self.pipeline_), ("plain", self.plain_)):
            if pipe is None:
                continue
            linear = pipe if isinstance(pipe, _Linear) else _Linear.from_sklearn(pipe)
            meta["pipelines"][which] = linear.describe(which, arrays)
        np.savez_compressed(path / ARRAYS, **arrays)
        write_json(path / META, meta)

    @classmethod
    def load(cls, path: Path, codes, params) -> "TfidfLogReg":
        import json

        cls.refuse_unsafe(path)
        self = cls(codes, **params)
        try:
            meta = json.loads((path / META).read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"unknown format {meta.get('format')!r}")
            if list(meta["codes"]) != list(self.codes):
                raise ValueError("its codes differ from the model card's labels")
            with np.load(path / ARRAYS, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            pipes = meta["pipelines"]
            self.pipeline_ = _Linear.rebuild(pipes["main"], "main", arrays, len(self.codes))
            if "plain" in pipes:
                self.plain_ = _Linear.rebuild(pipes["plain"], "plain", arrays, len(self.codes))
            if (self.pipeline_.columns is not None) != (self.plain_ is not None):
                raise ValueError("a model with contexts needs its passage-only part, and only it")
        except FileNotFoundError as e:
            raise ModelError(f"cannot load the baseline: {Path(e.filename).name} is missing", path=str(path),
                             hint="retrain the model, or get the model folder again") from None
        except (OSError, KeyError, IndexError, ValueError, TypeError, AttributeError) as e:
            raise ModelError(f"cannot load the baseline ({type(e).__name__}: {e})", path=str(path),
                             hint="retrain the model, or get the model folder again") from None
        return self

    @staticmethod
    def refuse_unsafe(path: Path) -> None:
        """Refuse the pickle files older versions wrote (`baseline.joblib`): never unpickle them,
        since opening a pickle can run any code its author put in it."""
        for name in LEGACY:
            if (path / name).exists():
                raise ModelError(f"{path.name}/{name}: an old pickle-based baseline model, which codeur no longer "
                                 "opens (opening a pickle file can run code)", path=str(path.parent),
                                 hint="retrain it with `codeur train --config ... --out DIR`; "
                                      "never open a pickle file from someone you do not trust")

    def library_versions(self) -> dict[str, str]:
        import sklearn

        return {"scikit-learn": sklearn.__version__}
