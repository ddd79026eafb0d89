"""A model folder a colleague e-mails never runs code when codeur opens it (issue 10).

Backends save plain arrays (`.npz` read with `allow_pickle=False`), JSON or safetensors, never
pickles; the pickle files older versions wrote are refused unopened; the model card lists the
SHA-256 of every file, and a file that changed, is missing or was added is refused, by name,
before the backend reads anything."""
import hashlib
import json
import pickle
import shutil
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.classify.backends.baseline import TfidfLogReg
from pipeline.cli import app
from pipeline.core.codebook import load_codebook
from pipeline.passages.context import Context
from pipeline.core.errors import ModelError
from pipeline.classify.model import load_model, save_model
from helpers import WORDS


CB = load_codebook()
CODES = CB.codes
runner = CliRunner()

QUERIES = ["le voisin de la vallée", "un brevet allemand", "la machine de l'atelier", "rien à voir",
           "une gamme nouvelle, on se méfie"]
QUERY_CONTEXTS = [Context("Et vos voisins ?", ""), Context("", "la réponse d'avant"), Context(),
                  Context("Et les machines ?", "on a un atelier"), Context("Vous avez confiance ?", "oui")]


# --- was any pickle opened? -----------------------------------------------------------------------
# Unpickling runs code only by looking up a callable (`find_class`), and Python announces every
# such look-up as the audit event "pickle.find_class": recorded here while a test watches.

_WATCHING: list[list[str]] = []


def _audit(event, args):
    if event == "pickle.find_class" and _WATCHING:
        _WATCHING[-1].append(".".join(map(str, args)))


sys.addaudithook(_audit)


class watch_pickles:
    def __enter__(self):
        self.found: list[str] = []
        _WATCHING.append(self.found)
        return self.found

    def __exit__(self, *exc):
        _WATCHING.pop()


