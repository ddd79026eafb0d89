"""The `codeur` command line: one command per pipeline stage, each reading and writing files.

Bad input is reported as one line naming the file and the reason (never a traceback); exit codes:
0 everything went through, 1 some inputs were skipped (the rest was written), 2 nothing was done.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from pathlib import Path
from typing import Callable, List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import CodeurError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="codeur: clean, segment, code and audit French interview transcripts.")
# Piped or logged output (CI, `| tee`) gets wide tables instead of rich's 80-column default.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 140
out = Console(width=_WIDTH)
err = Console(stderr=True, width=_WIDTH)


def user_errors(fn: Callable) -> Callable:
    """Turn `CodeurError` into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CodeurError as e:
            err.print(f"[bold red]error[/] {e.format()}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)

    return wrapper


@contextlib.contextmanager
def writing(*paths: Optional[Path], folders: tuple = ()):
    """Before any work: check every output file (and output folder) can be written, lock them (a second
    run writing the same output fails clearly) and clear temporary files an interrupted run left beside
    them."""
    from .atomic import check_output, check_output_dir, output_lock

    outputs = [Path(p) for p in paths if p is not None]
    dirs = [Path(p) for p in folders if p is not None]
    for p in outputs:
        check_output(p)
    for d in dirs:
        check_output_dir(d)
    with output_lock(outputs + dirs, note=lambda m: err.print(f"[yellow]note:[/] {escape(m)}", highlight=False,
                                                      soft_wrap=True)):
        yield


def writes(*files: str, folders: tuple = ()) -> Callable:
    """Decorator: run the command inside `writing(...)` of the output files and folders named by these
    parameters, so an output that cannot be written is refused before any work and held locked."""

    def decorate(fn: Callable) -> Callable:
        import inspect

        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = signature.bind_partial(*args, **kwargs)
            bound.apply_defaults()
            with writing(*(bound.arguments.get(f) for f in files),
                         folders=tuple(bound.arguments.get(d) for d in folders)):
                return fn(*args, **kwargs)

        return wrapper

    return decorate


MAX_FILE_MB = typer.Option(None, "--max-file-mb", help="Refuse input files above this size in MB (default 20, "
                           "or CODEUR_MAX_FILE_MB).")
MAX_LINE_CHARS = typer.Option(None, "--max-line-chars", help="Refuse transcripts with a longer line (default "
                              "200,000 characters, or CODEUR_MAX_LINE_CHARS).")


def limited(fn: Callable) -> Callable:
    """Decorator: apply the command's --max-file-mb / --max-line-chars for its duration."""
    import inspect

    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .limits import overridden

        bound = signature.bind_partial(*args, **kwargs)
        with overridden(max_file_mb=bound.arguments.get("max_file_mb"),
                        max_line_chars=bound.arguments.get("max_line_chars")):
            return fn(*args, **kwargs)

    return wrapper


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True, disable=not err.is_terminal)


def partition_progress(description: str):
    """A bar over partitions (`--engine dask`): partitions done / total and words/s of this run;
    nothing when stderr is not a terminal (piped, logged). Returns (progress, callback)."""
    prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=err, transient=True,
                    disable=not err.is_terminal)
    state = {"task": None, "words": 0, "t0": None}

    def on_partition(done: int, total: int, words: int) -> None:
        import time

        if state["task"] is None:
            state["task"] = prog.add_task(description, total=total, rate="")
            state["t0"] = time.perf_counter()
        state["words"] += words
        dt = time.perf_counter() - state["t0"]
        rate = f"{state['words'] / dt:,.0f} words/s" if state["words"] and dt > 0 else ""
        prog.update(state["task"], completed=done, rate=rate)

    return prog, on_partition


def engine_options(engine: str, workers, scheduler, slurm, fresh, rows_per_partition=None):
    from .engine import ROWS_PER_PARTITION, options

    return options(engine, workers=workers, scheduler=scheduler, slurm=slurm, fresh=fresh,
                   rows_per_partition=rows_per_partition or ROWS_PER_PARTITION)


def _note(message: str) -> None:
    err.print(f"[yellow]note:[/] {escape(message)}", highlight=False, soft_wrap=True)


