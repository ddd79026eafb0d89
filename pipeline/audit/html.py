"""The audit as one self-contained HTML page, drawn from metrics.json (pipeline.audit.report).

No network: the styles are inline and the charts are SVG written here. Every string that comes from
the data (passage text, names, paths) is HTML-escaped, since passages are whatever users typed.
"""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any, Sequence

from ..core.atomic import write_text

TOP_DISAGREEMENTS = 30
MACHINE_COLOUR = "#2f5d8a"
HUMAN_COLOUR = "#c07a2c"

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
padding:0 1rem;color:#1d2329;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ccd;
padding-bottom:.2rem}h3{font-size:1rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}
th,td{border:1px solid #d5d9de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f2f5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #d5d9de;border-radius:6px;padding:.6rem .9rem;
min-width:12rem}.card .v{font-size:1.5rem;font-weight:600}.card .ci{color:#555;font-size:.85rem}
.card .ref{color:#8a5a1f;font-size:.85rem;margin-top:.2rem}
.notes li{color:#6b4a00}.muted{color:#666;font-size:.85rem}
dl dt{font-weight:600;margin-top:.6rem}dl dd{margin-left:1.2rem}
.legend span{display:inline-block;width:.9rem;height:.9rem;margin:0 .3rem 0 1rem;vertical-align:middle}
svg text{font-family:inherit}
"""


def esc(x: Any) -> str:
    """HTML-escape anything shown on the page (quotes too, so it is safe inside attributes)."""
    return html.escape("" if x is None else str(x), quote=True)


def _undefined(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def num(v: Any, digits: int = 3) -> str:
    return "—" if _undefined(v) else f"{v:.{digits}f}"


def estimate(v: Any, ci: Sequence[Any] | None, digits: int = 3) -> str:
    """Value with its interval, e.g. 0.712 <small>[0.650, 0.771]</small>."""
    s = num(v, digits)
    if s != "—" and ci and not any(_undefined(x) for x in ci):
        s += f' <span class="muted">[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]</span>'
    return s


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], num_cols: Sequence[int] = ()) -> str:
    """Rows are already-escaped HTML cells."""
    out = ["<table><thead><tr>", *(f"<th>{h}</th>" for h in head), "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(f'<td class="num">{c}</td>' if i in num_cols else f"<td>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


# --- charts --------------------------------------------------------------------------------------

def bar_chart(codes: Sequence[str], series: Sequence[tuple[str, str, dict]], stat: str, title: str) -> str:
    """Horizontal bars of `stat` per code, one bar per series (label, colour, per_code dict), with the
    95 % interval as a whisker. The axis runs from min(0, lowest value or bound) to 1."""
    lows = [0.0]
    for _, _, per in series:
        for c in codes:
            r = per.get(c, {})
            vals = [r.get(stat)] + list((r.get("ci") or {}).get(stat) or [])
            lows += [v for v in vals if not _undefined(v)]
    lo = max(-1.0, math.floor(min(lows) * 10) / 10)
    label_w, plot_w, bar_h, gap = 130, 520, 11, 10
    group_h = bar_h * len(series) + gap
    height = 30 + group_h * len(codes) + 20
    x = lambda v: label_w + (v - lo) / (1 - lo) * plot_w  # noqa: E731
    parts = [f'<svg role="img" aria-label="{esc(title)}" width="{label_w + plot_w + 60}" height="{height}" '
             f'viewBox="0 0 {label_w + plot_w + 60} {height}">']
    # ticks every 0.1, or every 0.2 when negative values widen the axis; 0 and 1 always among them
    ticks = [k / 5 for k in range(math.ceil(lo * 5), 6)] if lo < -0.4 else [k / 10 for k in range(round(lo * 10), 11)]
    for t in ticks:
        parts.append(f'<line x1="{x(t):.1f}" y1="20" x2="{x(t):.1f}" y2="{height - 20}" stroke="#e3e6ea"/>'
                     f'<text x="{x(t):.1f}" y="14" font-size="10" text-anchor="middle">{t:.1f}</text>')
    parts.append(f'<line x1="{x(0):.1f}" y1="20" x2="{x(0):.1f}" y2="{height - 20}" stroke="#888"/>')
    for i, code in enumerate(codes):
        y0 = 28 + i * group_h
        parts.append(f'<text x="{label_w - 6}" y="{y0 + bar_h * len(series) / 2 + 4:.1f}" font-size="12" '
                     f'text-anchor="end">{esc(code)}</text>')
        for s, (name, colour, per) in enumerate(series):
            r = per.get(code)
            y = y0 + s * bar_h
            if r is None or _undefined(r.get(stat)):
                parts.append(f'<text x="{x(0) + 4:.1f}" y="{y + bar_h - 2}" font-size="10" fill="#888">'
                             f'{esc(name)}: undefined</text>')
                continue
            v = r[stat]
            x0, x1 = sorted((x(0), x(v)))
            parts.append(f'<rect x="{x0:.1f}" y="{y + 1}" width="{max(x1 - x0, 0.5):.1f}" height="{bar_h - 2}" '
                         f'fill="{colour}"><title>{esc(name)} {esc(code)} {stat} {v:.3f}</title></rect>')
            ci = (r.get("ci") or {}).get(stat)
            if ci and not any(_undefined(c) for c in ci):
                cy = y + bar_h / 2
                lo_x, hi_x = x(ci[0]), x(ci[1])
                parts.append(f'<path d="M{lo_x:.1f} {cy:.1f}H{hi_x:.1f}M{lo_x:.1f} {cy - 4:.1f}V{cy + 4:.1f}'
                             f'M{hi_x:.1f} {cy - 4:.1f}V{cy + 4:.1f}" stroke="#111" stroke-width="1.2" fill="none"/>')
    parts.append("</svg>")
    return "".join(parts)


def calibration_chart(curve: Sequence[dict], title: str = "reliability curve") -> str:
    """Reliability diagram: mean predicted probability (x) against observed frequency (y) per bin,
    dots sized by the number of decisions, the diagonal being perfect calibration."""
    size, pad = 320, 40
    s = lambda v: pad + v * (size - 2 * pad)  # noqa: E731
    y = lambda v: size - s(v) + 0  # noqa: E731
    parts = [f'<svg role="img" aria-label="{esc(title)}" width="{size}" height="{size}" viewBox="0 0 {size} {size}">',
             f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" fill="none" '
             'stroke="#999"/>',
             f'<line x1="{s(0)}" y1="{y(0)}" x2="{s(1)}" y2="{y(1)}" stroke="#999" stroke-dasharray="4 3"/>']
    for t in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<text x="{s(t):.1f}" y="{size - pad + 14}" font-size="10" text-anchor="middle">{t}</text>'
                     f'<text x="{pad - 6}" y="{y(t) + 3:.1f}" font-size="10" text-anchor="end">{t}</text>')
    parts.append(f'<text x="{size / 2}" y="{size - 6}" font-size="11" text-anchor="middle">'
                 'mean predicted probability</text>'
                 f'<text x="12" y="{size / 2}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 12 {size / 2})">observed frequency</text>')
    pts = [b for b in curve if b.get("count") and not _undefined(b.get("mean_predicted"))]
    total = sum(b["count"] for b in pts) or 1
    if pts:
        path = " ".join(f"{s(b['mean_predicted']):.1f},{y(b['observed_frequency']):.1f}" for b in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{MACHINE_COLOUR}" stroke-width="1.5"/>')
    for b in pts:
        r = 2.5 + 9 * math.sqrt(b["count"] / total)
        parts.append(f'<circle cx="{s(b["mean_predicted"]):.1f}" cy="{y(b["observed_frequency"]):.1f}" r="{r:.1f}" '
                     f'fill="{MACHINE_COLOUR}" fill-opacity="0.6"><title>{b["lower"]:.1f}–{b["upper"]:.1f}: '
                     f'{b["count"]} decisions, predicted {b["mean_predicted"]:.3f}, observed '
                     f'{b["observed_frequency"]:.3f}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


# --- sections ------------------------------------------------------------------------------------

def _header(m: dict) -> str:
    ag, a, b = m["agreement"], m["a"], m["b"]
    rows = [["A (reference)", esc(a["name"]), f'{esc(a["source"])} <span class="muted">({esc(a["kind"])})</span>'],
            ["B (compared)", esc(b["name"]), f'{esc(b["source"])} <span class="muted">({esc(b["kind"])})</span>']]
    if m.get("reference_source"):
        r = m["reference_source"]
        rows.append(["human reference", esc(r["name"]),
                     f'{esc(r["source"])} <span class="muted">({esc(r["kind"])})</span>'])
    if m.get("model"):
        mo = m["model"]
        rows.append(["model", esc(mo.get("name")), f'backend {esc(mo.get("backend"))}, codebook hash '
                     f'<code>{esc(mo.get("codebook_hash"))}</code>, trained {esc(mo.get("created"))}'])
    cb = m["codebook"]
    rows.append(["codebook", esc(cb["name"]), f'<code>{esc(cb["hash"])}</code>, {len(cb["codes"])} codes'])
    rows.append(["passages", str(ag["n_passages"]), f'{ag["bootstrap"]["n_units"]} {esc(ag["bootstrap"]["unit"])}s: '
                 f'{esc(", ".join(ag["interviews"]))}'])
    rows.append(["date", esc(m.get("created")), ""])
    title = f'{esc(b["name"])} against {esc(a["name"])}'
    return f"<h1>Agreement audit: {title}</h1>" + _table(["", "name", "details"], rows)


def _cards(m: dict) -> str:
    ag = m["agreement"]
    ref = m.get("reference")
    mor = m.get("machine_on_reference")
    out = ['<div class="cards">']
    for key, label in (("macro_f1", "macro-F1"), ("micro_f1", "micro-F1"), ("mean_kappa", "mean Cohen's κ"),
                       ("mean_alpha", "mean Krippendorff's α")):
        ci = (ag["overall"].get("ci") or {}).get(key)
        ci_s = f"95 % CI [{ci[0]:.3f}, {ci[1]:.3f}]" if ci and not any(_undefined(c) for c in ci) else ""
        extra = ""
        if ref:
            extra = (f'<div class="ref">human reference ({esc(ref["b_name"])}): '
                     f'{estimate(ref["overall"][key], (ref["overall"].get("ci") or {}).get(key))}</div>')
            if mor:
                extra += (f'<div class="ref">{esc(mor["b_name"])} on the same passages: '
                          f'{estimate(mor["overall"][key], (mor["overall"].get("ci") or {}).get(key))}</div>')
        out.append(f'<div class="card"><div>{label}</div><div class="v">{num(ag["overall"][key])}</div>'
                   f'<div class="ci">{ci_s}</div>{extra}</div>')
    out.append("</div>")
    cal = m.get("calibration")
    if cal:
        out.append(f'<p>Expected calibration error of {esc(m["b"]["name"])}\'s scores: <b>{num(cal["ece"])}</b>.</p>')
    return "".join(out)


def _per_code_table(m: dict) -> str:
    ag, ref = m["agreement"], m.get("reference")
    head = ["code", "dimension", f"prevalence ({esc(ag['a_name'])})", f"prevalence ({esc(ag['b_name'])})",
            "precision", "recall", "F1", "Cohen's κ", "Krippendorff's α", "agreement"]
    if ref:
        head += [f"human κ ({esc(ref['b_name'])})", f"human F1 ({esc(ref['b_name'])})"]
    rows = []
    for code in m["codebook"]["codes"]:
        r = ag["per_code"][code]
        ci = r.get("ci") or {}
        row = [esc(code), esc(r["dimension"]), num(r["prevalence"]), num(r["predicted_prevalence"])]
        row += [estimate(r[s], ci.get(s)) for s in ("precision", "recall", "f1", "kappa", "alpha")]
        row.append(num(r["agreement"]))
        if ref:
            h = ref["per_code"][code]
            hci = h.get("ci") or {}
            row += [estimate(h["kappa"], hci.get("kappa")), estimate(h["f1"], hci.get("f1"))]
        rows.append(row)
    def overall(st: dict, key: str) -> str:
        return estimate(st["overall"][key], (st["overall"].get("ci") or {}).get(key))

    macro = ["<b>macro / mean</b>", "", "", ""] + [overall(ag, k) for k in ("macro_precision", "macro_recall",
                                                                          "macro_f1", "mean_kappa", "mean_alpha")]
    micro = ["<b>micro</b>", "", "", "", "", "", overall(ag, "micro_f1"), "", "", ""]
    rows.append(macro + [""] + ([overall(ref, "mean_kappa"), overall(ref, "macro_f1")] if ref else []))
    rows.append(micro + (["", overall(ref, "micro_f1")] if ref else []))
    return _table(head, rows, num_cols=range(2, len(head)))


def _bars(m: dict) -> str:
    codes = m["codebook"]["codes"]
    ag, ref, mor = m["agreement"], m.get("reference"), m.get("machine_on_reference")
    series = [(ag["b_name"], MACHINE_COLOUR, ag["per_code"])]
    if ref:
        series.append((f'{ref["b_name"]} (human reference)', HUMAN_COLOUR, ref["per_code"]))
    legend = "".join(f'<span style="background:{c}"></span>{esc(n)}' for n, c, _ in series)
    note = ""
    if mor:
        note = (f'<p class="muted">The human reference covers fewer passages than {esc(ag["b_name"])}; '
                'the headline figures above also give the machine on those same passages.</p>')
    out = [f'<p class="legend">against {esc(ag["a_name"])}: {legend}. Whiskers: 95 % bootstrap interval.</p>', note]
    for stat, title in (("kappa", "Cohen's κ per code"), ("f1", "F1 per code")):
        out.append(f"<h3>{title}</h3>" + bar_chart(codes, series, stat, title))
    return "".join(out)


def _confusion(m: dict) -> str:
    ag = m["agreement"]
    a, b = esc(ag["a_name"]), esc(ag["b_name"])
    head = ["code", "both (tp)", f"{b} only (fp)", f"{a} only (fn)", "neither (tn)"]
    rows = [[esc(c), *(str(ag["per_code"][c][k]) for k in ("tp", "fp", "fn", "tn"))] for c in m["codebook"]["codes"]]
    return _table(head, rows, num_cols=(1, 2, 3, 4))


def _dimensions(m: dict) -> str:
    ag, ref = m["agreement"], m.get("reference")
    head = ["dimension", "codes", "mean F1", "mean κ", "mean α"] + (["human mean F1", "human mean κ"] if ref else [])
    rows = []
    for name, d in ag["per_dimension"].items():
        ci = d.get("ci") or {}
        row = [f'{esc(name)}<br><span class="muted">{esc(d.get("label"))}</span>', esc(", ".join(d["codes"])),
               estimate(d["mean_f1"], ci.get("mean_f1")), estimate(d["mean_kappa"], ci.get("mean_kappa")),
               estimate(d["mean_alpha"], ci.get("mean_alpha"))]
        if ref:
            h = ref["per_dimension"][name]
            hci = h.get("ci") or {}
            row += [estimate(h["mean_f1"], hci.get("mean_f1")), estimate(h["mean_kappa"], hci.get("mean_kappa"))]
        rows.append(row)
    return _table(head, rows, num_cols=range(2, len(head)))


def _calibration(m: dict) -> str:
    cal = m.get("calibration")
    if not cal:
        return f'<p>{esc(m["b"]["name"])} has no scores: no calibration.</p>'
    bins = [[f'{b["lower"]:.1f}–{b["upper"]:.1f}', str(b["count"]), num(b["mean_predicted"]),
             num(b["observed_frequency"])] for b in cal["curve"]]
    per = [[esc(c), num(r["ece"])] for c, r in cal["per_code"].items()]
    return (f'<p>Pooled over the {cal["n_decisions"]} (passage, code) decisions: expected calibration error '
            f'<b>{num(cal["ece"])}</b>. Points on the diagonal are well calibrated; below it the scores are too '
            'high (over-confident), above it too low.</p>'
            '<div style="display:flex;gap:2rem;flex-wrap:wrap;align-items:flex-start">'
            + calibration_chart(cal["curve"])
            + _table(["score bin", "decisions", "mean predicted", "observed frequency"], bins, num_cols=(1, 2, 3))
            + _table(["code", "ECE"], per, num_cols=(1,)) + "</div>")


def _disagreements(m: dict, n: int = TOP_DISAGREEMENTS) -> str:
    dis = m.get("disagreements") or []
    a, b = esc(m["a"]["name"]), esc(m["b"]["name"])
    rows = []
    for d in dis[:n]:
        where = esc(d["doc_id"]) + (f' {d["start"]}–{d["end"]}' if d.get("start") is not None else "")
        rows.append([esc(d["code"]), f'{a}: {"yes" if d["a"] else "no"}<br>{b}: {"yes" if d["b"] else "no"}',
                     num(d.get("b_score")), num(d.get("threshold"), 2), where,
                     (f'<span class="muted">Q: {esc(d["question"])}</span><br>' if d.get("question") else "")
                     + esc(d["text"]), esc(d["passage_id"])])
    files = m.get("files") or {}
    csv_name = esc(files.get("disagreements", "disagreements.csv"))
    intro = (f'<p>{len(dis)} (passage, code) disagreements in all; the {min(n, len(dis))} on which '
             f'{b} was most confident are shown (confidence = {b}\'s probability for its own decision). '
             f'All of them are in <code>{csv_name}</code>, with an empty <code>decision</code> column to fill in.</p>')
    if not dis:
        return "<p>No disagreement.</p>"
    return intro + _table(["code", "coding", f"{b} score", "threshold", "where", "passage text", "passage id"],
                          rows, num_cols=(2, 3))


def _how_to_read(m: dict) -> str:
    boot = m["agreement"]["bootstrap"]
    n_bins = (m.get("calibration") or {}).get("n_bins", 10)
    unit = esc(boot["unit"])
    if boot["n_resamples"]:
        intervals = (f'Percentile bootstrap over {unit}s: {boot["n_resamples"]} times, as many {unit}s as there are '
                     f'({boot["n_units"]}) are drawn with replacement, each with all its passages, and every statistic '
                     'is recomputed; the interval runs from the 2.5th to the 97.5th percentile of the recomputed '
                     'values '
                     f'(resamples where a statistic is undefined are left out; seed {boot["seed"]}, so the figures are '
                     'reproducible). Resampling interviews rather than passages accounts for passages of one interview '
                     'resembling each other. With few interviews the intervals are rough, and tend to be too narrow.')
    else:
        intervals = "None were computed (bootstrap turned off)."
    return f"""
<dl>
<dt>Unit and codes</dt><dd>Every statistic is computed per code on passages: for each passage and code, each
coding says yes or no. A is the reference (precision and recall are B's, measured against A); prevalence is
the share of passages with the code.</dd>
<dt>Overlap rule</dt><dd>Gold spans become passage codes by one rule: {esc(m.get("overlap_rule"))}.</dd>
<dt>Precision, recall, F1</dt><dd>P = tp/(tp+fp), R = tp/(tp+fn), F1 = 2·tp/(2·tp+fp+fn), where tp counts passages
both code, fp those only B codes, fn those only A codes. A ratio with an empty denominator is 0, except F1 = 1
when neither coding uses the code. Macro = unweighted mean over codes; micro-F1 pools tp, fp, fn of all codes.</dd>
<dt>Cohen's κ (Cohen 1960)</dt><dd>κ = (p<sub>o</sub> − p<sub>e</sub>)/(1 − p<sub>e</sub>): p<sub>o</sub> the
share of passages on which the codings agree,
p<sub>e</sub> = p<sub>A</sub>·p<sub>B</sub> + (1−p<sub>A</sub>)(1−p<sub>B</sub>) the agreement expected by
chance from each coding's own prevalence. 1 = perfect, 0 = chance level. Undefined (—) when both codings are
constant.</dd>
<dt>Krippendorff's α, nominal (Krippendorff 2011)</dt><dd>α = 1 − D<sub>o</sub>/D<sub>e</sub>: observed over
expected disagreement, with the expectation taken from the values of both codings pooled (so it does not
reward two codings for differing prevalence, as κ can). Same reading as κ.
Mean κ and α leave out codes where they are undefined.</dd>
<dt>95 % intervals</dt><dd>{intervals}</dd>
<dt>Calibration</dt><dd>When B gives probabilities: the (passage, code) decisions are put in {n_bins}
equal-width bins of the score; for each bin, the mean score against the share of decisions A codes yes.
Expected calibration error = Σ (bin size / N)·|observed − predicted|.</dd>
<dt>Other tools</dt><dd>These figures are per passage. NVivo computes κ per code and file over characters,
MAXQDA reports Brennan &amp; Prediger's κ (chance agreement fixed at 1/2) on segments, ATLAS.ti the α family over
quotations: their numbers are not directly comparable with these.</dd>
<dt>Disagreements</dt><dd>Listed most confident first: a disagreement the classifier is sure of is worth a
second look, as it may be a slip in the reference coding as well as a classifier error.</dd>
</dl>"""


def format_difference(r: dict) -> str:
    """"+0.034 [+0.013, +0.056]": a paired difference (`AgreementReport.comparison`) and its interval."""
    ci = r.get("ci")
    return f"{r['difference']:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci and None not in ci else "")


def _comparison(m: dict) -> str:
    cmp = m.get("comparison")
    if not cmp:
        return ""
    b = m["agreement"]["b_name"]
    rows = []
    for key, label in (("macro_f1", "macro-F1"), ("micro_f1", "micro-F1"), ("mean_kappa", "mean kappa"),
                       ("mean_alpha", "mean alpha")):
        r = cmp["statistics"][key]
        ahead = r.get("share_b_ahead")
        rows.append([label, num(r["b"]), num(r["c"]), esc(format_difference(r)), "—" if _undefined(ahead) else f"{ahead:.1%}"])
    return (f'<h2>{esc(b)} against {esc(cmp["name"])}</h2>'
            f'<p>Both scored against {esc(m["agreement"]["a_name"])} on the same {cmp["n_passages"]} passages. The '
            "interval of the difference comes from a paired bootstrap: both are recomputed on the very same "
            "resamples of the interviews.</p>"
            + _table(["statistic", esc(b), esc(cmp["name"]), "difference [95 % interval]", f"resamples where {esc(b)} is ahead"],
                     rows, num_cols=(1, 2, 3, 4)))


def render_report(metrics: dict[str, Any], extra: Sequence[tuple[str, str]] = ()) -> str:
    """The whole report page from a metrics dict (`AgreementReport.to_dict()` or metrics.json);
    `extra` adds (title, HTML fragment) sections before "How to read this", e.g. the case matrix."""
    notes = metrics.get("notes") or []
    notes_html = ("<h2>Notes</h2><ul class=\"notes\">" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"
                  if notes else "")
    sections = [
        _header(metrics),
        "<h2>Headline</h2>", _cards(metrics), notes_html, _comparison(metrics),
        "<h2>Per code</h2>", _per_code_table(metrics),
        "<h2>Agreement per code</h2>", _bars(metrics),
        "<h2>Confusion counts</h2>", _confusion(metrics),
        "<h2>Per dimension</h2>", _dimensions(metrics),
        "<h2>Calibration</h2>", _calibration(metrics),
        "<h2>Disagreements</h2>", _disagreements(metrics),
        *[part for title, fragment in extra for part in (f"<h2>{esc(title)}</h2>", fragment)],
        "<h2>How to read this</h2>", _how_to_read(metrics),
    ]
    title = f'Audit: {metrics["b"]["name"]} against {metrics["a"]["name"]}'
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(sections) + "\n</body></html>\n")


def write_report(path: str | Path, metrics: dict[str, Any]) -> Path:
    """Write the report page atomically."""
    write_text(path, render_report(metrics))
    return Path(path)
