"""Commands on the bundled corpora: build, statistics, export of labelled passages, split files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..core.errors import CodeurError
from .app import (app, out, user_errors, writes)


@app.command("corpus-build")
@user_errors
def corpus_build(
    authoring: Path = typer.Option(Path("corpus/authoring"), help="Folder of *.interview files."),
    corpus_dir: Path = typer.Option(Path("corpus"), "--corpus", help="Corpus folder to write into."),
):
    """Render the authored interviews into transcripts and gold spans (maintainers only)."""
    from ..corpus.dataset import build_corpus

    counts = build_corpus(authoring, corpus_dir)
    out.print(counts)


@app.command("corpus-build-real")
@user_errors
def corpus_build_real(
    real_dir: Path = typer.Option(Path("corpus/real"), "--real", help="The real part of the corpus."),
):
    """Turn the two real codings and their adjudication into gold spans (maintainers only)."""
    from ..corpus.dataset import build_real_gold

    out.print(build_real_gold(real_dir))


@app.command("corpus-stats")
@user_errors
def corpus_stats(
    corpus_dir: Path = typer.Option(Path("corpus"), "--corpus"),
    coder: Optional[str] = typer.Option(None, help="Whose coding to count (default: coder1, or gold in "
                                        "corpus/real)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
):
    """Words, passages, codes per passage, positives per code, vocabulary, 8-gram reuse."""
    from ..corpus.dataset import corpus_stats as stats, load_corpus

    corpus = load_corpus(corpus_dir)
    s = stats(corpus, corpus.coder(coder))
    if as_json:
        print(json.dumps(s, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"corpus {corpus_dir} ({coder})")
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    for k, v in s.items():
        if isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items())
        elif isinstance(v, list):
            v = ", ".join(map(str, v))
        table.add_row(k, str(v))
    out.print(table)


@app.command("corpus-export")
@user_errors
@writes("out_path")
def corpus_export(
    out_path: Path = typer.Option(Path("work/corpus.jsonl"), "--out", "-o"),
    corpus_dir: Path = typer.Option(Path("corpus"), "--corpus"),
    coder: Optional[str] = typer.Option(None, help="Whose coding (default: coder1, or gold in corpus/real)."),
    split: Optional[str] = typer.Option(None, help="Only the interviews of this split (train, dev or test)."),
):
    """Write the labelled passages of the corpus (with split) as JSONL: one row per passage with its
    `codes` (possibly none), a coding `codeur audit` and `evaluate --reference` read as it is."""
    from ..core.atomic import write_jsonl
    from ..corpus.dataset import corpus_rows, load_corpus

    if split is not None and split not in ("train", "dev", "test"):
        raise CodeurError(f"--split {split!r}: choose train, dev or test")
    corpus = load_corpus(corpus_dir)
    rows = corpus_rows(corpus, corpus.coder(coder))
    n = write_jsonl(out_path, (r for r in rows if split is None or r["split"] == split))
    out.print(f"wrote {n} passages to {out_path}")


@app.command("corpus-files")
@user_errors
def corpus_files(
    split: str = typer.Option(..., help="train, dev or test."),
    corpus_dir: Path = typer.Option(Path("corpus"), "--corpus"),
    splits: Optional[Path] = typer.Option(None, help="Splits file (default: the corpus folder's own "
                                          "splits.yaml, else configs/splits.yaml)."),
):
    """Print the transcript files of one split (for scripts: `codeur classify $(codeur corpus-files --split test)`)."""
    from ..corpus.dataset import load_splits, splits_file
    from ..ingest.readers.sidecar import is_sidecar

    splits = splits or splits_file(corpus_dir)
    docs = sorted(d for d, s in load_splits(splits).items() if s == split)
    if not docs:
        raise CodeurError(f"no interview in split {split!r}", path=str(splits))

    for d in docs:
        files = sorted(f for f in (corpus_dir / "transcripts").glob(f"{d}.*") if not is_sidecar(f))
        if not files:
            raise CodeurError(f"no transcript file for {d}", path=str(corpus_dir / "transcripts"))
        print(files[0])


# --- model ---------------------------------------------------------------------------------------
