"""Helpers shared by the tests: small corpora and training configs, invented transcripts, a tiny real
model (also used by scripts/hostile_census.py). Fixtures built from them are in conftest.py."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import yaml

from pipeline.classify.backends.baseline import TfidfLogReg
from pipeline.classify.model import save_model
from pipeline.core.codebook import DEFAULT_CODEBOOK, load_codebook
from pipeline.core.spans import Span
from pipeline.core.transcript import Transcript, Turn

# --- a slice of the bundled corpus, and training configs on it ----------------------------------------

SPLIT = {"train": ["E01", "E02", "E04", "E05", "E07"], "dev": ["E09", "E10"], "test": ["E03"]}

def slice_corpus(root, source, split, gold="coder1.jsonl"):
    """The interviews of `split` from the corpus folder `source` (transcripts, their metadata files
    and one gold file), as a corpus of their own in `root`."""
    docs = [d for ds in split.values() for d in ds]
    (root / "transcripts").mkdir()
    (root / "gold").mkdir()
    for d in docs:
        for f in (source / "transcripts").glob(f"{d}.*"):
            shutil.copy(f, root / "transcripts" / f.name)
    keep = [line for line in (source / "gold" / gold).read_text(encoding="utf-8").splitlines()
            if json.loads(line)["doc"] in docs]
    (root / "gold" / gold).write_text("\n".join(keep) + "\n", encoding="utf-8")
    (root / "splits.yaml").write_text(yaml.safe_dump(split), encoding="utf-8")
    return root


def config(root, backend="baseline", codebook=DEFAULT_CODEBOOK, **params):
    cfg = {"backend": backend, "seed": 3, "corpus": str(root), "codebook": str(codebook),
           "splits": str(root / "splits.yaml"), "params": params}
    path = root / f"train-{backend}-{len(list(root.glob('train-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


# --- invented transcripts --------------------------------------------------------------------------

def interview(*turns: tuple[str, str], doc_id: str = "int01") -> Transcript:
    """A transcript written as "Q: ..." / "R: ..." lines; Q is the interviewer, R the interviewee."""
    roles = {"Q": "interviewer", "R": "interviewee", "R2": "interviewee", "X": "other"}
    text, out = "", []
    for speaker, words in turns:
        text += f"{speaker}: "
        start = len(text)
        text += words
        out.append(Turn(speaker, Span(start, len(text)), roles[speaker]))
        text += "\n"
    return Transcript(doc_id, f"{doc_id}.txt", "txt", text, out)


def words(n: int, start: int = 0) -> str:
    return " ".join(f"mot{i}" for i in range(start, start + n))


# --- a tiny real model ------------------------------------------------------------------------------

WORDS = {"proximite": "voisin vallée local", "exterieur": "allemand export étranger",
         "concurrents": "concurrent rival appel", "confiance": "confiance copain ami",
         "mefiance": "méfiance copier peur", "tacite": "savoir-faire geste oreille",
         "explicite": "brevet procédure écrit", "procede": "machine procédé atelier",
         "produit": "produit gamme nouveau"}


def training_texts(codes) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for j, code in enumerate(codes):
        for k in range(3):
            texts.append(f"on parle de {WORDS[code]} encore {k}")
            labels.append([int(i == j) for i in range(len(codes))])
    return texts, np.array(labels)


def build_tiny_model(out: Path) -> Path:
    cb = load_codebook()
    texts, labels = training_texts(cb.codes)
    backend = TfidfLogReg(cb.codes, min_df=1).fit(texts, labels, [], None, seed=0)
    card = {"name": "tiny", "backend": "baseline", "labels": cb.codes, "codebook_hash": cb.content_hash(),
            "codebook_name": cb.name, "thresholds": {c: 0.5 for c in cb.codes}, "params": backend.params}
    return save_model(out, backend, cb, card)


# --- a tiny random-weight CamemBERT (built in conftest.py) -------------------------------------------

CAMEMBERT_CODES = ["proximite", "mefiance"]
CAMEMBERT_TEXTS = ["on travaille avec les voisins de la vallée", "je me méfie de tout le monde ici",
                   "les gars d'à côté nous dépannent", "chacun pour soi et on garde le secret"] * 6
