"""The sentence-vector cache shared by processes (Dask workers, parallel runs): concurrent writers
all get through, and a cache that cannot be used only costs time, never the run."""
import pytest
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np

from pipeline.classify.embeddings import E5Encoder

REPO = Path(__file__).parent.parent
WORKER = """
import json, sys
import numpy as np
from pipeline.classify.embeddings import E5Encoder
texts = json.loads(sys.argv[1])
enc = E5Encoder(batch=4)   # a commit every four texts: many writes that meet the other processes'
np.save(sys.argv[2], enc.encode(texts))
print(enc.n_computed)
"""


def texts_of(k):
    shared = [f"on travaille avec le voisin numéro {i}" for i in range(8)]
    return shared + [f"la machine {k} tourne depuis {i} ans" for i in range(16)]


@pytest.mark.slow
def test_processes_writing_the_cache_at_once_all_get_through(tmp_path, monkeypatch):
    env = {**os.environ, "CODEUR_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(texts_of(k)), str(tmp_path / f"v{k}.npy")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e[-2000:] for _, e in outs]
    db = sqlite3.connect(str(tmp_path / "cache" / "embeddings.sqlite"))
    assert db.execute("SELECT COUNT(*) FROM emb").fetchone()[0] == 8 + 3 * 16
    db.close()
    monkeypatch.setenv("CODEUR_CACHE", str(tmp_path / "cache"))
    again = E5Encoder()
    for k in range(3):
        assert np.array_equal(again.encode(texts_of(k)), np.load(tmp_path / f"v{k}.npy"))
    assert again.n_computed == 0  # every vector came from the cache the three processes wrote


def test_a_cache_locked_by_another_process_only_costs_time(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEUR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(E5Encoder, "DB_TIMEOUT_S", 0.2)
    enc = E5Encoder()
    holder = sqlite3.connect(str(tmp_path / "cache" / "embeddings.sqlite"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the lock past the timeout
    try:
        texts = ["on se rend service entre voisins", "le brevet protège notre gamme"]
        got = enc.encode(texts)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert enc.n_computed == 2 and got.shape == (2, 384) and np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-3)
    monkeypatch.setenv("CODEUR_CACHE", "off")
    assert np.array_equal(got, E5Encoder().encode(texts))
