"""`codeur pseudonymize` and `codeur matrix`: sharing transcripts safely, and the case matrix a paper
reports (which codes, in which kinds of firms). Registered on the main `codeur` app."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from .app import app, err, out, progress, user_errors, writes
from ..core.errors import CaseTableError, CodeurError, EmptyInputError, MismatchError, OptionError, TableError


@app.command()
@user_errors
@writes(folders=("out_dir",))
def pseudonymize(
    paths: Optional[List[Path]] = typer.Argument(None, help="Transcript files or folders."),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for the pseudonymised <doc>.txt files."),
    map_path: Optional[Path] = typer.Option(None, "--map", help="Where to write the mapping CSV (original, "
                                            "replacement, kind, count) — never inside --out."),
    gold: Optional[Path] = typer.Option(None, help="Gold spans (JSONL file or folder) to carry over to the new "
                                                   "offsets (written to OUT/gold/<coder>.jsonl)."),
    mapping: Optional[Path] = typer.Option(None, help="Your own CSV original,replacement: takes precedence; "
                                                      "a previous map.csv keeps pseudonyms stable."),
    config: Optional[Path] = typer.Option(None, help="Settings (default configs/pseudonymize.yaml)."),
    speakers: Optional[Path] = typer.Option(None, help="Speaker patterns and roles (default configs/speakers.yaml)."),
    evaluate: Optional[Path] = typer.Option(None, help="Instead: score the pseudonymiser on hand-marked passages "
                                                       "(JSONL text + entities), e.g. tests/data/pseudo/eval.jsonl."),
    show_errors: bool = typer.Option(False, help="With --evaluate: list missed and spurious names "
                                                 "(the evaluation set is invented, not personal data)."),
):
    """Replace names of persons, firms and places (and e-mails, phones, addresses) by stable pseudonyms."""
    from ..exchange.pseudonymize import Pseudonymizer, load_config

    cfg = load_config(config)
    if evaluate is not None:
        _evaluate(evaluate, cfg, show_errors)
        return
    if not paths or out_dir is None or map_path is None:
        raise CodeurError("give transcript PATHs, --out DIR and --map FILE (or --evaluate FILE)",
                          hint="codeur pseudonymize corpus/transcripts --out shared/ --map private/map.csv")
    from ..core.atomic import write_jsonl, write_text
    from ..core.gold import coders, read_gold
    from ..passages.prepare import collect_inputs, ingest
    from ..exchange.pseudonymize import carry_gold, check_map_outside, read_user_mapping, write_mapping

    check_map_outside(map_path, out_dir)
    user = read_user_mapping(mapping) if mapping else []
    spans = read_gold(gold) if gold else None
    files, notes = collect_inputs(paths)
    speaker_config = None
    if speakers:
        from ..ingest.readers import load_speaker_config

        speaker_config = load_speaker_config(speakers)
    transcripts, reports = ingest(files, speaker_config=speaker_config)
    bad = [r for r in notes + reports if r.status == "error"]
    for r in bad:  # reasons name files and lines, never a speaker (reader warnings are not shown)
        err.print(f"[red]failed[/] {r.path}: {r.reason}", highlight=False, soft_wrap=True)
    if not transcripts:
        raise CodeurError("no transcript could be read", hint="check the paths")
    pseudonymizer = Pseudonymizer(cfg, speaker_config=speaker_config)
    with progress() as prog:
        task = prog.add_task("pseudonymize", total=len(transcripts))
        result = pseudonymizer.run({t.doc_id: t.text for t in transcripts}, user,
                                   on_doc=lambda _d: prog.advance(task))
    for doc_id, doc in result.docs.items():
        write_text(out_dir / f"{doc_id}.txt", doc.text)
    write_mapping(map_path, result.mapping)
    table = Table(title=f"pseudonymised {len(result.docs)} document(s) → {out_dir}")
    table.add_column("kind")
    table.add_column("replacements", justify="right")
    table.add_column("distinct names", justify="right")
    distinct = {}
    for e in result.mapping:
        distinct.setdefault(e.kind, set()).add(e.replacement)
    for kind, n in result.counts_by_kind().items():
        table.add_row(kind, str(n), str(len(distinct.get(kind, ()))))
    out.print(table)
    if spans is not None:
        carried, skipped = carry_gold(spans, result.docs)
        for coder, cs in sorted(coders(carried).items()):
            n = write_jsonl(out_dir / "gold" / f"{coder}.jsonl", (s.to_dict() for s in cs))
            out.print(f"carried {n} gold span(s) of {coder} to {out_dir / 'gold' / (coder + '.jsonl')}")
        if skipped:
            err.print(f"[yellow]{skipped} gold span(s) skipped[/]: their documents were not pseudonymised")
    out.print(f"mapping written to {map_path} — it undoes the pseudonymisation: keep it private, apart from "
              f"{out_dir}", soft_wrap=True)
    raise typer.Exit(1 if bad else 0)


def _evaluate(path: Path, cfg, show_errors: bool) -> None:
    from ..exchange.pseudonymize import EvalReport, KINDS, Pseudonymizer, evaluate as run_evaluation, read_eval

    rows = read_eval(path)
    report = run_evaluation(rows, Pseudonymizer(cfg))
    table = Table(title=f"pseudonymisation on {report.passages} hand-marked passages ({path})")
    for col in ("kind", "marked", "recall", "replaced", "precision"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for kind in [k for k in KINDS if k in report.recall or k in report.precision]:
        found, marked = report.recall.get(kind, (0, 0))
        correct, replaced = report.precision.get(kind, (0, 0))
        table.add_row(kind, str(marked), _pct(EvalReport.ratio((found, marked))),
                      str(replaced), _pct(EvalReport.ratio((correct, replaced))))
    table.add_row("all", str(sum(b for _, b in report.recall.values())), _pct(report.overall_recall),
                  str(sum(b for _, b in report.precision.values())), _pct(report.overall_precision))
    out.print(table)
    out.print("recall: share of marked names whose every character was replaced; precision: share of "
              f"replacements that hit a marked name; right kind for {_pct(report.ratio(report.kind_agreement))} "
              "of the hits.")
    if show_errors:
        for kind, surface in report.misses:
            out.print(f"  missed   {kind:<10} {surface}", highlight=False)
        for kind, surface in report.false_alarms:
            out.print(f"  spurious {kind:<10} {surface}", highlight=False)


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.1f}%"


@app.command()
@user_errors
@writes(folders=("out_dir",))
def matrix(
    pred: Path = typer.Option(..., help="Coded passages from `codeur classify` (.jsonl, .parquet or .csv)."),
    cases: Path = typer.Option(Path("corpus/cases.csv"), help="Case attributes, one row per interview (doc_id)."),
    by: str = typer.Option(..., help="Attributes to cross the codes with, comma-separated: market,headcount."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for matrix.csv, matrix.html (and bias.csv)."),
    gold: Optional[Path] = typer.Option(None, help="Human gold spans: the human side of the matrix and the "
                                                   "error analysis."),
    coder: Optional[str] = typer.Option(None, help="Whose gold spans, when the gold holds several coders."),
    where: Optional[List[str]] = typer.Option(None, help="Keep only interviews with this attribute value, "
                                                         "e.g. --where actor_type=PME (repeatable)."),
    codes: Optional[str] = typer.Option(None, help="Only these codes, comma-separated (default: the codebook's)."),
    codebook: Optional[Path] = typer.Option(None, help="Codebook (default configs/codebook.yaml)."),
    min_passages: int = typer.Option(1, help="An interview counts as having a code from this many coded "
                                             "passages (raise it when every long interview touches every code)."),
    measure: str = typer.Option("interviews", help="What the heatmap shows: 'interviews' (share with the code) "
                                                   "or 'passages' (share of passages coded)."),
    min_group: int = typer.Option(3, help="Flag tests where an attribute value has fewer interviews."),
):
    """Cross codes with case attributes: per code and value, coded passages and share of interviews,
    human and machine side by side; and whether the machine's errors depend on the attributes."""
    from ..core.codebook import load_codebook
    from ..core.gold import coders as by_coder, read_gold
    from ..audit.bias import BIAS_COLUMNS, bias_tests, interview_errors
    from ..audit.matrix import ALL, MATRIX_COLUMNS, build_matrix, check_attributes, coded_passages, write_csv
    from ..audit.matrix_html import matrix_page
    from ..core.csvfile import read_cases
    from ..core.tables import read_predictions

    if measure not in ("interviews", "passages"):
        raise OptionError(f"--measure {measure!r}: use 'interviews' or 'passages'")
    if min_passages < 1:
        raise OptionError("--min-passages must be at least 1")
    attributes = [a.strip() for a in by.split(",") if a.strip()]
    if not attributes:
        raise OptionError("--by needs at least one attribute", hint="e.g. --by market,headcount")
    case_table = read_cases(cases)
    check_attributes(case_table, attributes, where=str(cases))
    filters = []
    for w in where or []:
        if "=" not in w:
            raise OptionError(f"--where {w!r}: expected attribute=value", hint="e.g. --where actor_type=PME")
        k, v = (s.strip() for s in w.split("=", 1))
        check_attributes(case_table, [k], where=str(cases))
        filters.append((k, v))
    cb = load_codebook(codebook)
    wanted = [c.strip() for c in codes.split(",")] if codes else cb.codes
    cb.check_codes(wanted, where="--codes")
    dims = {c: cb.dimension_of(c) for c in wanted}

    predictions, errors = read_predictions(pred, required=("id", "doc_id", "codes"))  # JSONL, Parquet or CSV
    if errors:
        raise TableError(errors[0], path=str(pred), hint=f"{len(errors)} bad line(s)")
    if not predictions:
        raise EmptyInputError("no coded passage", path=str(pred))
    unknown_docs = sorted({p.doc_id for p in predictions} - set(case_table))
    predictions = [p for p in predictions if p.doc_id in case_table
                   and all(case_table[p.doc_id].get(k) == v for k, v in filters)]
    if not predictions:
        raise CaseTableError("no passage left once joined with the case attributes", path=str(cases),
                             hint="check that doc_id values match, and the --where filters")
    spans = None
    if gold is not None:
        all_spans = read_gold(gold)
        groups = by_coder(all_spans)
        if coder is None and len(groups) > 1:
            raise OptionError(f"the gold holds several coders ({', '.join(sorted(groups))})", path=str(gold),
                              hint="choose one with --coder")
        chosen = coder or next(iter(groups))
        if chosen not in groups:
            raise OptionError(f"no gold span of coder {chosen!r}", path=str(gold),
                              hint=f"coders: {', '.join(sorted(groups))}")
        spans = groups[chosen]
        cb.check_codes({c for s in spans for c in s.codes}, where=str(gold))
    cb.check_codes({c for p in predictions for c in p.labels}, where=str(pred))
    coded = coded_passages(predictions, spans, where=str(pred))
    table_rows = build_matrix(coded, case_table, attributes, wanted, dims, min_passages=min_passages)
    write_csv(out_dir / "matrix.csv", table_rows, MATRIX_COLUMNS)
    notes = [f"{len(coded.docs())} interview(s), {len(coded.ids)} passage(s)"
             + (f", filtered on {', '.join(f'{k}={v}' for k, v in filters)}" if filters else "")
             + (f"; human coding: {len(coded.human_docs)} interview(s)" if spans is not None else "")]
    bias_rows: list[dict] = []
    if spans is not None:
        if not coded.human_docs:
            raise MismatchError("the gold spans cover none of the predicted interviews", path=str(gold))
        errors = interview_errors(coded, wanted)
        bias_rows = bias_tests(errors, case_table, attributes, min_group=min_group)
        write_csv(out_dir / "bias.csv", bias_rows, BIAS_COLUMNS)
    if unknown_docs:
        notes.append(f"{len(unknown_docs)} interview(s) without case attributes left out: "
                     f"{', '.join(unknown_docs[:10])}")
    from ..core.atomic import write_text

    if min_passages > 1:
        notes.append(f"an interview has a code from {min_passages} coded passages on")
    saturated = [r["code"] for r in table_rows if r["attribute"] == ALL and r["machine_share"] == 1.0]
    if measure == "interviews" and len(saturated) == len(wanted):
        notes.append("every interview has every code at least once: compare --measure passages, or raise "
                     "--min-passages")
    write_text(out_dir / "matrix.html", matrix_page(table_rows, bias_rows, title=f"Codes by {', '.join(attributes)}",
                                                    notes=notes, measure=measure))
    for n in notes:
        out.print(n, soft_wrap=True)
    for r in bias_rows:
        if r["test"] in ("joint", "attribute"):
            out.print(f"  {r['reading']}" + (f" [{r['note']}]" if r.get("note") else ""), highlight=False,
                      soft_wrap=True, markup=False)
    out.print(f"wrote {out_dir / 'matrix.csv'}, {out_dir / 'matrix.html'}"
              + (f", {out_dir / 'bias.csv'}" if bias_rows else ""), soft_wrap=True)
    if unknown_docs:
        err.print(f"[yellow]{len(unknown_docs)} interview(s) have no row in {cases}[/]", highlight=False)

