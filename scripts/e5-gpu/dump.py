"""Prepare the GPU fine-tuning check: token ids of every passage (+ question) of both corpora and a
compact int8 copy of the converted e5 encoder restricted to the token ids used (to fit the carry)."""
import json, sys, numpy as np, torch
from pathlib import Path
from transformers import AutoTokenizer
from safetensors.torch import load_file
sys.path.insert(0, '.')
from pipeline.corpus.dataset import load_corpus, REAL
from pipeline.core.codebook import load_codebook

HF = Path(sys.argv[1] if len(sys.argv) > 1 else 'e5-small-hf'); OUT = Path(sys.argv[2] if len(sys.argv) > 2 else 'gpu')
tok = AutoTokenizer.from_pretrained(HF)
cb = load_codebook(); codes = cb.codes
corp = {"main": load_corpus(Path('corpus')), "real": load_corpus(REAL)}
coder = {"main": "coder1", "real": "gold"}
splits = {}
used = set()
MAXLEN = 256
for name, c in corp.items():
    for split in ("train", "dev", "test"):
        ps = c.passages_of(split)
        y = np.array(c.multi_hot(ps, coder[name]), dtype=np.int8)
        enc = tok(["passage: " + p.clean_text for p in ps], [p.question or "" for p in ps],
                  truncation="longest_first", max_length=MAXLEN)
        ids = enc["input_ids"]
        for s in ids: used.update(s)
        splits[f"{name}_{split}"] = {"ids": ids, "y": y, "pid": [p.id for p in ps], "doc": [p.doc_id for p in ps]}
        print(name, split, len(ps), "max len", max(map(len, ids)))
used = sorted(used)
remap = np.full(tok.vocab_size + 10, -1, dtype=np.int64); remap[used] = np.arange(len(used))
arrays = {}
meta = {"codes": codes, "splits": {}, "vocab_used": len(used), "maxlen": MAXLEN}
for k, d in splits.items():
    flat = np.concatenate([remap[np.array(s)] for s in d["ids"]]).astype(np.int32)
    offs = np.cumsum([0] + [len(s) for s in d["ids"]]).astype(np.int64)
    arrays[f"{k}__ids"], arrays[f"{k}__offs"], arrays[f"{k}__y"] = flat, offs, d["y"]
    meta["splits"][k] = {"pid": d["pid"], "doc": d["doc"]}
np.savez_compressed(OUT / "data.npz", **arrays)
json.dump(meta, open(OUT / "data.json", "w"))
sd = load_file(HF / "model.safetensors")
w = {}
for k, v in sd.items():
    v = v.float()
    if "word_embeddings" in k:
        v = v[torch.tensor(used)]
    if v.ndim == 2:  # int8 per row
        scale = v.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127
        w[k + "__q"] = torch.round(v / scale).to(torch.int8).numpy(); w[k + "__s"] = scale.squeeze(1).numpy().astype(np.float32)
    else:
        w[k] = v.numpy()
np.savez_compressed(OUT / "model.npz", **w)
cfg = json.load(open(HF / "config.json")); cfg["vocab_size"] = len(used)
json.dump(cfg, open(OUT / "config.json", "w"))
print("vocab used", len(used))
