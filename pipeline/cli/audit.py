"""`codeur evaluate`, `audit`, `suggest`, `headline`: the audit end of the pipeline on the command line.

Registered on the `codeur` app of pipeline.cli.main; same conventions: one-line errors, exit code 0 when
everything was read, 1 when some rows were skipped (the rest was used), 2 when nothing was done.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import app, err, out, progress, user_errors, writes
from ..core.errors import CodeurError, EmptyInputError, MetricsError, ModelError, OptionError

MAX_LISTED = 20


def _say(lines) -> None:
    for line in lines:
        out.print(line, highlight=False, markup=False, soft_wrap=True)


def _skipped(source: str, problems: list[str]) -> None:
    for p in problems[:MAX_LISTED]:
        err.print(f"skipped {source}: {p}", style="yellow", highlight=False, markup=False, soft_wrap=True)
    if len(problems) > MAX_LISTED:
        err.print(f"… and {len(problems) - MAX_LISTED} more skipped in {source}", style="yellow", markup=False)


def _names(names: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    if names is None:
        return None, None
    parts = [p.strip() for p in names.split(",")]
    if len(parts) != 2 or not all(parts):
        raise OptionError(f"--names {names!r}: give two names separated by a comma, e.g. --names \"coder 1,coder 2\"")
    return parts[0], parts[1]


def _codebook_and_card(model_dir: Optional[Path], codebook_path: Optional[Path]):
    from ..classify.model import read_model_card
    from ..core.codebook import load_codebook

    if model_dir is None:
        return load_codebook(codebook_path), None
    card, codebook = read_model_card(model_dir)
    if codebook_path is not None and load_codebook(codebook_path).content_hash() != codebook.content_hash():
        raise ModelError(f"the model was trained with another codebook than {codebook_path}", path=str(model_dir),
                         hint="leave out --codebook to use the model's own")
    return codebook, card


def run_audit(a_path: Path, b_path: Path, out_dir: Path, *, a_name: Optional[str], b_name: Optional[str],
              passages: Optional[Path], reference: Optional[Path], model_dir: Optional[Path],
              codebook_path: Optional[Path], allow_partial: bool, n_boot: int, seed: int,
              cases: Optional[Path] = None, by: Optional[str] = None, compare: Optional[Path] = None) -> int:
    """Shared by `evaluate` and `audit`: read, compare, write, print the headline; return the exit code."""
    from ..audit.codings import read_coding, read_passage_refs
    from ..audit.report import build_report, headline_lines, write_audit

    if n_boot < 0:
        raise OptionError(f"--bootstrap {n_boot}: give a number of resamples ≥ 0 (0: no intervals)")
    codebook, card = _codebook_and_card(model_dir, codebook_path)
    if b_name is None and card is not None:
        b_name = card["name"]
    a = read_coding(a_path, codebook, name=a_name)
    b = read_coding(b_path, codebook, name=b_name)
    if a.name == b.name:
        a.name, b.name = f"{a.name} (A)", f"{b.name} (B)"
    ref = read_coding(reference, codebook) if reference else None
    other = read_coding(compare, codebook) if compare else None
    if other is not None and other.name in (a.name, b.name):
        other.name = f"{other.name} (compared)"
    refs, passage_problems = read_passage_refs(passages) if passages else (None, [])
    report = build_report(a, b, codebook, passages=refs, allow_partial=allow_partial, reference=ref,
                          model_card=card, n_resamples=n_boot, seed=seed, compare=other)
    if card is not None:  # scores on interviews the model learned from (or was tuned on) are optimistic
        seen = sorted((a.docs & b.docs) & set(card.get("split", {}).get("train", []) + card.get("split", {}).get("dev", [])))
        if seen:
            report.notes.insert(0, f"WARNING: {len(seen)} of these interviews were used to train or tune "
                                   f"{card.get('name', 'the model')} ({', '.join(seen[:8])}{' …' if len(seen) > 8 else ''}): "
                                   "its scores on them are optimistic; evaluate on its test interviews or new ones")
    extra = []
    if by:
        extra.append((f"Codes by {by}", _case_matrix(a_path, b_path, out_dir, codebook, cases, by)))
    files = write_audit(report, out_dir, extra)
    skipped = False
    for source, problems in ((a.source, a.problems), (b.source, b.problems), (str(passages), passage_problems),
                             (ref.source if ref else "", ref.problems if ref else []),
                             (other.source if other else "", other.problems if other else [])):
        _skipped(source, problems)
        skipped = skipped or bool(problems)
    listed = tuple(f"{s}: skipped" for s in (a.source, b.source, ref.source if ref else a.source,
                                             other.source if other else a.source))
    for note in report.notes:
        if not note.startswith(listed):
            err.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
    _say(headline_lines(report.to_dict(), files["metrics"]))
    return 1 if skipped else 0


def _case_matrix(gold_path: Path, pred_path: Path, out_dir: Path, codebook, cases: Optional[Path], by: str) -> str:
    """The case matrix of `codeur matrix`, human (gold spans) and machine side by side, for the report;
    also written as matrix.csv and bias.csv beside it."""
    from ..core.gold import coders, read_gold
    from ..audit.bias import BIAS_COLUMNS
    from ..audit.matrix import MATRIX_COLUMNS, write_csv
    from ..audit.matrix_html import report_section
    from ..core.csvfile import read_cases
    from ..core.tables import read_predictions

    attributes = [a.strip() for a in by.split(",") if a.strip()]
    cases = cases or Path("corpus/cases.csv")
    case_table = read_cases(cases)
    predictions, _ = read_predictions(pred_path, required=("id", "doc_id", "codes"))  # unreadable rows left out
    spans = None
    try:
        groups = coders(read_gold(gold_path))
        spans = groups.get("coder1") or next(iter(groups.values()))
    except CodeurError:  # passage-level gold: the matrix shows the machine side only
        spans = None
    fragment, matrix_rows, bias_rows = report_section(predictions, spans, case_table, attributes, codebook,
                                                      where=str(cases))
    write_csv(out_dir / "matrix.csv", matrix_rows, MATRIX_COLUMNS)
    if bias_rows:
        write_csv(out_dir / "bias.csv", bias_rows, BIAS_COLUMNS)
    return fragment


@app.command()
@user_errors
@writes(folders=("out_dir",))
def evaluate(
    gold: Path = typer.Option(..., "--gold", help="Gold coding: spans JSONL (file, or folder of one coder's files) "
                                                  "or a passage-level JSONL with 'id' and 'codes'."),
    pred: Path = typer.Option(..., "--pred", help="Predictions from `codeur classify` (.jsonl, .csv or .parquet)."),
    out_dir: Path = typer.Option(Path("work/audit"), "--out", "-o", help="Folder for report.html, metrics.json "
                                                                         "and disagreements.csv."),
    reference: Optional[Path] = typer.Option(None, "--reference", help="A second human coder's spans (or passage "
                                             "codes), compared with the gold on the double-coded interviews."),
    model_dir: Optional[Path] = typer.Option(None, "--model", "-m", help="The model directory: thresholds, "
                                             "codebook and name from its model card."),
    passages: Optional[Path] = typer.Option(None, "--passages", help="Passages with offsets (`codeur prepare` "
                                            "output), when the predictions lack doc_id/start/end."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Compare on the passages both codings "
                                       "cover when they differ (the gap is recorded), instead of refusing."),
    n_boot: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples of the interviews (0: no intervals)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook (default: the model's, else "
                                            "configs/codebook.yaml)."),
    cases: Optional[Path] = typer.Option(None, "--cases", help="Case attributes (default corpus/cases.csv), "
                                         "with --by."),
    by: Optional[str] = typer.Option(None, "--by", help="Add the case matrix (human and machine) and the error "
                                     "analysis by these attributes to the report, e.g. market,actor_type."),
    compare: Optional[Path] = typer.Option(None, "--compare", help="Another model's predictions on the same "
                                           "passages: the difference of the two models' agreement with the gold, "
                                           "with a paired bootstrap interval."),
):
    """Audit a classifier against gold coding: per-code agreement with 95 % intervals, calibration,
    disagreements to adjudicate, beside a human double-coding reference."""
    code = run_audit(gold, pred, out_dir, a_name="gold", b_name=None, passages=passages, reference=reference,
                     model_dir=model_dir, codebook_path=codebook, allow_partial=allow_partial, n_boot=n_boot,
                     seed=seed, cases=cases, by=by, compare=compare)
    raise typer.Exit(code)


@app.command()
@user_errors
@writes(folders=("out_dir",))
def audit(
    a: Path = typer.Argument(..., help="Coding A, the reference (gold spans, or passages with 'id' and 'codes')."),
    b: Path = typer.Argument(..., help="Coding B, compared with A (predictions, another coder's spans...)."),
    out_dir: Path = typer.Option(Path("work/audit"), "--out", "-o"),
    passages: Optional[Path] = typer.Option(None, "--passages", help="Passages with offsets (`codeur prepare` "
                                            "output); required when A and B are both spans."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Compare on what both cover when the "
                                       "passages differ (the gap is recorded), instead of refusing."),
    names: Optional[str] = typer.Option(None, "--names", help="Names of A and B, e.g. \"coder 1,coder 2\"."),
    reference: Optional[Path] = typer.Option(None, "--reference", help="A further human coding compared with A."),
    model_dir: Optional[Path] = typer.Option(None, "--model", "-m", help="Model directory, when B is its predictions."),
    n_boot: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples of the interviews (0: no intervals)."),
    seed: int = typer.Option(0, "--seed"),
    codebook: Optional[Path] = typer.Option(None, "--codebook"),
):
    """Compare any two codings of the same passages (classifier vs gold, coder 1 vs coder 2)."""
    a_name, b_name = _names(names)
    code = run_audit(a, b, out_dir, a_name=a_name, b_name=b_name, passages=passages, reference=reference,
                     model_dir=model_dir, codebook_path=codebook, allow_partial=allow_partial, n_boot=n_boot,
                     seed=seed)
    raise typer.Exit(code)


@app.command("suggest")
@user_errors
@writes("out_path")
def suggest_cmd(
    model_dir: Path = typer.Option(..., "--model", "-m", help="A model directory from `codeur train`."),
    pool: Path = typer.Option(..., "--pool", help="Passages (`codeur prepare`) or predictions (`codeur classify`); "
                                                  "existing scores are used as they are."),
    n: int = typer.Option(50, "--n", help="How many passages to suggest."),
    out_path: Path = typer.Option(Path("work/suggestions.jsonl"), "--out", "-o", help=".jsonl, .csv or .parquet."),
    exclude_gold: Optional[List[Path]] = typer.Option(None, "--exclude-gold", help="Gold spans (file or folder): "
                                                      "leave out the interviews already coded there (repeatable)."),
    per_interview: Optional[int] = typer.Option(None, "--per-interview", help="At most this many passages from "
                                                "one interview, to spread the batch over interviews."),
):
    """The passages the model is least sure of, to code next: smallest |score − threshold| over codes."""
    from ..classify.model import load_model, read_model_card
    from ..audit.suggest import interview_of, read_pool, score_pool, suggest
    from ..core.tables import write_rows

    if n < 1:
        raise OptionError(f"--n {n}: ask for at least one passage")
    if per_interview is not None and per_interview < 1:
        raise OptionError(f"--per-interview {per_interview}: give at least 1")
    card, _ = read_model_card(model_dir)
    codes = list(card["labels"])
    thresholds = [float(card["thresholds"][c]) for c in codes]
    rows, problems = read_pool(pool, codes)
    if exclude_gold:
        from ..core.gold import read_gold

        coded = {gs.doc_id for g in exclude_gold for gs in read_gold(g)}
        before = len(rows)
        rows = [r for r in rows if interview_of(r) not in coded]
        err.print(f"note: left out {before - len(rows)} passage(s) of {len(coded)} interview(s) already coded",
                  highlight=False, markup=False)
        if not rows:
            raise EmptyInputError("every passage of the pool is in an interview already coded", path=str(pool))
    with progress() as prog:
        task = prog.add_task("score", total=len(rows))
        scored = score_pool(rows, codes, lambda: load_model(model_dir), model_name=card["name"],
                            on_batch=lambda k: prog.advance(task, k))
    picks = suggest(scored.rows, codes, thresholds, n, per_interview=per_interview)
    write_rows(out_path, [s.to_dict() for s in picks])
    _skipped(str(pool), problems)
    for note in scored.notes:
        err.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
    how = f"scored {scored.n_scored_here} with {card['name']}" if scored.n_scored_here else "scores from the pool"
    _say([f"wrote {len(picks)} passage(s) to code next to {out_path} (from {len(rows)} in the pool, {how}; "
          f"margins {picks[0].margin:.3f} to {picks[-1].margin:.3f})"])
    raise typer.Exit(1 if problems else 0)


@app.command()
@user_errors
def headline(metrics: Path = typer.Argument(..., help="metrics.json written by `codeur evaluate` or `audit`.")):
    """Print the headline figures of an audit and where its report is."""
    from ..audit.report import headline_lines, read_metrics

    data = read_metrics(metrics)
    if metrics.is_dir():
        metrics = metrics / "metrics.json"
    try:
        lines = headline_lines(data, metrics)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise MetricsError(f"a metrics.json of an unexpected shape ({type(e).__name__}: {e})", path=str(metrics),
                           hint="was it written by another version of codeur? run `codeur evaluate` again") from None
    _say(lines)
