"""The transformers backend, end to end on a tiny random-weight CamemBERT built here (no download):
train → save → load → classify, strictly from local directories."""
import numpy as np
import pytest

pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from pipeline.classify.backends import backend_class  # noqa: E402
from pipeline.core.errors import ConfigError  # noqa: E402

from helpers import CAMEMBERT_CODES as CODES, CAMEMBERT_TEXTS as TEXTS  # noqa: E402
LABELS = np.array([[1, 0], [0, 1], [1, 0], [0, 1]] * 6, dtype=np.float32)


def test_train_save_load_classify_offline(tiny_camembert, tmp_path):
    cls = backend_class("transformers")
    clf = cls(CODES, model_dir=str(tiny_camembert), epochs=2, batch_size=8, max_length=32, learning_rate=1e-3)
    clf.fit(TEXTS, LABELS, TEXTS[:4], LABELS[:4], seed=0)
    probs = clf.predict_proba(TEXTS[:4])
    assert probs.shape == (4, 2) and np.all((probs >= 0) & (probs <= 1))
    clf.save(tmp_path)
    again = cls.load(tmp_path, CODES, clf.params)
    np.testing.assert_allclose(again.predict_proba(TEXTS[:4]), probs, atol=1e-5)
    assert again.model_.config.problem_type == "multi_label_classification"


def test_a_model_name_instead_of_a_local_folder_is_refused(tmp_path):
    clf = backend_class("transformers")(CODES, model_dir="almanach/camembertv2-base")
    with pytest.raises(ConfigError, match="local model folder"):
        clf.fit(TEXTS, LABELS, TEXTS, LABELS)


def test_contexts_are_read_as_the_second_text_of_a_pair(tiny_camembert, tmp_path):
    from pipeline.classify.backends.transformers_backend import context_text
    from pipeline.passages.context import Context

    ctx = [Context("Et vos voisins ?", ""), Context("Et la confiance ?", "on se connaît depuis longtemps")] * 12
    assert context_text(ctx[1]) == "Et la confiance ? | on se connaît depuis longtemps"
    assert context_text(Context("", "avant")) == "avant" and context_text(Context("q ?", "")) == "q ?"
    cls = backend_class("transformers")
    clf = cls(CODES, model_dir=str(tiny_camembert), epochs=1, batch_size=8, max_length=16, learning_rate=1e-3)
    clf.fit(TEXTS, LABELS, TEXTS[:4], LABELS[:4], seed=0, contexts=ctx)
    enc = clf._encode(TEXTS[:2], [context_text(c) for c in ctx[:2]])
    assert all(len(ids) <= 16 for ids in enc["input_ids"])  # the pair is cut to max_length
    with_q = clf.predict_proba(TEXTS[:4], contexts=ctx[:4])
    assert with_q.shape == (4, 2)
    assert not np.allclose(with_q, clf.predict_proba(TEXTS[:4]))  # the question changes the input
    clf.save(tmp_path)
    again = cls.load(tmp_path, CODES, clf.params)
    np.testing.assert_allclose(again.predict_proba(TEXTS[:4], contexts=ctx[:4]), with_q, atol=1e-5)


def test_a_half_precision_checkpoint_is_fine_tuned_in_float32(tiny_camembert, tmp_path):
    import shutil

    import torch
    from transformers import CamembertForSequenceClassification

    half = tmp_path / "half"
    shutil.copytree(tiny_camembert, half)
    CamembertForSequenceClassification.from_pretrained(tiny_camembert).half().save_pretrained(half)
    clf = backend_class("transformers")(CODES, model_dir=str(half), epochs=1, batch_size=8, max_length=32,
                                        learning_rate=1e-3)
    clf.fit(TEXTS, LABELS, TEXTS[:4], LABELS[:4], seed=0)
    assert next(clf.model_.parameters()).dtype == torch.float32
    assert np.isfinite(clf.predict_proba(TEXTS[:4])).all()
