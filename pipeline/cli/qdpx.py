"""`codeur import-qdpx / export-qdpx / import-qdc / export-qdc`: exchange with the researcher's QDA
software (NVivo, ATLAS.ti, MAXQDA, QualCoder) through REFI-QDA files. Registered on `pipeline.cli.main.app`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .app import app, err, out, user_errors, writes, writing
from ..core.errors import ConfigError

POSITIONS_HELP = ("How the project counts positions: codepoints (the standard), utf16 (NVivo), "
                  "crlf-as-one (ATLAS.ti). Default: detected from the project; a convention that puts the "
                  "coding off word boundaries is refused.")


def _positions(value: Optional[str], *, allow_none: bool) -> Optional[str]:
    from ..exchange.positions import POSITIONS

    if value is None and allow_none:
        return None
    if value not in POSITIONS:
        raise ConfigError(f"--positions {value!r} is not a position convention", hint=f"use {', '.join(POSITIONS)}")
    return value


@app.command("import-qdpx")
@user_errors
@writes(folders=("out_dir",))
def import_qdpx(
    project: Path = typer.Argument(..., help="A REFI-QDA project (.qdpx) exported by NVivo, ATLAS.ti, MAXQDA, "
                                             "QualCoder…"),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder to write transcripts/, gold/, codebook.yaml, "
                                                          "cases.csv into."),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help="YAML: project code name or GUID → codeur code "
                                                                   "name (~ leaves a code out)."),
    positions: Optional[str] = typer.Option(None, "--positions", help=POSITIONS_HELP),
):
    """Import a QDA project: text sources → transcripts, text coding → gold spans per coder, code tree →
    codebook, cases and variables → cases.csv."""
    from ..exchange.qdc import load_mapping
    from ..exchange.qdpx import import_project

    report = import_project(project, out_dir, mapping=load_mapping(mapping),
                            positions=_positions(positions, allow_none=True))
    table = Table(title=f"import {project.name}" + (f" ({report.origin})" if report.origin else ""))
    for col in ("source", "doc", "status", "spans", "notes"):
        table.add_column(col, overflow="fold")
    for s in report.sources:
        status = "[green]ok[/]" if s.status == "ok" else "[yellow]skipped[/]"
        notes = s.reason or "; ".join(s.warnings[:3]) + (" …" if len(s.warnings) > 3 else "")
        table.add_row(s.name, s.doc_id, status, str(s.spans), notes)
    out.print(table)
    out.print(f"positions: {report.positions.convention} ({report.positions.reason})", highlight=False)
    coders = ", ".join(f"{c} ({n} spans)" for c, n in report.coders.items()) or "none"
    out.print(f"coders: {coders}", highlight=False)
    if report.codebook is not None:
        out.print(f"codebook: {len(report.codebook.dimensions)} dimension(s), {len(report.codebook.codes)} code(s)")
    for note in report.notes:
        err.print(f"[yellow]note[/] {note}", highlight=False, soft_wrap=True)
    if report.kept:
        out.print("kept in project/ and written back by `export-qdpx --project`, not read by codeur: "
                  + ", ".join(f"{n} {what}" for what, n in report.kept.items()), highlight=False, soft_wrap=True)
    out.print(f"wrote {len(report.imported)} transcript(s) and {len(report.coders)} coder file(s) to {out_dir}, "
              f"the project as it came in to {out_dir / 'project'}", highlight=False)
    raise typer.Exit(1 if len(report.imported) < len(report.sources) else 0)


@app.command("export-qdpx")
@user_errors
def export_qdpx(
    out_path: Path = typer.Option(..., "--out", "-o", help="The project to write (.qdpx)."),
    project: Optional[Path] = typer.Option(None, "--project",
                                           help="A folder written by `codeur import-qdpx --out`: write that project "
                                                "back unchanged, with the predictions added as a user of their own."),
    pred: Optional[Path] = typer.Option(None, "--pred",
                                        help="Predictions from `codeur classify` (.jsonl, .csv or .parquet)."),
    gold: Optional[Path] = typer.Option(None, "--gold", help="Gold spans (a .jsonl or a folder of them): each "
                                                             "coder becomes a user of the project (not with --project: "
                                                             "its human coding is already there)."),
    transcripts: Optional[Path] = typer.Option(None, "--transcripts",
                                               help="Transcripts JSONL (`codeur prepare --transcripts`) or the "
                                                    "transcript file/folder the passages came from (default "
                                                    "work/transcripts.jsonl; not with --project)."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook (default configs/codebook.yaml; not "
                                                                     "with --project, whose map says which code is "
                                                                     "which)."),
    tool: Optional[str] = typer.Option(None, "--for", help="The tool that will open the project: "
                                                           "nvivo, atlasti, maxqda or qualcoder (sets --positions)."),
    positions: Optional[str] = typer.Option(None, "--positions",
                                            help="codepoints (the standard), utf16 (NVivo) or crlf-as-one (ATLAS.ti). "
                                                 "Default: as the project came in with --project, else from --for, "
                                                 "else codepoints."),
    min_score: Optional[float] = typer.Option(None, "--min-score", help="Only the model's codes with at least this "
                                                                        "probability."),
    user: Optional[str] = typer.Option(None, "--user", help="Name of the user holding the model's coding "
                                                            "(default: 'codeur MODEL' with --project, else MODEL)."),
    name: Optional[str] = typer.Option(None, "--name", help="Project name (default: the file name; not with "
                                                            "--project)."),
):
    """Export auto-coding as a QDA project. With --project: the researcher's own project back, every
    source, code, user, case and memo as it came in, and the model's codes added as its own user's coding.
    Without: transcripts as sources, the codebook, the model (and each gold coder) as users."""
    from ..exchange.qdpx_project import TOOLS

    if tool is not None and tool not in TOOLS:
        raise ConfigError(f"--for {tool!r} is not a tool codeur knows", hint=f"use {', '.join(TOOLS)}")
    convention = _positions(positions, allow_none=True)
    if tool is not None and convention is not None and convention != TOOLS[tool]:
        raise ConfigError(f"--for {tool} reads positions as {TOOLS[tool]}, not {convention}",
                          hint="give one of --for and --positions")
    convention = convention or (TOOLS[tool] if tool else None)
    if project is not None:
        given = [o for o, v in (("--gold", gold), ("--transcripts", transcripts), ("--codebook", codebook),
                                ("--name", name)) if v is not None]
        if given:
            raise ConfigError(f"{', '.join(given)} cannot be used with --project",
                              hint="the kept project holds its sources, codes and human coding already")
        from ..exchange.qdpx_project import export_kept_project

        with writing(out_path):
            report = export_kept_project(project, out_path, pred=pred, min_score=min_score, positions=convention,
                                         user=user)
        for note in report.notes:
            err.print(f"[yellow]note[/] {note}", highlight=False, soft_wrap=True)
        added = ", ".join(f"{u} ({n} passages)" for u, n in report.added.items()) or "no machine coding added"
        out.print(f"wrote {report.path}: the project of {project} with {added}, {report.codings} coding(s); "
                  f"positions as {report.convention}"
                  + (f"; {report.below} code(s) under --min-score {min_score} left out" if report.below else ""),
                  highlight=False, soft_wrap=True)
        return
    if pred is None and gold is None:
        raise ConfigError("nothing to export: give --pred, --gold, or --project",
                          hint="--project DIR writes back a project imported with `codeur import-qdpx --out DIR`")
    from ..core.codebook import load_codebook
    from ..exchange.qdpx import export_project

    with writing(out_path):
        report = export_project(pred, out_path, transcripts=transcripts or Path("work/transcripts.jsonl"),
                                codebook=load_codebook(codebook), gold=gold, positions=convention or "codepoints",
                                name=name, min_score=min_score, user=user)
    for note in report.notes:
        err.print(f"[yellow]note[/] {note}", highlight=False, soft_wrap=True)
    users = ", ".join(f"{u} ({n} spans)" for u, n in report.users.items()) or "no coded spans"
    out.print(f"wrote {report.path}: {report.sources} source(s), {report.codes} code(s), users: {users}",
              highlight=False)


@app.command("import-qdc")
@user_errors
@writes("out_path")
def import_qdc(
    qdc: Path = typer.Argument(..., help="A REFI-QDA codebook (.qdc)."),
    out_path: Path = typer.Option(..., "--out", "-o", help="The codebook YAML to write."),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help="YAML: project code name or GUID → codeur code "
                                                                   "name (~ leaves a code out)."),
):
    """Import a QDA codebook (.qdc) as a codeur codebook (nested codes → dimensions)."""
    from ..exchange.qdc import load_mapping, read_qdc, write_codebook_yaml, write_mapping

    imported = read_qdc(qdc, mapping=load_mapping(mapping))
    write_codebook_yaml(out_path, imported.codebook, source=qdc.name)
    cb = imported.codebook
    out.print(f"wrote {out_path}: {len(cb.dimensions)} dimension(s), {len(cb.codes)} code(s)", highlight=False)
    if imported.names_changed or mapping:
        mapping_out = out_path.with_name(out_path.stem + ".mapping.yaml")
        write_mapping(mapping_out, imported, source=qdc.name)
        out.print(f"code names differ from the file's: see {mapping_out} (edit it, pass it with --mapping)",
                  highlight=False)
    for note in imported.notes:
        err.print(f"[yellow]note[/] {note}", highlight=False, soft_wrap=True)


@app.command("export-qdc")
@user_errors
@writes("out_path")
def export_qdc(
    out_path: Path = typer.Option(..., "--out", "-o", help="The codebook file to write (.qdc)."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook (default configs/codebook.yaml)."),
):
    """Export the codebook as a REFI-QDA codebook (.qdc): dimensions as categories, definitions as
    descriptions."""
    from ..core.codebook import load_codebook
    from ..exchange.qdc import write_qdc

    cb = load_codebook(codebook)
    write_qdc(cb, out_path)
    out.print(f"wrote {out_path}: {len(cb.dimensions)} dimension(s), {len(cb.codes)} code(s)", highlight=False)
