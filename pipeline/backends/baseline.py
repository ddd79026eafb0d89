"""TF-IDF word and character n-grams + one-vs-rest logistic regression (scikit-learn).

The yardstick every other backend is measured against. Trained with contexts (`context: true`),
it reads the interviewer's question and the previous passage too: each gets its own TF-IDF
blocks, weighted by `question_weight` and `previous_weight` against the passage's weight of 1,
so « confiance » in the question is a different feature from « confiance » in the answer.
Such a model also fits a passage-only pipeline, which scores the passages that come without a
question (a passages table made without one, a monologue): a model that learned to lean on the
question does worse on them than one that never had it.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..context import Context
from ..errors import ModelError
from . import Backend


class TfidfLogReg(Backend):
    name = "baseline"

    reads_context = True
    DEFAULTS: dict[str, Any] = {"C": 4.0, "word_ngrams": [1, 2], "char_ngrams": [2, 5], "min_df": 2,
                                "class_weight": "balanced", "question_weight": 0.4, "previous_weight": 0.5}

    def __init__(self, codes: Sequence[str], **params: Any):
        super().__init__(codes, **{**self.DEFAULTS, **params})
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
        """Whether the fitted pipeline reads contexts (it was trained with them)."""
        from sklearn.compose import ColumnTransformer

        return self.pipeline_ is not None and isinstance(self.pipeline_.steps[0][1], ColumnTransformer)

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
        import joblib

        joblib.dump(self.pipeline_, path / "baseline.joblib")
        if self.plain_ is not None:
            joblib.dump(self.plain_, path / "baseline-plain.joblib")

    @classmethod
    def load(cls, path: Path, codes, params) -> "TfidfLogReg":
        import joblib

        self = cls(codes, **params)
        try:
            self.pipeline_ = joblib.load(path / "baseline.joblib")
            if self.with_context:
                self.plain_ = joblib.load(path / "baseline-plain.joblib")
        except (OSError, EOFError, ValueError) as e:
            raise ModelError(f"cannot load the baseline ({type(e).__name__}: {e})", path=str(path)) from None
        return self

    def library_versions(self) -> dict[str, str]:
        import sklearn

        return {"scikit-learn": sklearn.__version__}
