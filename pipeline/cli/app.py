"""What every `codeur` command shares: the Typer `app`, one-line errors (never a traceback), output checks
and locks, limits, progress bars and the batch summary. Exit codes: 0 everything went through, 1 some
inputs were skipped (the rest was written), 2 nothing was done.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..core.errors import CodeurError

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
    from ..core.atomic import check_output, check_output_dir, output_lock

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
        from ..core.limits import overridden

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
    from ..classify.engine import ROWS_PER_PARTITION, options

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
    from ..ingest.readers import load_speaker_config

    return load_speaker_config(path)


# --- preparation -------------------------------------------------------------------------------