# the options of `--engine dask` (prepare and classify)
ENGINE_HELP = "local: this process (default); dask: a Dask cluster (see --workers, --scheduler, --slurm)."
WORKERS_HELP = "--engine dask: worker processes of the local cluster (default: one per CPU core), or SLURM workers."
SCHEDULER_HELP = "--engine dask: address of a running Dask scheduler (tcp://host:8786) instead of a local cluster."
SLURM_HELP = "--engine dask: start the workers as SLURM jobs, from this config (configs/slurm.yaml)."
FRESH_HELP = "--engine dask: discard the partial results an earlier, interrupted run left beside --out."


def print_file_reports(reports, *, title: str) -> None:
    table = Table(title=title, show_lines=False)
    for col in ("file", "doc", "status", "turns", "passages", "words", "notes"):
        table.add_column(col, overflow="fold")
    for r in reports:
        status = {"ok": "[green]ok[/]", "error": "[red]error[/]", "skipped": "[yellow]skipped[/]",
                  "ignored": "[dim]ignored[/]"}[r.status]
        notes = r.reason or "; ".join(r.warnings[:3]) + (" …" if len(r.warnings) > 3 else "")
        table.add_row(Path(r.path).name, r.doc_id, status, str(r.turns), str(r.passages), str(r.words), notes)
    out.print(table)


def summarise(reports) -> int:
    ok = sum(r.status == "ok" for r in reports)
    bad = [r for r in reports if r.status == "error"]
    skipped = [r for r in reports if r.status == "skipped"]
    ignored = [r for r in reports if r.status == "ignored"]
    out.print(f"{ok} file(s) processed, {len(bad)} failed, {len(skipped)} skipped"
              + (f", {len(ignored)} ignored (documentation)." if ignored else "."))
    for r in bad:
        err.print(f"[red]failed[/] {r.path}: {r.reason}", highlight=False, soft_wrap=True)
    for r in skipped + ignored:
        err.print(f"[yellow]{r.status}[/] {r.path}: {r.reason}", highlight=False, soft_wrap=True)
    for r in reports:
        if r.status == "ok":
            for w in r.warnings:
                err.print(f"[yellow]warning[/] {escape(r.path)}: {escape(w)}", highlight=False, soft_wrap=True)
    if not ok:
        return 2
    return 1 if bad or skipped else 0


def _load_speaker_config(path: Optional[Path]):
    from .readers import load_speaker_config

    return load_speaker_config(path)


# --- preparation -------------------------------------------------------------------------------

@app.command()
@user_errors
@writes("out_path")
@limited
def ingest(
    paths: List[Path] = typer.Argument(..., help="Transcript files or folders."),
    out_path: Path = typer.Option(Path("work/transcripts.jsonl"), "--out", "-o", help="Transcripts JSONL."),
    speakers: Optional[Path] = typer.Option(None, help="Speaker patterns and roles (default configs/speakers.yaml)."),
    strict: bool = typer.Option(False, help="Stop at the first bad file."),
    max_file_mb: Optional[float] = MAX_FILE_MB,
    max_line_chars: Optional[int] = MAX_LINE_CHARS,
):
    """Read transcripts in any supported format into one JSONL of plain texts and speaker turns."""
    from .prepare import collect_inputs, ingest as run_ingest
    from .tables import write_transcripts

    files, notes = collect_inputs(paths)
    with progress() as prog:
        task = prog.add_task("ingest", total=len(files))
        transcripts, reports = run_ingest(files, speaker_config=_load_speaker_config(speakers), strict=strict,
                                          on_file=lambda r: prog.advance(task))
    reports = notes + reports
    if transcripts:
        write_transcripts(out_path, transcripts)
        out.print(f"wrote {len(transcripts)} transcript(s) to {out_path}")
    print_file_reports(reports, title="ingest")
    raise typer.Exit(summarise(reports))


@app.command()
@user_errors
@writes("out_path")
def segment(
    transcripts_path: Path = typer.Argument(Path("work/transcripts.jsonl"), help="Output of `codeur ingest`."),
    out_path: Path = typer.Option(Path("work/passages.jsonl"), "--out", "-o",
                                  help="Passages (.jsonl or .parquet)."),
):
    """Segment interviewee turns into passages with exact plain-text offsets."""
    from .prepare import load_transcripts, segment as run_segment
    from .tables import write_passages

    transcripts = load_transcripts(transcripts_path)
    passages = run_segment(transcripts)
    write_passages(out_path, passages)
    out.print(f"wrote {len(passages)} passage(s) from {len(transcripts)} transcript(s) to {out_path}")


