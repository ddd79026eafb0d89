"""Baseline backend, the yardstick: TF-IDF word and character n-grams + one-vs-rest logistic
regression (scikit-learn). The default backend must beat it on the test interviews."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError
from . import Backend


class TfidfLogReg(Backend):
    name = "baseline"

    DEFAULTS: dict[str, Any] = {"C": 4.0, "word_ngrams": [1, 2], "char_ngrams": [2, 5], "min_df": 2,
                                "class_weight": "balanced"}

    def __init__(self, codes: Sequence[str], **params: Any):
        super().__init__(codes, **{**self.DEFAULTS, **params})
        self.pipeline_ = None

    def _build(self, seed: int):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import make_pipeline, make_union

        p = self.params
        features = make_union(
            TfidfVectorizer(analyzer="word", ngram_range=tuple(p["word_ngrams"]), min_df=p["min_df"],
                            sublinear_tf=True, lowercase=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(p["char_ngrams"]), min_df=p["min_df"],
                            sublinear_tf=True, lowercase=True),
        )
        clf = OneVsRestClassifier(LogisticRegression(C=p["C"], class_weight=p["class_weight"], max_iter=2000,
                                                     random_state=seed))
        return make_pipeline(features, clf)

    def fit(self, texts, labels, dev_texts, dev_labels, *, seed: int = 0) -> "TfidfLogReg":
        labels = np.asarray(labels)
        empty = [c for c, n in zip(self.codes, labels.sum(axis=0)) if n == 0]
        if empty:
            raise ModelError(f"no positive training example for {', '.join(empty)}")
        self.pipeline_ = self._build(seed).fit(list(texts), labels)
        return self

    def predict_proba(self, texts, *, batch_size: int = 256, n_process: int = 1) -> np.ndarray:
        if self.pipeline_ is None:
            raise ModelError("the baseline is not trained or loaded")
        if not len(texts):
            return np.zeros((0, len(self.codes)), dtype=np.float32)
        return np.asarray(self.pipeline_.predict_proba(list(texts)), dtype=np.float32)

    def save(self, path: Path) -> None:
        import joblib

        joblib.dump(self.pipeline_, path / "baseline.joblib")

    @classmethod
    def load(cls, path: Path, codes, params) -> "TfidfLogReg":
        import joblib

        self = cls(codes, **params)
        try:
            self.pipeline_ = joblib.load(path / "baseline.joblib")
        except (OSError, EOFError, ValueError) as e:
            raise ModelError(f"cannot load the baseline ({type(e).__name__}: {e})", path=str(path)) from None
        return self

    def library_versions(self) -> dict[str, str]:
        import sklearn

        return {"scikit-learn": sklearn.__version__}
