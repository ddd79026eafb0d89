"""Commands of the first stages: transcript files → transcripts (ingest) → passages (segment, prepare)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import (ENGINE_HELP, FRESH_HELP, MAX_FILE_MB, MAX_LINE_CHARS, SCHEDULER_HELP, SLURM_HELP, WORKERS_HELP,
                  _load_speaker_config, _note, app, engine_options, limited, out, partition_progress,
                  print_file_reports, progress, summarise, user_errors, writes, writing)


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
    from ..passages.prepare import collect_inputs, ingest as run_ingest
    from ..core.tables import write_transcripts

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
    from ..passages.prepare import load_transcripts, segment as run_segment
    from ..core.tables import write_passages

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
    from ..passages.prepare import collect_inputs, prepare as run_prepare
    from ..core.tables import PASSAGE_SCHEMA, write_passages, write_rows, write_transcripts

    parquet_out = out_path.with_suffix(".parquet") if parquet else None
    opts = engine_options(engine, workers, scheduler, slurm, fresh)
    if opts is not None:
        from ..classify import engine as dask_engine
        from ..core.atomic import write_jsonl

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