@app.command()
@user_errors
@limited
def prepare(
    paths: List[Path] = typer.Argument(..., help="Transcript files or folders."),
    out_path: Path = typer.Option(Path("work/passages.jsonl"), "--out", "-o",
                                  help="Passages (.jsonl or .parquet)."),
    transcripts_out: Optional[Path] = typer.Option(None, "--transcripts",
                                                   help="Also write the transcripts JSONL here."),
    parquet: bool = typer.Option(False, help="Also write a Parquet copy of the passages beside --out."),
    speakers: Optional[Path] = typer.Option(None, help="Speaker patterns and roles (default configs/speakers.yaml)."),
    strict: bool = typer.Option(False, help="Stop at the first bad file."),
    engine: str = typer.Option("local", help=ENGINE_HELP),
    workers: Optional[int] = typer.Option(None, help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, help=SCHEDULER_HELP),
    slurm: Optional[Path] = typer.Option(None, help=SLURM_HELP),
    fresh: bool = typer.Option(False, help=FRESH_HELP),
    max_file_mb: Optional[float] = MAX_FILE_MB,
    max_line_chars: Optional[int] = MAX_LINE_CHARS,
):
    """Ingest, clean and segment in one go: transcript files → passages."""
    from .prepare import collect_inputs, prepare as run_prepare
    from .tables import PASSAGE_SCHEMA, write_passages, write_rows, write_transcripts

    parquet_out = out_path.with_suffix(".parquet") if parquet else None
    opts = engine_options(engine, workers, scheduler, slurm, fresh)
    if opts is not None:
        from . import engine as dask_engine
        from .atomic import write_jsonl

        with writing(out_path, parquet_out, transcripts_out):
            prog, on_partition = partition_progress("prepare")
            with prog:
                run = dask_engine.prepare(paths, out=out_path, speakers=speakers, strict=strict, opts=opts,
                                          note=_note, on_partition=on_partition)
            if run.transcripts:
                write_rows(out_path, run.rows, schema=PASSAGE_SCHEMA)
                if parquet_out:
                    write_rows(parquet_out, run.rows, schema=PASSAGE_SCHEMA)
                if transcripts_out:
                    write_jsonl(transcripts_out, run.transcripts)
                out.print(f"wrote {len(run.rows)} passage(s) to {out_path} ({len(run.computed)} of "
                          f"{run.n_partitions} partition(s) done in this run)")
            run.store.discard()
        print_file_reports(run.reports, title="prepare")
        raise typer.Exit(summarise(run.reports))
    with writing(out_path, parquet_out, transcripts_out):
        n_files = len(collect_inputs(paths)[0])
        with progress() as prog:
            task = prog.add_task("prepare", total=n_files)
            result = run_prepare(paths, speaker_config=_load_speaker_config(speakers), strict=strict,
                                 on_file=lambda r: prog.advance(task))
        if result.transcripts:
            write_passages(out_path, result.passages)
            if parquet_out:
                write_passages(parquet_out, result.passages)
            if transcripts_out:
                write_transcripts(transcripts_out, result.transcripts)
            out.print(f"wrote {len(result.passages)} passage(s) to {out_path}")
    print_file_reports(result.reports, title="prepare")
    raise typer.Exit(summarise(result.reports))


# --- corpus --------------------------------------------------------------------------------------

@app.command("corpus-build")
@user_errors
def corpus_build(
    authoring: Path = typer.Option(Path("corpus/authoring"), help="Folder of *.interview files."),
    corpus_dir: Path = typer.Option(Path("corpus"), "--corpus", help="Corpus folder to write into."),
):
    """Render the authored interviews into transcripts and gold spans (maintainers only)."""
    from .corpus import build_corpus

    counts = build_corpus(authoring, corpus_dir)
    out.print(counts)


@app.command("corpus-build-real")
@user_errors
def corpus_build_real(
    real_dir: Path = typer.Option(Path("corpus/real"), "--real", help="The real part of the corpus."),
):
    """Turn the two real codings and their adjudication into gold spans (maintainers only)."""
    from .corpus import build_real_gold

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
    from .corpus import corpus_stats as stats, load_corpus

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
    from .atomic import write_jsonl
    from .corpus import corpus_rows, load_corpus

    if split is not None and split not in ("train", "dev", "test"):
        raise CodeurError(f"--split {split!r}: choose train, dev or test")
    corpus = load_corpus(corpus_dir)
    rows = corpus_rows(corpus, corpus.coder(coder))
    n = write_jsonl(out_path, (r for r in rows if split is None or r["split"] == split))
    out.print(f"wrote {n} passages to {out_path}")


def main() -> None:  # pragma: no cover
    app()


