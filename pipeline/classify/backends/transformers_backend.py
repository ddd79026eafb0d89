"""Transformers backend: fine-tunes a local encoder directory (CamemBERT family, e.g. a downloaded
`almanach/camembertv2-base`) for multi-label classification with `Trainer` and `datasets`.

Loads strictly offline, by path: nothing is ever fetched from a hub. Trained with contexts
(`context: true`), it reads each passage as the first text of a pair whose second text is the
interviewer's question and the previous passage (`context_text`), cut first when too long.
A loaded model runs on the GPU when there is one.

Weights are saved and loaded as safetensors only, and never with the model's own code
(`trust_remote_code` stays off): a folder holding a pickle-based checkpoint (`pytorch_model.bin`,
`.pt`, `.pkl`...) is refused, since opening one can run code.
"""
from __future__ import annotations

import math
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a hub, whatever the caller forgot
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
from pydantic import ConfigDict, Field

from ...core.errors import ConfigError, ModelError
from . import Backend, BackendParams


#: checkpoint files that are pickles (torch.save) or may be: refused, never opened
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib")


def context_text(c) -> str:
    """The second text of the pair: the question, then the previous passage."""
    return " | ".join(t for t in (c.question, c.previous) if t)


class TransformersParams(BackendParams):
    """Fine-tuning of a local encoder (CamemBERT and the like) with a multi-label head."""

    model_config = ConfigDict(title="backend 'transformers'")

    model_dir: Optional[str] = None           # local folder with config.json, weights and tokenizer files
    max_length: int = Field(256, ge=1)
    epochs: int | float = Field(4, gt=0)
    batch_size: int = Field(16, ge=1)
    learning_rate: float = Field(3e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, le=1)


