"""The audit's report: two aligned codings → an `AgreementReport`, and its files.

Code by code with the statistics of pipeline.core.agreement, with 95 % intervals from a bootstrap
over interviews, calibration of B's scores, the disagreements to adjudicate, optionally a second
human coder as reference and another model compared on the same passages (paired bootstrap).
Written as metrics.json, disagreements.csv and report.html (pipeline.audit.html); `read_metrics`
and `headline_lines` read an audit back.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..core.agreement import (cluster_bootstrap, expected_calibration_error, percentile_interval, reliability_curve,
                              summary_scores)
from ..core.atomic import atomic_open, write_json, write_text
from ..core.codebook import Codebook
from ..core.errors import MetricsError, MismatchError, OptionError
from ..core.gold import OVERLAP_SHARE
from ..core.tables import spreadsheet_text
from .align import Alignment, align, docs_list, label_matrix
from .codings import Coding, PassageRef

#: Bootstrap defaults: 1000 resamples of the interviews, seed 0, 95 % percentile intervals.
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
CONFIDENCE = 0.95
#: Equal-width bins of the reliability curve.
CALIBRATION_BINS = 10
#: Below this many interviews, percentile intervals of an interview bootstrap tend to be too narrow.
FEW_INTERVIEWS = 10
#: Statistics that get an interval, per code and averaged.
CODE_STATS = ("precision", "recall", "f1", "kappa", "alpha", "agreement")
OVERALL_STATS = ("macro_f1", "micro_f1", "mean_kappa", "mean_alpha", "macro_precision", "macro_recall")
DIMENSION_STATS = ("f1", "kappa", "alpha")
CSV_ENCODING = "utf-8-sig"  # with a BOM, so that spreadsheet programs read the accents right


@dataclass
class AgreementStats:
    """Statistics of one comparison (B against reference A) on one set of passages: per code, the
    macro/micro/mean figures and per dimension, each with its bootstrap interval under `ci`."""

    a_name: str
    b_name: str
    n_passages: int
    interviews: list[str]
    bootstrap: dict[str, Any]
    per_code: dict[str, dict[str, Any]]
    overall: dict[str, Any]
    per_dimension: dict[str, dict[str, Any]]


@dataclass
class Calibration:
    """Reliability curve and expected calibration error of B's scores against A's codes."""

    n_bins: int
    n_decisions: int
    ece: float
    curve: list[dict]
    per_code: dict[str, dict[str, Any]]


@dataclass
class Disagreement:
    """One (passage, code) on which A and B differ, for a researcher to adjudicate."""

    passage_id: str
    doc_id: str | None
    start: int | None
    end: int | None
    code: str
    a: int
    b: int
    b_score: float | None
    threshold: float | None
    confidence: float | None  # B's probability for its own decision: score if B coded it, else 1 − score
    text: str
    question: str = ""  # the interviewer's words before the passage, when known


@dataclass
class AgreementReport:
    """Everything the audit found; `metrics.json` is `to_dict()` and the HTML report is drawn from it."""

    created: str
    a: dict[str, Any]
    b: dict[str, Any]
    codebook: dict[str, Any]
    model: dict[str, Any] | None
    coverage: dict[str, Any]
    agreement: AgreementStats
    calibration: Calibration | None
    disagreements: list[Disagreement]
    reference: AgreementStats | None = None
    reference_source: dict[str, Any] | None = None
    machine_on_reference: AgreementStats | None = None  # B vs A on the reference's passages, when fewer
    comparison: dict[str, Any] | None = None  # B against another coding C, both against A (paired)
    overlap_rule: str = ""
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(x: Any) -> Any:
    """NaN (an undefined statistic) becomes null: metrics.json stays valid JSON."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(x) else float(x)
    return x


def _ci(samples) -> list[float]:
    return list(percentile_interval(samples, CONFIDENCE))