@app.command("corpus-files")
@user_errors
def corpus_files(
    split: str = typer.Option(..., help="train, dev or test."),
    corpus_dir: Path = typer.Option(Path("corpus"), "--corpus"),
    splits: Optional[Path] = typer.Option(None, help="Splits file (default: the corpus folder's own "
                                          "splits.yaml, else configs/splits.yaml)."),
):
    """Print the transcript files of one split (for scripts: `codeur classify $(codeur corpus-files --split test)`)."""
    from .corpus import load_splits, splits_file
    from .readers.sidecar import is_sidecar

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

@app.command()
@user_errors
@writes(folders=("out_dir",))
def train(
    config: Path = typer.Option(Path("configs/train.yaml"), "--config", "-c", help="Training config (YAML)."),
    out_dir: Path = typer.Option(Path("models/default"), "--out", "-o", help="Model directory to write."),
):
    """Train a classifier on the corpus splits; write a model directory with its model card."""
    from .train import train as run_train

    card = run_train(config, out_dir, log=lambda m: err.print(m, highlight=False))
    for split in ("dev", "test", *(f"{e['name']}_{s}" for e in card.get("extra_corpora", []) for s in ("dev", "test"))):
        sc = card["scores"].get(split)
        if sc:
            out.print(f"{split}: macro-F1 {sc['macro_f1']:.3f}  micro-F1 {sc['micro_f1']:.3f}  "
                      f"mean kappa {sc['mean_kappa']:.3f}  ({sc['n_passages']} passages)")
    out.print(f"model written to {out_dir} (trained in {card['training_seconds']} s)")


@app.command("learning-curve")
@user_errors
@writes(folders=("out_dir",))
def learning_curve_cmd(
    config: Path = typer.Option(Path("configs/train.yaml"), "--config", "-c", help="Training config (YAML) with "
                                "the coded corpus as an extra corpus."),
    corpus: str = typer.Option("real", "--corpus", help="Name of the extra corpus whose train interviews are "
                               "drawn (your own coding)."),
    steps: str = typer.Option("0,1,2,4,8", help="Numbers of coded interviews to try, comma-separated."),
    repeats: int = typer.Option(3, help="Random draws of interviews per step."),
    seed: int = typer.Option(0),
    n_boot: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples of the test interviews (0: none)."),
    out_dir: Path = typer.Option(Path("work/curve"), "--out", "-o", help="Folder for curve.json and curve.md."),
):
    """How many interviews to code by hand: test scores with 0, 1, 2, 4, … of your coded interviews in training."""
    from .atomic import write_json, write_text
    from .curve import curve_markdown, learning_curve

    try:
        ks = [int(x) for x in steps.split(",") if x.strip()]
    except ValueError:
        raise CodeurError(f"--steps {steps!r}: give whole numbers separated by commas, e.g. 0,1,2,4,8") from None
    if repeats < 1:
        raise CodeurError(f"--repeats {repeats}: give at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    result = learning_curve(config, corpus=corpus, steps=ks, repeats=repeats, seed=seed, n_boot=n_boot,
                            log=lambda m: err.print(m, highlight=False, markup=False))
    write_json(out_dir / "curve.json", result)
    md = curve_markdown(result)
    write_text(out_dir / "curve.md", md)
    out.print(md, highlight=False, markup=False)
    out.print(f"wrote {out_dir / 'curve.json'} and {out_dir / 'curve.md'}")