class Payload:
    """A pickle that creates a file when it is opened: what a tampered model would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def evil_pickle(marker) -> bytes:
    return pickle.dumps(Payload(marker))


def test_the_payload_would_run_if_unpickled(tmp_path):
    """The planted pickles are real: opened, they create their marker file."""
    marker = tmp_path / "ran"
    with watch_pickles() as opened:
        pickle.loads(evil_pickle(marker)).close()
    assert marker.exists()
    assert opened == ["io.open"]  # and the watch sees it look up the function it calls


# --- a tiny baseline model ------------------------------------------------------------------------

def training_data():
    texts, labels, contexts = [], [], []
    for j, code in enumerate(CODES):
        for k in range(3):
            texts.append(f"on parle de {WORDS[code]} encore {k}")
            labels.append([int(i == j) for i in range(len(CODES))])
            contexts.append(Context(f"Et {WORDS[code].split()[k]} ?" if k < 2 else "", f"avant {k}"))
    return texts, np.array(labels), contexts


def card():
    return {"name": "tiny", "backend": "baseline", "labels": CODES, "codebook_hash": CB.content_hash(),
            "codebook_name": CB.name, "thresholds": {c: 0.5 for c in CODES}}


@pytest.fixture(scope="module", params=[False, True], ids=["passage-only", "with-contexts"])
def fitted(request, tmp_path_factory):
    texts, labels, contexts = training_data()
    backend = TfidfLogReg(CODES, min_df=1).fit(texts, labels, [], None, seed=0,
                                               contexts=contexts if request.param else None)
    out = save_model(tmp_path_factory.mktemp("models") / "tiny", backend, CB, {**card(), "params": backend.params})
    return backend, out


@pytest.fixture
def model_dir(fitted, tmp_path):
    """A copy of the saved model, to tamper with."""
    return shutil.copytree(fitted[1], tmp_path / "model")


def rewrite_card(path, **changes):
    card = json.loads((path / "model-card.json").read_text(encoding="utf-8"))
    card.update(changes)
    for key, value in changes.items():
        if value is None:
            del card[key]
    (path / "model-card.json").write_text(json.dumps(card), encoding="utf-8")
    return card


def sha256(path):
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def classify(model, tmp_path):
    src = tmp_path / "passages.jsonl"
    src.write_text(json.dumps({"id": "p1", "text": "le voisin de la vallée"}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    return runner.invoke(app, ["classify", str(src), "--model", str(model), "--out", str(out)]), out


# --- saved without pickle, loaded to the same predictions ----------------------------------------

def test_the_card_lists_the_sha256_of_every_file(fitted):
    _, path = fitted
    card = json.loads((path / "model-card.json").read_text(encoding="utf-8"))
    assert set(card["files"]) == {"codebook.yaml", "backend/baseline.json", "backend/baseline.npz"}
    for rel, digest in card["files"].items():
        assert digest == sha256(path / rel)
    assert not list(path.rglob("*.joblib"))
    with np.load(path / "backend" / "baseline.npz", allow_pickle=False) as z:  # plain arrays only
        assert all(z[k].dtype != object for k in z.files)


def test_a_loaded_model_predicts_as_the_trained_one_without_opening_a_pickle(fitted):
    backend, path = fitted
    with watch_pickles() as opened:
        model = load_model(path)
        got = model.predict_proba(QUERIES)
        got_ctx = model.predict_proba(QUERIES, contexts=QUERY_CONTEXTS)
    assert opened == []
    assert model.backend.with_context == backend.with_context
    assert np.allclose(got, backend.predict_proba(QUERIES), atol=1e-6)
    assert np.allclose(got_ctx, backend.predict_proba(QUERIES, contexts=QUERY_CONTEXTS), atol=1e-6)
    if backend.with_context:  # the question matters, and the loaded model reads it the same way
        assert not np.allclose(got_ctx, got, atol=1e-6)


def test_a_model_saved_from_a_loaded_one_is_the_same(fitted, tmp_path):
    _, path = fitted
    model = load_model(path)
    again = load_model(save_model(tmp_path / "again", model.backend, CB, {**card(), "params": model.backend.params}))
    assert np.allclose(again.predict_proba(QUERIES, contexts=QUERY_CONTEXTS),
                       model.predict_proba(QUERIES, contexts=QUERY_CONTEXTS), atol=1e-6)


# --- tampered files are refused, by name -----------------------------------------------------------

def _change_npz(path):
    f = path / "backend" / "baseline.npz"
    with np.load(f, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["W__main"] = arrays["W__main"] * 2  # still a valid file: only the hash tells
    np.savez_compressed(f, **arrays)
    return "backend/baseline.npz"


def _change_json(path):
    f = path / "backend" / "baseline.json"
    meta = json.loads(f.read_text(encoding="utf-8"))
    meta["pipelines"]["main"]["blocks"][0]["weight"] = 3.0
    f.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return "backend/baseline.json"


def _change_codebook(path):
    f = path / "codebook.yaml"
    f.write_text(f.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    return "codebook.yaml"


@pytest.mark.parametrize("tamper, what", [(_change_npz, "has changed"), (_change_json, "has changed"),
                                          (_change_codebook, "has changed")])
def test_a_changed_file_is_refused_by_name(model_dir, tamper, what):
    rel = tamper(model_dir)
    with pytest.raises(ModelError, match=f"{rel} {what}") as e:
        load_model(model_dir)
    assert "retrain" in str(e.value)


def test_a_missing_file_is_refused_by_name(model_dir):
    (model_dir / "backend" / "baseline.npz").unlink()
    with pytest.raises(ModelError, match="backend/baseline.npz is missing"):
        load_model(model_dir)


def test_an_extra_file_in_backend_is_refused_by_name(model_dir):
    (model_dir / "backend" / "sub").mkdir()
    (model_dir / "backend" / "sub" / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(ModelError, match="backend/sub/notes.txt is not part of the model"):
        load_model(model_dir)


def test_a_link_in_backend_is_refused(model_dir, tmp_path):
    (tmp_path / "elsewhere.txt").write_text("x", encoding="utf-8")
    (model_dir / "backend" / "link.txt").symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(ModelError, match="backend/link.txt is a link"):
        load_model(model_dir)


def test_a_card_listing_a_path_outside_the_folder_is_refused(model_dir):
    card = json.loads((model_dir / "model-card.json").read_text(encoding="utf-8"))
    rewrite_card(model_dir, files={**card["files"], "../outside.txt": "sha256:" + "0" * 64})
    with pytest.raises(ModelError, match="not a file of a model folder"):
        load_model(model_dir)


def test_a_card_without_file_hashes_is_refused(model_dir):
    rewrite_card(model_dir, files=None)
    with pytest.raises(ModelError, match="no file hashes.*retrain"):
        load_model(model_dir)


def test_the_command_line_names_the_changed_file(model_dir, tmp_path):
    _change_npz(model_dir)
    result, out = classify(model_dir, tmp_path)
    assert result.exit_code == 2, result.output
    assert "backend/baseline.npz has changed" in result.output and "retrain" in result.output
    assert not out.exists()


# --- pickles never opened --------------------------------------------------------------------------

def _old_model(path, marker):
    """The folder an older codeur wrote: backend/baseline.joblib, a card without file hashes."""
    for f in (path / "backend").iterdir():
        f.unlink()
    (path / "backend" / "baseline.joblib").write_bytes(evil_pickle(marker))
    rewrite_card(path, files=None)


def _planted(path, marker):
    """A current folder with a pickle added beside its files."""
    (path / "backend" / "baseline.joblib").write_bytes(evil_pickle(marker))


def _planted_and_listed(path, marker):
    """The same, with the card edited to list the pickle and its hash."""
    _planted(path, marker)
    card = json.loads((path / "model-card.json").read_text(encoding="utf-8"))
    rewrite_card(path, files={**card["files"], "backend/baseline.joblib": sha256(path / "backend" / "baseline.joblib")})


@pytest.mark.parametrize("plant", [_old_model, _planted, _planted_and_listed])
def test_a_pickle_in_the_folder_is_refused_unopened(model_dir, tmp_path, plant):
    marker = tmp_path / "code-ran"
    plant(model_dir, marker)
    with watch_pickles() as opened, pytest.raises(ModelError) as e:
        load_model(model_dir)
    assert "backend/baseline.joblib" in str(e.value)
    assert "old pickle-based" in str(e.value) and "retrain" in str(e.value)
    with watch_pickles() as opened_by_cli:
        result, out = classify(model_dir, tmp_path)
    assert result.exit_code == 2, result.output
    assert "old pickle-based baseline model, which codeur no longer opens" in result.output
    assert "retrain" in result.output and not out.exists()
    assert opened == opened_by_cli == [] and not marker.exists()


def test_the_backend_itself_refuses_an_old_pickle(model_dir, tmp_path):
    marker = tmp_path / "code-ran"
    _planted(model_dir, marker)
    with pytest.raises(ModelError, match="old pickle-based"):
        TfidfLogReg.load(model_dir / "backend", CODES, {"min_df": 1})
    assert not marker.exists()


def test_a_pickle_under_the_name_of_the_arrays_is_not_opened_even_with_a_forged_card(model_dir, tmp_path):
    marker = tmp_path / "code-ran"
    npz = model_dir / "backend" / "baseline.npz"
    npz.write_bytes(evil_pickle(marker))
    card = json.loads((model_dir / "model-card.json").read_text(encoding="utf-8"))
    rewrite_card(model_dir, files={**card["files"], "backend/baseline.npz": sha256(npz)})
    with watch_pickles() as opened, pytest.raises(ModelError, match="cannot load the baseline"):
        load_model(model_dir)
    assert opened == [] and not marker.exists()


# --- the other backends ----------------------------------------------------------------------------

def test_the_spacy_backend_opens_no_pickle(tmp_path):
    spacy = pytest.importorskip("spacy")
    from pipeline.classify.backends.spacy_textcat import SpacyTextcat

    texts, labels, _ = training_data()
    nlp = spacy.blank("fr")
    nlp.add_pipe("textcat_multilabel", config={"model": {
        "@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": 1,
        "no_output_layer": False, "length": 1024}})
    from spacy.training import Example

    examples = [Example.from_dict(nlp.make_doc(t), {"cats": {c: float(v) for c, v in zip(CODES, row)}})
                for t, row in zip(texts, labels)]
    nlp.initialize(lambda: examples)
    backend = SpacyTextcat(CODES)
    backend.nlp_ = nlp
    path = save_model(tmp_path / "spacy", backend, CB, {**card(), "backend": "spacy", "params": {}})
    with watch_pickles() as opened:
        model = load_model(path)
        got = model.predict_proba(QUERIES)
    assert opened == []
    np.testing.assert_allclose(got, backend.predict_proba(QUERIES), atol=1e-6)
    (path / "backend" / "spacy" / "textcat_multilabel" / "extra.bin").write_bytes(evil_pickle(tmp_path / "ran"))
    with pytest.raises(ModelError, match="backend/spacy/textcat_multilabel/extra.bin is not part of the model"):
        load_model(path)


@pytest.fixture(scope="module")
def tiny_transformers_model(tiny_camembert, tmp_path_factory):
    """The tiny random-weight CamemBERT of the transformers tests, with a head for these codes."""
    from transformers import AutoTokenizer, CamembertForSequenceClassification

    from pipeline.classify.backends.transformers_backend import TransformersClassifier

    fast = AutoTokenizer.from_pretrained(tiny_camembert)
    model = CamembertForSequenceClassification.from_pretrained(tiny_camembert, num_labels=len(CODES),
                                                               problem_type="multi_label_classification",
                                                               ignore_mismatched_sizes=True)
    backend = TransformersClassifier(CODES, max_length=32)
    backend.tokenizer_, backend.model_ = fast, model.eval()
    path = save_model(tmp_path_factory.mktemp("models") / "hf", backend, CB,
                      {**card(), "backend": "transformers", "params": backend.params})
    return backend, path


def test_the_transformers_backend_saves_and_loads_safetensors_only(tiny_transformers_model):
    backend, path = tiny_transformers_model
    hf = path / "backend" / "hf"
    assert (hf / "model.safetensors").is_file()
    assert not [f for f in hf.iterdir() if f.suffix in (".bin", ".pt", ".pth", ".pkl")]
    with watch_pickles() as opened:
        model = load_model(path)
        got = model.predict_proba(QUERIES)
    assert opened == []
    np.testing.assert_allclose(got, backend.predict_proba(QUERIES), atol=1e-5)


@pytest.mark.parametrize("listed", [False, True], ids=["planted", "planted-and-listed"])
def test_a_pytorch_pickle_checkpoint_is_refused_unopened(tiny_transformers_model, tmp_path, listed):
    from pipeline.classify.backends.transformers_backend import TransformersClassifier

    path = shutil.copytree(tiny_transformers_model[1], tmp_path / "model")
    marker = tmp_path / "code-ran"
    evil = path / "backend" / "hf" / "pytorch_model.bin"
    evil.write_bytes(evil_pickle(marker))
    if listed:
        card = json.loads((path / "model-card.json").read_text(encoding="utf-8"))
        rewrite_card(path, files={**card["files"], "backend/hf/pytorch_model.bin": sha256(evil)})
    with watch_pickles() as opened:
        with pytest.raises(ModelError, match="backend/hf/pytorch_model.bin: a pickle-based checkpoint"):
            load_model(path)
        with pytest.raises(ModelError, match="pickle-based checkpoint"):
            TransformersClassifier.load(path / "backend", CODES, {})
    assert opened == [] and not marker.exists()


def test_a_transformers_folder_without_safetensors_is_refused(tiny_transformers_model, tmp_path):
    from pipeline.classify.backends.transformers_backend import TransformersClassifier

    path = shutil.copytree(tiny_transformers_model[1], tmp_path / "model")
    (path / "backend" / "hf" / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="no safetensors weights"):
        TransformersClassifier.load(path / "backend", CODES, {})


def test_yaml_of_the_codebook_is_read_safely(model_dir, tmp_path):
    """A codebook.yaml with a Python tag never builds the object, even with a forged card."""
    marker = tmp_path / "code-ran"
    f = model_dir / "codebook.yaml"
    f.write_text(f"!!python/object/apply:builtins.open [{str(marker)!r}, w]\n", encoding="utf-8")
    card = json.loads((model_dir / "model-card.json").read_text(encoding="utf-8"))
    rewrite_card(model_dir, files={**card["files"], "codebook.yaml": sha256(f)})
    with pytest.raises(ModelError, match="codebook.yaml"):
        load_model(model_dir)
    assert not marker.exists()


# --- files whose hashes match the card but that are not what the backend wrote -------------------------

@pytest.mark.parametrize("content", [b"garbage" * 50, b"[1, 2, 3]", b'{"vocabulary": 5}', b""])
def test_unreadable_backend_files_listed_in_the_card_are_a_clear_error(model_dir, tmp_path, content):
    for name in ("baseline.json", "baseline.npz"):
        target = model_dir / "backend" / name
        saved = target.read_bytes()
        target.write_bytes(content)
        card = json.loads((model_dir / "model-card.json").read_text(encoding="utf-8"))
        rewrite_card(model_dir, files={**card["files"], f"backend/{name}": sha256(target)})
        result, out = classify(model_dir, tmp_path)
        assert result.exit_code == 2, result.output
        assert "cannot load the baseline" in result.output or "cannot be read" in result.output
        assert not out.exists()
        target.write_bytes(saved)
        rewrite_card(model_dir, files={**card["files"], f"backend/{name}": sha256(target)})


def test_a_git_lfs_pointer_is_named_as_such(model_dir, tmp_path):
    (model_dir / "backend" / "baseline.npz").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 5120\n", encoding="ascii")
    result, out = classify(model_dir, tmp_path)
    assert result.exit_code == 2
    assert "backend/baseline.npz is a Git LFS pointer" in result.output and "git lfs pull" in result.output


@pytest.mark.parametrize("card", ["[]", '{"backend": 3, "labels": [], "thresholds": {}, "codebook_hash": ""}',
                                  '{"backend": "baseline", "labels": "abc", "thresholds": {}, "codebook_hash": ""}'])
def test_a_card_of_the_wrong_shape_is_refused(model_dir, tmp_path, card):
    (model_dir / "model-card.json").write_text(card, encoding="utf-8")
    result, out = classify(model_dir, tmp_path)
    assert result.exit_code == 2 and "model-card.json" in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    assert "model-card.json" in result.output


@pytest.mark.parametrize("params, says", [
    ({"C_value": 2}, r"params\.C_value: unknown key for backend 'baseline' \(known: C, word_ngrams, char_ngrams"),
    ({"C": "strong"}, r"params\.C: Input should be a valid number"),
    ({"word_ngrams": [3, 1]}, r"params\.word_ngrams: expected \[smallest, largest\]"),
])
def test_a_card_with_bad_backend_parameters_is_refused(model_dir, params, says):
    """The card's `params` are checked against the backend's before the backend reads a file."""
    card = json.loads((model_dir / "model-card.json").read_text(encoding="utf-8"))
    rewrite_card(model_dir, params={**card["params"], **params})
    with pytest.raises(ModelError, match=says) as e:
        load_model(model_dir)
    assert e.value.code == "E040" and "model-card.json" in str(e.value)