def agreement_stats(y_a: np.ndarray, y_b: np.ndarray, codes: Sequence[str], groups: Sequence[str],
                    codebook: Codebook, *, a_name: str, b_name: str, unit: str = "interview",
                    n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> AgreementStats:
    """B against reference A: point estimates from pipeline.core.agreement.summary_scores, intervals from
    a cluster bootstrap over `groups` (the passages' interviews; pipeline.core.agreement.cluster_bootstrap):
    percentile intervals at 95 %, resamples where a statistic is undefined left out.
    `n_resamples=0` gives no intervals."""
    point = summary_scores(y_a, y_b, codes)
    boot = cluster_bootstrap(y_a, y_b, groups, n_resamples=n_resamples, seed=seed) if n_resamples else None
    per_code: dict[str, dict[str, Any]] = {}
    for j, code in enumerate(codes):
        row = {"dimension": codebook.dimension_of(code), **point["per_code"][code]}
        if boot is not None:
            row["ci"] = {s: _ci(boot.per_code[s][:, j]) for s in CODE_STATS}
            row["undefined_resamples"] = {s: int(np.isnan(boot.per_code[s][:, j]).sum()) for s in ("kappa", "alpha")}
        per_code[code] = row
    overall: dict[str, Any] = {s: point[s] for s in OVERALL_STATS}
    if boot is not None:
        overall["ci"] = {s: _ci(boot.overall[s]) for s in OVERALL_STATS}
    per_dimension: dict[str, dict[str, Any]] = {}
    for dim in codebook.dimensions:
        cols = [j for j, c in enumerate(codes) if c in {x.name for x in dim.codes}]
        if not cols:
            continue
        d: dict[str, Any] = {"label": dim.label, "codes": [codes[j] for j in cols]}
        for s in DIMENSION_STATS:
            d[f"mean_{s}"] = _nanmean([per_code[codes[j]][s] for j in cols])
        if boot is not None:
            d["ci"] = {f"mean_{s}": _ci(_nanmean_rows(boot.per_code[s][:, cols])) for s in DIMENSION_STATS}
        per_dimension[dim.name] = d
    boot_info = {"unit": unit, "n_resamples": n_resamples, "seed": seed, "confidence": CONFIDENCE,
                 "n_units": len(set(groups)), "method": "percentile"}
    return AgreementStats(a_name, b_name, int(len(y_a)), sorted(set(groups)) if unit == "interview" else [],
                          boot_info, per_code, overall, per_dimension)


def _nanmean(xs: Sequence[float]) -> float:
    vals = [x for x in xs if not math.isnan(x)]
    return float(np.mean(vals)) if vals else math.nan


def _nanmean_rows(m: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(m)
    n = ok.sum(axis=1)
    total = np.where(ok, m, 0.0).sum(axis=1)
    return np.divide(total, n, out=np.full(len(m), np.nan), where=n > 0)


def calibration(y_a: np.ndarray, scores: np.ndarray, codes: Sequence[str],
                n_bins: int = CALIBRATION_BINS) -> Calibration:
    """Reliability curve and ECE (pipeline.core.agreement) of B's scores against A's codes, pooled over all
    (passage, code) pairs and per code."""
    per_code = {c: {"ece": expected_calibration_error(y_a[:, j], scores[:, j], n_bins),
                    "curve": reliability_curve(y_a[:, j], scores[:, j], n_bins)} for j, c in enumerate(codes)}
    return Calibration(n_bins, int(scores.size), expected_calibration_error(y_a, scores, n_bins),
                       reliability_curve(y_a, scores, n_bins), per_code)


def disagreements(al: Alignment, thresholds: dict[str, float] | None = None) -> list[Disagreement]:
    """One row per (passage, code) where A and B differ, most confident first: sorted by B's
    probability for its own decision (score if B coded it, 1 − score if not), then by interview,
    position and codebook order. Without scores, in interview, position and codebook order."""
    rows: list[Disagreement] = []
    for i, j in zip(*np.nonzero(al.y_a != al.y_b)):
        p, code = al.passages[i], al.codes[j]
        b = int(al.y_b[i, j])
        score = None
        if al.scores_b is not None and not math.isnan(al.scores_b[i, j]):
            score = float(al.scores_b[i, j])
        rows.append(Disagreement(p.id, p.doc_id, p.span.start if p.span else None, p.span.end if p.span else None,
                                 code, int(al.y_a[i, j]), b, score, (thresholds or {}).get(code),
                                 None if score is None else round(score if b else 1 - score, 6), p.text,
                                 p.question))
    # `rows` is already in passage then code order; a stable sort keeps it within equal confidence
    rows.sort(key=lambda d: -(d.confidence if d.confidence is not None else -1.0))
    return rows


def _groups(refs: Sequence[PassageRef]) -> tuple[list[str], str]:
    if all(r.doc_id is not None for r in refs):
        return [r.doc_id for r in refs], "interview"
    return [r.id for r in refs], "passage"


def build_report(a: Coding, b: Coding, codebook: Codebook, *, passages: dict[str, PassageRef] | None = None,
                 allow_partial: bool = False, reference: Coding | None = None,
                 model_card: dict[str, Any] | None = None, n_resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED, compare: Coding | None = None) -> AgreementReport:
    """Compare B (e.g. the classifier, coder 2) against reference A (gold, coder 1) on the codebook's
    codes; optionally a second human coder `reference` against A on the double-coded interviews, and
    another model's predictions `compare` (C) against B, both scored against A on the same passages."""
    codes = codebook.codes
    al = align(a, b, codes, passages=passages, allow_partial=allow_partial)
    notes = list(al.notes)
    groups, unit = _groups(al.passages)
    if unit == "passage":
        notes.append("the passages carry no interview id (doc_id), so the bootstrap resamples passages: "
                     "the intervals are too narrow if passages of one interview resemble each other")
    elif len(set(groups)) < FEW_INTERVIEWS:
        notes.append(f"only {len(set(groups))} interview(s): the bootstrap intervals are rough (with few "
                     "interviews they tend to be too narrow)")
    stats = agreement_stats(al.y_a, al.y_b, codes, groups, codebook, a_name=a.name, b_name=b.name, unit=unit,
                            n_resamples=n_resamples, seed=seed)
    for code, r in stats.per_code.items():
        if r["tp"] + r["fn"] == 0 and r["tp"] + r["fp"] == 0:
            notes.append(f"{code}: neither coding uses it on these passages; kappa and alpha are undefined")

    thresholds = {c: float(t) for c, t in (model_card or {}).get("thresholds", {}).items()}
    model_info = None
    if model_card is not None:
        model_info = {k: model_card.get(k) for k in ("name", "backend", "codebook_name", "codebook_hash", "created",
                                                     "seed", "data_hash")}
        model_info["thresholds"] = thresholds
        if b.model and b.model != model_card.get("name"):
            notes.append(f"{b.name}'s rows name the model {b.model!r}, the model card {model_card.get('name')!r}")

    cal = None
    if al.scores_b is not None:
        if np.isnan(al.scores_b).any():
            notes.append(f"{b.name} has scores for only some passages or codes: no calibration")
        else:
            cal = calibration(al.y_a, al.scores_b, codes)
            if thresholds:
                th = np.array([thresholds.get(c, np.nan) for c in codes])
                off = int(np.sum((al.scores_b >= th[None, :]) != al.y_b.astype(bool)))
                if off:
                    notes.append(f"{off} of {b.name}'s decisions do not follow the model card's thresholds "
                                 "(were the predictions made with another model?)")

    report = AgreementReport(
        created=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        a=a.describe(), b=b.describe(),
        codebook={"name": codebook.name, "hash": codebook.content_hash(), "codes": codes,
                  "dimensions": {d.name: [c.name for c in d.codes] for d in codebook.dimensions}},
        model=model_info, coverage=al.coverage, agreement=stats, calibration=cal,
        disagreements=disagreements(al, thresholds), notes=notes,
        overlap_rule=(f"a passage takes a code when a span with that code covers at least {OVERLAP_SHARE:.0%} of the "
                      f"passage, or at least {OVERLAP_SHARE:.0%} of the span lies inside the passage"),
    )
    for side in (a, b):
        notes.extend(f"{side.source}: skipped {p}" for p in side.problems[:20])
        if len(side.problems) > 20:
            notes.append(f"{side.source}: … {len(side.problems) - 20} more skipped row(s)")
    if reference is not None:
        _add_reference(report, al, a, reference, codebook, n_resamples=n_resamples, seed=seed)
    if compare is not None:
        _add_comparison(report, al, compare, groups, n_resamples=n_resamples, seed=seed)
    return report


def paired_difference(y_a: np.ndarray, y_b: np.ndarray, y_c: np.ndarray, codes: Sequence[str],
                      groups: Sequence[str], *, n_resamples: int = DEFAULT_RESAMPLES,
                      seed: int = DEFAULT_SEED) -> dict[str, dict[str, Any]]:
    """How much better B agrees with A than C does, per overall statistic: the difference of the
    point estimates, its 95 % percentile interval from a paired cluster bootstrap (B and C are
    scored on the very same resamples of the interviews, so what the interviews have in common
    cancels out), and the share of resamples where B is ahead."""
    point_b, point_c = summary_scores(y_a, y_b, codes), summary_scores(y_a, y_c, codes)
    out: dict[str, dict[str, Any]] = {}
    boot_b = cluster_bootstrap(y_a, y_b, groups, n_resamples=n_resamples, seed=seed) if n_resamples else None
    boot_c = cluster_bootstrap(y_a, y_c, groups, n_resamples=n_resamples, seed=seed) if n_resamples else None
    for st in OVERALL_STATS:
        row: dict[str, Any] = {"b": point_b[st], "c": point_c[st], "difference": point_b[st] - point_c[st]}
        if boot_b is not None:
            d = boot_b.overall[st] - boot_c.overall[st]
            row["ci"] = _ci(d)
            ok = ~np.isnan(d)
            row["share_b_ahead"] = float(np.mean(d[ok] > 0)) if ok.any() else math.nan
        out[st] = row
    return out


def _add_comparison(report: AgreementReport, al: Alignment, c: Coding, groups: Sequence[str], *,
                    n_resamples: int, seed: int) -> None:
    if c.kind == "spans":
        raise OptionError("--compare takes predictions (passages with 'id' and 'codes'), not spans", path=c.source)
    missing = [p.id for p in al.passages if p.id not in c.labels]
    if missing:
        raise MismatchError(f"{len(missing)} of the {len(al.passages)} compared passages are not in {c.name} "
                            f"(first: {missing[0]})", path=c.source,
                            hint="classify the same inputs with both models, so both code the same passages")
    y_c = label_matrix(c, al.passages, al.codes)
    report.comparison = {"name": c.name, "source": c.source, "n_passages": len(al.passages),
                         "statistics": paired_difference(al.y_a, al.y_b, y_c, al.codes, groups,
                                                         n_resamples=n_resamples, seed=seed)}
    report.notes.extend(f"{c.source}: skipped {p}" for p in c.problems[:20])


def _add_reference(report: AgreementReport, al: Alignment, a: Coding, ref: Coding, codebook: Codebook, *,
                   n_resamples: int, seed: int) -> None:
    """Human reference: `ref` (a second coder) against A on the compared passages that `ref` codes."""
    if ref.kind == "spans":
        if not all(p.located for p in al.passages):
            raise MismatchError("the compared passages have no offsets, so the reference spans cannot be placed "
                                "on them",
                                path=ref.source, hint="give --passages FILE (the output of `codeur prepare`)")
        docs = ref.docs
        mask = np.array([p.doc_id in docs for p in al.passages])
    else:
        mask = np.array([p.id in ref.labels for p in al.passages])
    if not mask.any():
        raise MismatchError(f"the reference {ref.name} codes none of the {len(al.passages)} compared passages "
                            f"(interviews {docs_list(al.interviews)})", path=ref.source)
    refs = [p for p, m in zip(al.passages, mask) if m]
    y_a, y_b = al.y_a[mask], al.y_b[mask]
    y_ref = label_matrix(ref, refs, al.codes)
    groups, unit = _groups(refs)
    report.reference = agreement_stats(y_a, y_ref, al.codes, groups, codebook, a_name=a.name, b_name=ref.name,
                                       unit=unit, n_resamples=n_resamples, seed=seed)
    report.reference_source = ref.describe()
    if not mask.all():
        report.machine_on_reference = agreement_stats(y_a, y_b, al.codes, groups, codebook, a_name=a.name,
                                                      b_name=report.agreement.b_name, unit=unit,
                                                      n_resamples=n_resamples, seed=seed)
        report.notes.append(f"the human reference covers {len(refs)} of the {len(al.passages)} passages "
                            f"({len(set(groups))} interviews); {report.agreement.b_name} on those same passages "
                            "is shown beside it")
    report.notes.extend(f"{ref.source}: skipped {p}" for p in ref.problems[:20])


# --- output ------------------------------------------------------------------------------------

def _csv_columns(report: AgreementReport) -> list[str]:
    fixed = ["passage_id", "doc_id", "start", "end", "code", "b_score", "threshold", "confidence", "question", "text",
             "decision"]
    a_col, b_col = report.a["name"], report.b["name"]
    if a_col == b_col or a_col in fixed:
        a_col = f"{a_col} (A)"
    if b_col in fixed or b_col == a_col:
        b_col = f"{b_col} (B)"
    return fixed[:5] + [a_col, b_col] + fixed[5:]


def write_disagreements(path: str | Path, report: AgreementReport) -> int:
    """The disagreements as CSV to adjudicate: columns passage_id, doc_id, start, end, code, one column
    per coding (named after it, 1 = coded), b_score, threshold, confidence, text and an empty
    `decision` for the researcher. UTF-8 with a BOM, so spreadsheet programs read the accents."""
    cols = _csv_columns(report)
    with atomic_open(path, encoding=CSV_ENCODING) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for d in report.disagreements:
            w.writerow([spreadsheet_text(d.passage_id), spreadsheet_text(d.doc_id), d.start, d.end, d.code, d.a, d.b,
                        "" if d.b_score is None else d.b_score, "" if d.threshold is None else d.threshold,
                        "" if d.confidence is None else d.confidence, spreadsheet_text(d.question),
                        spreadsheet_text(d.text), ""])
    return len(report.disagreements)


def write_audit(report: AgreementReport, out_dir: str | Path, extra_sections=()) -> dict[str, Path]:
    """Write report.html, metrics.json and disagreements.csv into `out_dir`, each atomically;
    `extra_sections` are (title, HTML fragment) pairs added to the report."""
    from .html import render_report

    out_dir = Path(out_dir)
    names = {"report": "report.html", "metrics": "metrics.json", "disagreements": "disagreements.csv"}
    report.files = dict(names)
    data = report.to_dict()
    write_disagreements(out_dir / names["disagreements"], report)
    write_json(out_dir / names["metrics"], data)
    write_text(out_dir / names["report"], render_report(data, extra_sections))
    return {k: out_dir / v for k, v in names.items()}


def format_estimate(value: float | None, ci: Sequence[float | None] | None = None, digits: int = 3) -> str:
    """"0.712 [0.650, 0.771]"; "—" for an undefined value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    s = f"{value:.{digits}f}"
    if ci and ci[0] is not None and ci[1] is not None and not any(math.isnan(x) for x in ci):
        s += f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
    return s


def headline_lines(metrics: dict[str, Any], metrics_path: str | Path | None = None) -> list[str]:
    """The headline of a metrics.json: the averages with their intervals, the human reference beside
    them, and where the report is."""
    def figures(st: dict) -> str:
        o, ci = st["overall"], st["overall"].get("ci") or {}
        return " · ".join(f"{label} {format_estimate(o[k], ci.get(k))}" for k, label in
                          (("macro_f1", "macro-F1"), ("micro_f1", "micro-F1"), ("mean_kappa", "mean kappa"),
                           ("mean_alpha", "mean alpha")))

    ag = metrics["agreement"]
    boot = ag["bootstrap"]
    lines = [f"{ag['b_name']} vs {ag['a_name']}: {ag['n_passages']} passages, {boot['n_units']} {boot['unit']}s"]
    lines.append("  " + figures(ag))
    if boot["n_resamples"]:
        lines.append(f"  (95 % intervals: percentile bootstrap over {boot['unit']}s, {boot['n_resamples']} resamples, "
                     f"seed {boot['seed']})")
    ref = metrics.get("reference")
    if ref:
        lines.append(f"human reference, {ref['b_name']} vs {ref['a_name']}: {ref['n_passages']} passages, "
                     f"{ref['bootstrap']['n_units']} {ref['bootstrap']['unit']}s")
        lines.append("  " + figures(ref))
        mor = metrics.get("machine_on_reference")
        if mor:
            lines.append(f"{mor['b_name']} on the same passages:")
            lines.append("  " + figures(mor))
    cmp = metrics.get("comparison")
    if cmp:
        from .html import format_difference

        st = cmp["statistics"]
        lines.append(f"{ag['b_name']} minus {cmp['name']}, same passages (paired bootstrap): "
                     + " · ".join(f"{label} {format_difference(st[k])}" for k, label in
                                  (("macro_f1", "macro-F1"), ("micro_f1", "micro-F1"), ("mean_kappa", "mean kappa"))))
        ahead = st["macro_f1"].get("share_b_ahead")
        if ahead is not None and not math.isnan(ahead):
            lines.append(f"  {cmp['name']}: macro-F1 {st['macro_f1']['c']:.3f}; {ag['b_name']} ahead in "
                         f"{ahead:.1%} of the resamples")
    cal = metrics.get("calibration")
    if cal:
        lines.append(f"calibration: expected calibration error {format_estimate(cal['ece'])}")
    files = metrics.get("files") or {}
    if files.get("report"):
        base = Path(metrics_path).parent if metrics_path else Path(".")
        lines.append(f"report: {base / files['report']}")
        if files.get("disagreements"):
            lines.append(f"disagreements to adjudicate ({len(metrics.get('disagreements') or [])}): "
                         f"{base / files['disagreements']}")
    return lines


def read_metrics(path: str | Path) -> dict[str, Any]:
    """An audit's metrics.json (given the file or the audit's folder)."""
    path = Path(path)
    if path.is_dir():
        if not (path / "metrics.json").is_file():
            raise MetricsError("a folder without metrics.json", path=str(path),
                               hint="give the metrics.json of an audit, or the folder `codeur evaluate --out` wrote")
        path = path / "metrics.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MetricsError("metrics file not found", path=str(path), hint="run `codeur evaluate` first") from None
    except UnicodeDecodeError:
        raise MetricsError("not a text file (a metrics.json is JSON text)", path=str(path)) from None
    except OSError as e:
        raise MetricsError(f"cannot be read ({e.strerror or e})", path=str(path)) from None
    except json.JSONDecodeError as e:
        raise MetricsError(f"not valid JSON ({e.msg}, line {e.lineno})", path=str(path)) from None
    if not isinstance(data, dict) or "agreement" not in data:
        raise MetricsError("not a metrics.json written by `codeur evaluate` or `codeur audit`", path=str(path))
    return data
