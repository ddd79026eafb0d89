"""Transformers backend: fine-tunes a local encoder directory (CamemBERT family, e.g. a downloaded
`almanach/camembertv2-base`) for multi-label classification with `Trainer` and `datasets`.

Loads strictly offline, by path: nothing is ever fetched from a hub.
"""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a hub, whatever the caller forgot
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError, ModelError
from . import Backend


class TransformersClassifier(Backend):
    name = "transformers"

    DEFAULTS: dict[str, Any] = {
        "model_dir": None,        # local folder with config.json, weights and tokenizer files
        "max_length": 256,
        "epochs": 4,
        "batch_size": 16,
        "learning_rate": 3e-5,
        "weight_decay": 0.01,
        "warmup_ratio": 0.1,
    }

    def __init__(self, codes: Sequence[str], **params: Any):
        super().__init__(codes, **{**self.DEFAULTS, **params})
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
            src, local_files_only=True, num_labels=len(self.codes), problem_type="multi_label_classification",
            id2label=dict(enumerate(self.codes)), label2id={c: i for i, c in enumerate(self.codes)},
        )
        p = self.params

        def encode(batch):
            return self.tokenizer_(batch["text"], truncation=True, max_length=p["max_length"])

        train_ds = Dataset.from_dict({"text": list(texts), "labels": np.asarray(labels, dtype=np.float32).tolist()})
        train_ds = train_ds.map(encode, batched=True, remove_columns=["text"])
        with tempfile.TemporaryDirectory(prefix="codeur-hf-") as tmp:
            args = TrainingArguments(
                output_dir=tmp, num_train_epochs=p["epochs"], per_device_train_batch_size=p["batch_size"],
                learning_rate=p["learning_rate"], weight_decay=p["weight_decay"], warmup_ratio=p["warmup_ratio"],
                seed=seed, data_seed=seed, save_strategy="no", report_to=[], logging_strategy="no",
                use_cpu=not torch.cuda.is_available(), disable_tqdm=True, dataloader_num_workers=0,
            )
            from transformers import DataCollatorWithPadding

            trainer = Trainer(model=self.model_, args=args, train_dataset=train_ds,
                              data_collator=DataCollatorWithPadding(self.tokenizer_))
            trainer.train()
        self.model_.eval()
        return self

    def predict_proba(self, texts, *, batch_size: int = 32, n_process: int = 1, contexts=None) -> np.ndarray:
        import torch

        if self.model_ is None:
            raise ModelError("the transformers backend is not trained or loaded")
        device = next(self.model_.parameters()).device
        out = np.zeros((len(texts), len(self.codes)), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                enc = self.tokenizer_(list(texts[i:i + batch_size]), truncation=True, padding=True,
                                      max_length=self.params["max_length"], return_tensors="pt").to(device)
                out[i:i + batch_size] = torch.sigmoid(self.model_(**enc).logits).float().cpu().numpy()
        return out

    def save(self, path: Path) -> None:
        self.model_.save_pretrained(path / "hf")
        self.tokenizer_.save_pretrained(path / "hf")

    @classmethod
    def load(cls, path: Path, codes, params) -> "TransformersClassifier":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self = cls(codes, **params)
        try:
            self.tokenizer_ = AutoTokenizer.from_pretrained(path / "hf", local_files_only=True)
            self.model_ = AutoModelForSequenceClassification.from_pretrained(path / "hf", local_files_only=True)
        except (OSError, ValueError) as e:
            raise ModelError(f"cannot load the transformers model ({type(e).__name__}: {e})", path=str(path)) from None
        self.model_.eval()
        return self

    def library_versions(self) -> dict[str, str]:
        import torch
        import transformers

        return {"transformers": transformers.__version__, "torch": torch.__version__}
