"""A fitted TF-IDF vectorizer as plain data: its settings and vocabulary as JSON, its IDF as an array.

Both TF-IDF backends (`baseline`, `e5`) save their vectorizers this way instead of pickling them,
so a model folder from someone else is read as data, never run; `load_vectorizer` checks every
setting and shape on the way back.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def dump_vectorizer(vec, key: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The JSON description of a fitted `TfidfVectorizer`; its IDF goes into `arrays[f"idf__{key}"]`."""
    terms = [""] * len(vec.vocabulary_)
    for t, k in vec.vocabulary_.items():
        terms[k] = t
    arrays[f"idf__{key}"] = np.asarray(vec.idf_, dtype=np.float64)
    return {"analyzer": vec.analyzer, "ngram_range": list(vec.ngram_range), "lowercase": bool(vec.lowercase),
            "sublinear_tf": bool(vec.sublinear_tf), "norm": vec.norm, "vocabulary": terms}


def load_vectorizer(desc: dict[str, Any], key: str, arrays: dict[str, np.ndarray], dtype=np.float64):
    """The inverse of `dump_vectorizer`; `ValueError` on any unexpected setting or shape."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    lo, hi = (int(x) for x in desc["ngram_range"])
    if desc["analyzer"] not in ("word", "char", "char_wb") or not 1 <= lo <= hi <= 10 \
            or desc["norm"] not in ("l1", "l2", None):
        raise ValueError(f"TF-IDF block {key!r}: unexpected settings")
    terms = desc["vocabulary"]
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms) or len(set(terms)) != len(terms):
        raise ValueError(f"TF-IDF block {key!r}: the vocabulary is not a list of distinct terms")
    idf = arrays[f"idf__{key}"]
    if idf.shape != (len(terms),) or not np.issubdtype(idf.dtype, np.floating):
        raise ValueError(f"TF-IDF block {key!r}: {idf.shape[0] if idf.ndim else 0} IDF values for {len(terms)} terms")
    vec = TfidfVectorizer(analyzer=desc["analyzer"], ngram_range=(lo, hi), lowercase=bool(desc["lowercase"]),
                          sublinear_tf=bool(desc["sublinear_tf"]), norm=desc["norm"], dtype=dtype)
    vec.vocabulary_ = {t: k for k, t in enumerate(terms)}
    vec.idf_ = idf.astype(np.float64)
    return vec
