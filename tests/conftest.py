"""Fixtures shared by several test modules."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.classify.backends.baseline import TfidfLogReg
from pipeline.core.codebook import load_codebook
from pipeline.classify.model import save_model

WORDS = {"proximite": "voisin vallée local", "exterieur": "allemand export étranger",
         "concurrents": "concurrent rival appel", "confiance": "confiance copain ami",
         "mefiance": "méfiance copier peur", "tacite": "savoir-faire geste oreille",
         "explicite": "brevet procédure écrit", "procede": "machine procédé atelier",
         "produit": "produit gamme nouveau"}


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A real (TF-IDF + logistic regression) model folder trained in a second on nine invented
    sentences per code, with the configured codebook: for tests of classify and of model folders."""
    cb = load_codebook()
    texts, labels = [], []
    for j, code in enumerate(cb.codes):
        for k in range(3):
            texts.append(f"on parle de {WORDS[code]} encore {k}")
            labels.append([int(i == j) for i in range(len(cb.codes))])
    backend = TfidfLogReg(cb.codes, min_df=1).fit(texts, np.array(labels), [], None, seed=0)
    card = {"name": "tiny", "backend": "baseline", "labels": cb.codes, "codebook_hash": cb.content_hash(),
            "codebook_name": cb.name, "thresholds": {c: 0.5 for c in cb.codes}, "params": backend.params}
    return save_model(tmp_path_factory.mktemp("models") / "tiny", backend, cb, card)