class TransformersClassifier(Backend):
    name = "transformers"
    reads_context = True
    Params = TransformersParams

    def __init__(self, codes: Sequence[str], **params: Any):
        super().__init__(codes, **params)
        self.model_ = None
        self.tokenizer_ = None

    def _check_dir(self) -> Path:
        d = self.params.get("model_dir")
        if not d or not Path(d).is_dir() or not (Path(d) / "config.json").exists():
            raise ConfigError(f"params.model_dir must be a local model folder with a config.json (got {d!r})",
                              hint="download the encoder once (e.g. almanach/camembertv2-base) and give its path; "
                                   "codeur never downloads models")
        return Path(d)

    def fit(self, texts, labels, dev_texts, dev_labels, *, seed: int = 0, contexts=None) -> "TransformersClassifier":
        import torch
        from datasets import Dataset
        from transformers import (AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments,
                                  set_seed)

        src = self._check_dir()
        set_seed(seed)
        self.tokenizer_ = AutoTokenizer.from_pretrained(src, local_files_only=True)
        self.model_ = AutoModelForSequenceClassification.from_pretrained(
            # float32 whatever the checkpoint holds: transformers 5 keeps a half-precision checkpoint in
            # half precision, and fine-tuning it without mixed precision gives NaN scores
            src, local_files_only=True, dtype=torch.float32,
            num_labels=len(self.codes), problem_type="multi_label_classification",
            id2label=dict(enumerate(self.codes)), label2id={c: i for i, c in enumerate(self.codes)},
        )
        p = self.params

        columns = {"text": list(texts), "labels": np.asarray(labels, dtype=np.float32).tolist()}
        if contexts is not None:
            columns["context"] = [context_text(c) for c in contexts]

        def encode(batch):
            return self._encode(batch["text"], batch.get("context"))

        train_ds = Dataset.from_dict(columns)
        train_ds = train_ds.map(encode, batched=True, remove_columns=[c for c in columns if c != "labels"])
        with tempfile.TemporaryDirectory(prefix="codeur-hf-") as tmp:
            args = TrainingArguments(
                output_dir=tmp, num_train_epochs=p["epochs"], per_device_train_batch_size=p["batch_size"],
                learning_rate=p["learning_rate"], weight_decay=p["weight_decay"],
                # steps, not warmup_ratio: transformers 5 dropped that argument
                warmup_steps=math.ceil(p["warmup_ratio"] * p["epochs"] * math.ceil(len(train_ds) / p["batch_size"])),
                seed=seed, data_seed=seed, save_strategy="no", report_to=[], logging_strategy="no",
                use_cpu=not torch.cuda.is_available(), disable_tqdm=True, dataloader_num_workers=0,
            )
            from transformers import DataCollatorWithPadding

            trainer = Trainer(model=self.model_, args=args, train_dataset=train_ds,
                              data_collator=DataCollatorWithPadding(self.tokenizer_))
            trainer.train()
        self.model_.eval()
        return self

    def _encode(self, texts, pairs=None, **kw):
        """Tokenize passages, with their context as the pair's second text when given: the longer of
        the two is cut first, so a long previous passage never pushes the passage out."""
        if pairs is None:
            return self.tokenizer_(list(texts), truncation=True, max_length=self.params["max_length"], **kw)
        return self.tokenizer_(list(texts), list(pairs), truncation="longest_first",
                               max_length=self.params["max_length"], **kw)

    def predict_proba(self, texts, *, batch_size: int = 32, n_process: int = 1, contexts=None) -> np.ndarray:
        import torch

        if self.model_ is None:
            raise ModelError("the transformers backend is not trained or loaded")
        device = next(self.model_.parameters()).device
        pairs = [context_text(c) for c in contexts] if contexts is not None else None
        out = np.zeros((len(texts), len(self.codes)), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                enc = self._encode(texts[i:i + batch_size], pairs[i:i + batch_size] if pairs else None,
                                   padding=True, return_tensors="pt").to(device)
                out[i:i + batch_size] = torch.sigmoid(self.model_(**enc).logits).float().cpu().numpy()
        if np.isnan(out).any():
            raise ModelError("the model gives NaN scores: its training diverged (learning rate too high?)")
        return out

    def save(self, path: Path) -> None:
        self.model_.save_pretrained(path / "hf", safe_serialization=True)
        self.tokenizer_.save_pretrained(path / "hf")
        self.refuse_unsafe(path)  # a library that wrote a pickle anyway is caught here, not by the user

    @staticmethod
    def refuse_unsafe(path: Path) -> None:
        """Refuse a folder holding a pickle-based checkpoint: only safetensors weights are opened."""
        for f in sorted((path / "hf").rglob("*")):
            if f.suffix.lower() in PICKLE_SUFFIXES:
                rel = f.relative_to(path.parent).as_posix()
                raise ModelError(f"{rel}: a pickle-based checkpoint, which codeur does not open (opening one can "
                                 "run code); only safetensors weights are read", path=str(path.parent),
                                 hint="retrain the model with `codeur train`, which saves safetensors")

    @classmethod
    def load(cls, path: Path, codes, params) -> "TransformersClassifier":
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        cls.refuse_unsafe(path)
        self = cls(codes, **params)
        if not any((path / "hf" / name).is_file() for name in ("model.safetensors", "model.safetensors.index.json")):
            raise ModelError("no safetensors weights (hf/model.safetensors)", path=str(path),
                             hint="retrain the model with `codeur train`")
        try:
            self.tokenizer_ = AutoTokenizer.from_pretrained(path / "hf", local_files_only=True, trust_remote_code=False)
            self.model_ = AutoModelForSequenceClassification.from_pretrained(
                path / "hf", local_files_only=True, dtype=torch.float32, use_safetensors=True, trust_remote_code=False)
        except (OSError, ValueError) as e:
            raise ModelError(f"cannot load the transformers model ({type(e).__name__}: {e})", path=str(path)) from None
        if torch.cuda.is_available():
            self.model_.to("cuda")
        self.model_.eval()
        return self

    def library_versions(self) -> dict[str, str]:
        import torch
        import transformers

        return {"transformers": transformers.__version__, "torch": torch.__version__}