@app.command()
@user_errors
@limited
def classify(
    inputs: List[Path] = typer.Argument(..., help="Transcript files/folders, or passage tables (.jsonl/.parquet) "
                                                  "with at least 'id' and 'text'."),
    model_dir: Path = typer.Option(..., "--model", "-m", help="A model directory from `codeur train`."),
    out_path: Path = typer.Option(Path("work/predictions.jsonl"), "--out", "-o"),
    fmt: Optional[str] = typer.Option(None, "--format", help="jsonl (default), csv or parquet; default from --out."),
    codebook: Optional[str] = typer.Option(None, help="Codebook to check the model against (default "
                                                       "configs/codebook.yaml); 'model' uses the model's own."),
    batch_size: int = typer.Option(256, help="Passages per batch."),
    n_process: int = typer.Option(1, "--n-process", help="Worker processes for the model."),
    strict: bool = typer.Option(False, help="Stop at the first bad file or line."),
    engine: str = typer.Option("local", help=ENGINE_HELP),
    workers: Optional[int] = typer.Option(None, help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, help=SCHEDULER_HELP),
    slurm: Optional[Path] = typer.Option(None, help=SLURM_HELP),
    rows_per_partition: Optional[int] = typer.Option(None, help="--engine dask: rows of a passages table per "
                                                     "partition (default 20,000)."),
    fresh: bool = typer.Option(False, help=FRESH_HELP),
    max_file_mb: Optional[float] = MAX_FILE_MB,
    max_line_chars: Optional[int] = MAX_LINE_CHARS,
):
    """Code passages with a trained model: add `codes` and `scores` to each passage."""
    from .classify import classify_rows, context_note, gather_rows
    from .model import check_codebook, load_model
    from .tables import output_format, write_rows

    output_format(out_path, fmt)  # a --format that contradicts --out is refused before any work
    opts = engine_options(engine, workers, scheduler, slurm, fresh, rows_per_partition)
    if opts is None and rows_per_partition is not None:
        raise CodeurError("--rows-per-partition only goes with --engine dask")
    if opts is not None:
        _classify_dask(inputs, model_dir, out_path, fmt, codebook, batch_size, strict, opts)
    with writing(out_path):
        model = load_model(model_dir)
        check_codebook(model, codebook)
        got = gather_rows(inputs, strict=strict)
        if not got.rows:
            for p in got.problems:
                err.print(f"[red]skipped[/] {p}", highlight=False, soft_wrap=True)
            if got.reports:
                summarise(got.reports)
            raise CodeurError("no passage to classify", hint="check the inputs (interviewee turns, 'id' and 'text' fields)")
        note = context_note(model, got.rows)
        if note:
            err.print(f"[yellow]warning:[/] {note}", highlight=False, soft_wrap=True)
        with progress() as prog:
            task = prog.add_task("classify", total=len(got.rows))
            rows = classify_rows(model, got.rows, batch_size=batch_size, n_process=n_process,
                                 on_batch=lambda n: prog.advance(task, n))
        write_rows(out_path, rows, fmt=fmt)
        out.print(f"wrote {len(rows)} coded passage(s) to {out_path}")
        for p in got.problems:
            err.print(f"[yellow]skipped[/] {p}", highlight=False, soft_wrap=True)
    code = summarise(got.reports) if got.reports else 0
    if got.problems:
        out.print(f"{len(got.problems)} table(s) or line(s) skipped.")
        code = max(code, 1)
    raise typer.Exit(code)


def _classify_dask(inputs, model_dir, out_path, fmt, codebook, batch_size, strict, opts) -> None:
    """`codeur classify --engine dask`: the same rows as the single-process run, from partitions
    done on Dask workers and kept beside the output until it is written."""
    from . import engine as dask_engine
    from .classify import context_note
    from .model import check_codebook, load_model
    from .tables import write_rows

    with writing(out_path):
        model = load_model(model_dir)
        check_codebook(model, codebook)
        prog, on_partition = partition_progress("classify")
        with prog:
            run = dask_engine.classify(inputs, model=model, out=out_path, strict=strict, batch_size=batch_size,
                                       opts=opts, note=_note, on_partition=on_partition)
        if not run.rows:
            for p in run.problems:
                err.print(f"[red]skipped[/] {p}", highlight=False, soft_wrap=True)
            if run.reports:
                summarise(run.reports)
            raise CodeurError("no passage to classify", hint="check the inputs (interviewee turns, 'id' and 'text' fields)")
        note = context_note(model, run.rows)
        if note:
            err.print(f"[yellow]warning:[/] {note}", highlight=False, soft_wrap=True)
        write_rows(out_path, run.rows, fmt=fmt)
        run.store.discard()
        out.print(f"wrote {len(run.rows)} coded passage(s) to {out_path} ({len(run.computed)} of "
                  f"{run.n_partitions} partition(s) done in this run)")
        for p in run.problems:
            err.print(f"[yellow]skipped[/] {p}", highlight=False, soft_wrap=True)
    code = summarise(run.reports) if run.reports else 0
    if run.problems:
        out.print(f"{len(run.problems)} line(s) skipped.")
        code = max(code, 1)
    raise typer.Exit(code)


from . import cli_audit  # noqa: E402,F401  (registers evaluate, audit, suggest, headline)
from . import cli_qdpx  # noqa: E402,F401  (registers import-qdpx, export-qdpx, import-qdc, export-qdc)
from . import cli_cases  # noqa: E402,F401  (registers pseudonymize, matrix)
