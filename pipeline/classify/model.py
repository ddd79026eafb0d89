"""A trained model is a directory: the backend's files, the codebook it speaks, and a model card.

    models/default/
      model-card.json   backend, codebook hash, labels, data hash, split, seed, thresholds,
                        dev and test scores, library versions, training time
      model-card.md     the same for people
      codebook.yaml     the exact codebook the model was trained with
      backend/          whatever the backend saved

Opening a model folder never runs code from it (a folder may come by e-mail): backends save plain
arrays, JSON or safetensors, never pickles, and refuse the pickle files older versions wrote. The
card lists the SHA-256 of every other file of the folder (`files`); a file that changed, is missing,
or sits unlisted in `backend/` is refused before the backend reads anything.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from ..core.atomic import write_json, write_text
from .backends import REGISTRY, Backend, backend_class
from ..core.codebook import Codebook, load_codebook
from ..core.config import load_config
from ..passages.context import Context
from ..core.errors import CodeurError, ConfigError, ModelError

CARD = "model-card.json"


@dataclass
class TrainedModel:
    path: Path
    card: dict[str, Any]
    codebook: Codebook
    backend: Backend

    @property
    def codes(self) -> list[str]:
        return list(self.card["labels"])

    @property
    def thresholds(self) -> np.ndarray:
        return np.array([self.card["thresholds"][c] for c in self.codes], dtype=np.float32)

    @property
    def name(self) -> str:
        return self.card.get("name") or self.path.name

    @property
    def reads_context(self) -> bool:
        """Trained with `context: true`: reads the interviewer's question and the previous passage."""
        return bool(self.card.get("context"))

    def predict_proba(self, texts: Sequence[str], *, batch_size: int = 256, n_process: int = 1,
                      contexts: Sequence[Context] | None = None) -> np.ndarray:
        return self.backend.predict_proba(list(texts), batch_size=batch_size, n_process=n_process,
                                          contexts=list(contexts) if contexts is not None else None)

    def decide(self, probs: np.ndarray) -> np.ndarray:
        return (probs >= self.thresholds[None, :]).astype(np.int8)


