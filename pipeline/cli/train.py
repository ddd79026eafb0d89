"""Commands of the classify stage: train a model, draw the learning curve, code passages."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..core.errors import CodeurError, EmptyInputError
from .app import (ENGINE_HELP, FRESH_HELP, MAX_FILE_MB, MAX_LINE_CHARS, SCHEDULER_HELP, SLURM_HELP, WORKERS_HELP,
                  _note, app, engine_options, err, limited, out, partition_progress,
                  progress, summarise, user_errors, writes, writing)


@app.command()
@user_errors
@writes(folders=("out_dir",))
def train(
    config: Path = typer.Option(Path("configs/train.yaml"), "--config", "-c", help="Training config (YAML)."),
    out_dir: Path = typer.Option(Path("models/default"), "--out", "-o", help="Model directory to write."),
):
    """Train a classifier on the corpus splits; write a model directory with its model card."""
    from ..classify.train import train as run_train

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
    from ..core.atomic import write_json, write_text
    from ..classify.curve import curve_markdown, learning_curve

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
    from ..classify.batch import classify_rows, gather_rows
    from ..classify.model import check_codebook, load_model
    from ..core.tables import output_format, write_rows

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
            _nothing_to_classify(got.problems, got.reports)
        _warn_if_no_context(model, got.rows)
        with progress() as prog:
            task = prog.add_task("classify", total=len(got.rows))
            rows = classify_rows(model, got.rows, batch_size=batch_size, n_process=n_process,
                                 on_batch=lambda n: prog.advance(task, n))
        write_rows(out_path, rows, fmt=fmt)
        out.print(f"wrote {len(rows)} coded passage(s) to {out_path}")
    _finish(got.problems, got.reports)


def _classify_dask(inputs, model_dir, out_path, fmt, codebook, batch_size, strict, opts) -> None:
    """`codeur classify --engine dask`: the same rows as the single-process run, from partitions
    done on Dask workers and kept beside the output until it is written."""
    from ..classify import engine as dask_engine
    from ..classify.model import check_codebook, load_model
    from ..core.tables import write_rows

    with writing(out_path):
        model = load_model(model_dir)
        check_codebook(model, codebook)
        prog, on_partition = partition_progress("classify")
        with prog:
            run = dask_engine.classify(inputs, model=model, out=out_path, strict=strict, batch_size=batch_size,
                                       opts=opts, note=_note, on_partition=on_partition)
        if not run.rows:
            _nothing_to_classify(run.problems, run.reports)
        _warn_if_no_context(model, run.rows)
        write_rows(out_path, run.rows, fmt=fmt)
        run.store.discard()
        out.print(f"wrote {len(run.rows)} coded passage(s) to {out_path} ({len(run.computed)} of "
                  f"{run.n_partitions} partition(s) done in this run)")
    _finish(run.problems, run.reports)


def _finish(problems, reports) -> None:
    """Name what was skipped, summarise the files, and exit 1 if anything was skipped."""
    for p in problems:
        err.print(f"[yellow]skipped[/] {p}", highlight=False, soft_wrap=True)
    code = summarise(reports) if reports else 0
    if problems:
        out.print(f"{len(problems)} table(s) or line(s) skipped.")
        code = max(code, 1)
    raise typer.Exit(code)


def _nothing_to_classify(problems, reports) -> None:
    for p in problems:
        err.print(f"[red]skipped[/] {p}", highlight=False, soft_wrap=True)
    if reports:
        summarise(reports)
    raise EmptyInputError("no passage to classify",
                          hint="check the inputs (interviewee turns, 'id' and 'text' fields)")


def _warn_if_no_context(model, rows) -> None:
    from ..classify.batch import context_note

    note = context_note(model, rows)
    if note:
        err.print(f"[yellow]warning:[/] {note}", highlight=False, soft_wrap=True)