def _read_card(path: Path) -> dict[str, Any]:
    """The model card of a model directory, with the fields every reader relies on checked."""
    if path.is_file():
        raise ModelError("is a file, not a model directory", path=str(path),
                         hint="give the folder written by `codeur train --out`")
    if not path.is_dir():
        raise ModelError("model directory not found", path=str(path),
                         hint="train one with `codeur train --config configs/train.yaml --out DIR`")
    try:
        card = json.loads((path / CARD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no {CARD}: not a codeur model directory (or an interrupted training)", path=str(path)) from None
    except json.JSONDecodeError as e:
        raise ModelError(f"{CARD} is corrupt ({e.msg})", path=str(path)) from None
    except UnicodeDecodeError:
        raise ModelError(f"{CARD} is not text (corrupt, or a binary file under its name)", path=str(path)) from None
    except OSError as e:
        raise ModelError(f"{CARD} cannot be read ({e.strerror or e})", path=str(path)) from None
    if not isinstance(card, dict):
        raise ModelError(f"{CARD} is not a model card (a JSON object expected)", path=str(path))
    for key in ("backend", "labels", "thresholds", "codebook_hash"):
        if key not in card:
            raise ModelError(f"{CARD} lacks {key!r}", path=str(path))
    if not isinstance(card["backend"], str):
        raise ModelError(f"{CARD}: 'backend' is not a backend name", path=str(path))
    if not isinstance(card["labels"], list) or not all(isinstance(c, str) for c in card["labels"]):
        raise ModelError(f"{CARD}: 'labels' is not a list of code names", path=str(path))
    if not isinstance(card["thresholds"], dict):
        raise ModelError(f"{CARD}: 'thresholds' is not a mapping of code → threshold", path=str(path))
    if card["backend"] not in REGISTRY:
        raise ModelError(f"{CARD}: unknown backend {card['backend']!r}", path=str(path),
                         hint=f"backends: {', '.join(REGISTRY)}")
    return card


def _read_codebook(path: Path, card: dict[str, Any]) -> Codebook:
    """The codebook the model was trained with, checked against the hash in its card."""
    try:
        codebook = load_config(path / "codebook.yaml", Codebook, what="model's codebook")
    except ConfigError as e:
        raise ModelError(f"codebook.yaml: {e.reason}", path=str(path), hint=_RETRAIN) from None
    if codebook.content_hash() != card["codebook_hash"]:
        raise ModelError("the model's codebook.yaml does not match the hash in its model card", path=str(path))
    return codebook


def read_model_card(path: str | Path) -> tuple[dict[str, Any], Codebook]:
    """The model card and codebook of a model directory, without loading the backend (what the audit
    and `codeur suggest` need: the name, thresholds and codebook). The card's `name` defaults to the
    folder's name."""
    path = Path(path)
    card = _read_card(path)
    codebook = _read_codebook(path, card)
    card.setdefault("name", path.name)
    return card, codebook


def load_model(path: str | Path) -> TrainedModel:
    path = Path(path)
    card = _read_card(path)
    cls = backend_class(card["backend"])
    params = cls.check_params(card.get("params", {}), where=str(path / CARD), prefix=("params",), error=ModelError)
    refuse = getattr(cls, "refuse_unsafe", None)  # pickle files of older versions, named as such
    if refuse is not None and (path / "backend").is_dir():
        refuse(path / "backend")
    check_files(path, card)
    codebook = _read_codebook(path, card)
    try:
        backend = cls.load(path / "backend", card["labels"], params)
    except CodeurError:
        raise
    except Exception as e:  # noqa: BLE001  files whose hashes match the card but that are still unreadable
        raise ModelError(f"the backend files cannot be read ({type(e).__name__}: {e})", path=str(path),
                         hint=_RETRAIN) from None
    return TrainedModel(path, card, codebook, backend)


def check_codebook(model: TrainedModel, codebook_path: str | Path | None) -> Codebook:
    """The codebook to classify with: the configured one must be the model's, unless the user asks
    for the model's own (`--codebook model`)."""
    if codebook_path is not None and str(codebook_path) == "model":
        return model.codebook
    configured = load_codebook(codebook_path)
    if configured.content_hash() != model.card["codebook_hash"]:
        added = sorted(set(configured.codes) - set(model.codes))
        removed = sorted(set(model.codes) - set(configured.codes))
        diff = []
        if added:
            diff.append(f"configured codebook adds {', '.join(added)}")
        if removed:
            diff.append(f"lacks {', '.join(removed)}")
        detail = "; ".join(diff) or "same codes, different definitions"
        raise ModelError(
            f"the model was trained with another codebook ({detail})", path=str(model.path),
            hint="retrain with `codeur train`, or classify with the model's own codebook: --codebook model",
        )
    return configured


def save_model(out: str | Path, backend: Backend, codebook: Codebook, card: dict[str, Any]) -> Path:
    """Write the model directory atomically: build it beside `out`, then swap it in. The card gets
    `files`, the SHA-256 of every file written (all but the card itself and its `.md`)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "backend").mkdir()
        backend.save(tmp / "backend")
        write_text(tmp / "codebook.yaml", yaml.safe_dump(codebook.model_dump(mode="json"), allow_unicode=True,
                                                          sort_keys=False))
        card["files"] = file_hashes(tmp)
        write_json(tmp / CARD, card)
        write_text(tmp / "model-card.md", card_markdown(card))
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


# --- the folder's files, as the card lists them ------------------------------------------------------

#: the card itself and its readable copy: not listed (the card cannot hold its own hash)
UNLISTED = (CARD, "model-card.md")
_HASH = re.compile(r"sha256:[0-9a-f]{64}")
_RETRAIN = "retrain it with `codeur train`, or get the model folder again from its author"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return f"sha256:{h.hexdigest()}"


def _walk(root: Path, path: Path) -> list[str]:
    """Every file under `root`, as a path relative to `path` with `/`; a link is refused (it could
    lead out of the folder)."""
    out = []
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            f = Path(folder) / name
            if f.is_symlink():
                raise ModelError(f"{f.relative_to(path).as_posix()} is a link: a model folder holds plain files only",
                                 path=str(path), hint=_RETRAIN)
        out += [(Path(folder) / name).relative_to(path).as_posix() for name in files]
    return sorted(out)


def file_hashes(path: str | Path) -> dict[str, str]:
    """{"backend/x.npz": "sha256:…"} for every file of the model folder but the card."""
    path = Path(path)
    return {rel: _sha256(path / rel) for rel in _walk(path, path) if rel not in UNLISTED}


def check_files(path: str | Path, card: dict[str, Any]) -> None:
    """Every file the card lists is there, unchanged, and `backend/` holds nothing else: checked
    before any of them is read."""
    path = Path(path)
    files = card.get("files")
    if files is None:
        raise ModelError(f"{CARD} lists no file hashes: the model was trained by an older codeur, whose "
                         "model folders are no longer opened", path=str(path),
                         hint="retrain it with `codeur train`")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise ModelError(f"{CARD}: 'files' is not a list of file hashes", path=str(path), hint=_RETRAIN)
    for rel, want in sorted(files.items()):
        parts = rel.split("/")
        if rel in UNLISTED or rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
            raise ModelError(f"{CARD} lists {rel!r}, which is not a file of a model folder", path=str(path),
                             hint=_RETRAIN)
        if not _HASH.fullmatch(want):
            raise ModelError(f"{CARD}: the hash of {rel} is not a SHA-256 ({want!r})", path=str(path), hint=_RETRAIN)
        f = path.joinpath(*parts)
        if f.is_symlink() or not f.is_file():
            raise ModelError(f"{rel} is missing (the model card lists it)", path=str(path), hint=_RETRAIN)
        if _is_lfs_pointer(f):
            raise ModelError(f"{rel} is a Git LFS pointer, not the file itself", path=str(path),
                             hint="fetch the real files with `git lfs pull` (or copy the folder again)")
        if _sha256(f) != want:
            raise ModelError(f"{rel} has changed since the model was trained (its SHA-256 is not the one in "
                             f"{CARD})", path=str(path), hint=_RETRAIN)
    backend = path / "backend"
    if backend.is_symlink():
        raise ModelError("backend is a link: a model folder holds plain files only", path=str(path), hint=_RETRAIN)
    for rel in _walk(backend, path):
        if rel not in files:
            raise ModelError(f"{rel} is not part of the model (the model card does not list it)", path=str(path),
                             hint="remove it, or " + _RETRAIN)


def _is_lfs_pointer(f: Path) -> bool:
    with f.open("rb") as fh:
        return fh.read(len(_LFS)) == _LFS


_LFS = b"version https://git-lfs.github.com/spec/"


def card_markdown(card: dict[str, Any]) -> str:
    lines = [f"# Model card — {card.get('name', '')}", "",
             f"- backend: `{card['backend']}` ({json.dumps(card.get('params', {}), ensure_ascii=False)})",
             f"- codebook: {card.get('codebook_name')} `{card['codebook_hash']}`",
             f"- labels: {', '.join(card['labels'])}",
             f"- training data: `{card.get('data_hash')}`, coder {card.get('coder')}, seed {card.get('seed')}",
             "- split: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in card.get("split", {}).items()),
             f"- reads the interviewer's question and the previous passage: {'yes' if card.get('context') else 'no'}",
             *[f"- also trained on `{e['path']}` (coder {e['coder']}, weight {e['weight']}): "
               + "; ".join(f"{k}: {', '.join(v)}" for k, v in e.get("split", {}).items())
               for e in card.get("extra_corpora", [])],
             f"- per-code thresholds tuned on the {card.get('thresholds_on', 'main')} dev interviews",
             f"- trained in {card.get('training_seconds')} s on {card.get('created')}",
             "- libraries: " + ", ".join(f"{k} {v}" for k, v in card.get("library_versions", {}).items()), ""]
    extra = [(f"{e['name']}_{s}", f"{e['name']} {s}") for e in card.get("extra_corpora", []) for s in ("dev", "test")]
    for split, what in [("dev", "dev"), ("test", "test"), *extra]:
        sc = card.get("scores", {}).get(split)
        if not sc:
            continue
        lines += [f"## Scores on the {what} interviews ({sc.get('n_passages')} passages)", "",
                  f"macro-F1 {sc['macro_f1']:.3f} · micro-F1 {sc['micro_f1']:.3f} · mean kappa {sc['mean_kappa']:.3f}",
                  "", "| code | threshold | prevalence | precision | recall | F1 | kappa |", "|---|---|---|---|---|---|---|"]
        for c in card["labels"]:
            r = sc["per_code"][c]
            lines.append(f"| {c} | {card['thresholds'][c]:.2f} | {r['prevalence']:.3f} | {r['precision']:.3f} | "
                         f"{r['recall']:.3f} | {r['f1']:.3f} | {r['kappa']:.3f} |")
        lines.append("")
    for key, what in (("test_spoken_form", "the test interviews in spoken form (lower case, no punctuation)"),
                      ("test_without_context", "the test interviews without questions (a bare passages table)")):
        sc = card.get("scores", {}).get(key)
        if sc:
            lines += [f"On {what}: macro-F1 {sc['macro_f1']:.3f} · micro-F1 {sc['micro_f1']:.3f} · "
                      f"mean kappa {sc['mean_kappa']:.3f}", ""]
    return "\n".join(lines)
