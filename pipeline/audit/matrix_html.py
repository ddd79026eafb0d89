"""The case matrix and the error analysis as HTML: a heatmap of the codes by attribute value
(human and machine side by side), the bias tests in plain language, a self-contained page for
`codeur matrix` (inline styles, no external resources), and the section `codeur evaluate --by` adds
to the audit report.
"""
from __future__ import annotations

import html
import math
from typing import Iterable, Mapping, Sequence

from ..core.errors import CaseTableError
from ..core.prediction import Prediction
from .bias import ALPHA, MIN_GROUP, bias_tests, interview_errors
from .matrix import build_matrix, check_attributes, coded_passages

MEASURES = {"interviews": "share", "passages": "passage_share"}


def _colour(share: float | None, top: float = 1.0) -> str:
    """White (0) to deep blue (`top`); text turns white on dark cells."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "background:#f3f3f3;color:#999"
    s = max(0.0, min(1.0, float(share) / top))
    r, g, b = (round(255 + (v - 255) * s) for v in (33, 102, 172))
    return f"background:rgb({r},{g},{b});color:{'#fff' if s > 0.55 else '#111'}"


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def heatmap_html(rows: Sequence[dict], *, title: str = "", measure: str = "interviews") -> str:
    """The matrix as a coloured table (an HTML fragment, text escaped): one line per code, one column
    pair per attribute value, the human (H) and machine (M) share of interviews with the code
    (`measure="interviews"`) or of passages coded with it (`"passages"`); counts in the cell
    tooltips. Embeddable in the audit report."""
    e = html.escape
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}")
    suffix = MEASURES[measure]
    groups: list[tuple[str, str]] = []
    for r in rows:
        key = (r["attribute"], r["value"])
        if key not in groups:
            groups.append(key)
    codes: list[tuple[str, str]] = []
    for r in rows:
        if (r["dimension"], r["code"]) not in codes:
            codes.append((r["dimension"], r["code"]))
    cell = {(r["attribute"], r["value"], r["code"]): r for r in rows}
    human = any(r.get("human_share") is not None for r in rows)
    sides = (("human", "H"), ("machine", "M")) if human else (("machine", "M"),)
    # shares of passages are small (a code is on one passage in ten): the scale tops at the largest
    values = [r.get(f"{side}_{suffix}") for r in rows for side, _ in sides]
    top = 1.0 if measure == "interviews" else max([v for v in values if v is not None] + [0.05])
    attrs: list[str] = []
    for a, _ in groups:
        if a not in attrs:
            attrs.append(a)
    out = ['<div class="codeur-matrix">']
    if title:
        out.append(f"<h3>{e(title)}</h3>")
    out.append('<table style="border-collapse:collapse;font:13px sans-serif">')
    out.append('<thead><tr><th rowspan="3" style="text-align:left;padding:4px">code</th>')
    for a in attrs:
        span = sum(1 for g in groups if g[0] == a) * len(sides)
        out.append(f'<th colspan="{span}" style="border-left:2px solid #fff;padding:4px">{e(a)}</th>')
    out.append("</tr><tr>")
    for a, v in groups:
        n = next(r["n_interviews"] for r in rows if r["attribute"] == a and r["value"] == v)
        out.append(f'<th colspan="{len(sides)}" style="padding:4px;font-weight:normal">{e(v)}<br>'
                   f'<small>n={n}</small></th>')
    out.append("</tr><tr>")
    for _ in groups:
        for _, short in sides:
            out.append(f'<th style="padding:2px;font-weight:normal;color:#666">{short}</th>')
    out.append("</tr></thead><tbody>")
    for dim, code in codes:
        label = f"{e(code)}" + (f' <small style="color:#888">{e(dim)}</small>' if dim else "")
        out.append(f'<tr><th style="text-align:left;padding:4px">{label}</th>')
        for a, v in groups:
            r = cell.get((a, v, code), {})
            for side, short in sides:
                share = r.get(f"{side}_{suffix}")
                tip = (f"{code} — {a} = {v} ({side}): {r.get(f'{side}_coded_interviews')} of "
                       f"{r.get('human_interviews') if side == 'human' else r.get('n_interviews')} interviews, "
                       f"{r.get(f'{side}_passages')} coded passages ({_pct(r.get(f'{side}_passage_share'))})")
                out.append(f'<td title="{e(tip)}" style="{_colour(share, top)};padding:4px 6px;text-align:right">'
                           f"{_pct(share)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    what = ("Share of interviews with the code" if measure == "interviews"
            else f"Share of passages coded (darkest: {_pct(top)})")
    out.append(f'<p style="font:12px sans-serif;color:#555">{what}'
               + (" by the human (H) and the machine (M)" if human else " by the machine (M)")
               + "; hover a cell for counts.</p></div>")
    return "\n".join(out)


def bias_html(rows: Sequence[dict]) -> str:
    """The error analysis as an HTML fragment: one plain-language line per code and attribute."""
    e = html.escape
    shown = [r for r in rows if r["test"] in ("joint", "attribute")]
    if not shown:
        return ""
    out = ['<div class="codeur-bias"><h3>Do the machine\'s errors depend on the case attributes?</h3>',
           '<p style="font:12px sans-serif;color:#555">Per code, the human − machine share of coded passages '
           "of each interview, regressed by OLS on the dummy-coded attributes; F-test of the attributes "
           "jointly and one at a time (the bias test of the World Bank's iQual, Ashwin et al. 2022).</p>",
           '<table style="border-collapse:collapse;font:13px sans-serif">'
           "<thead><tr><th>code</th><th>attributes</th><th>F</th><th>df</th><th>p</th><th>n</th>"
           "<th style='text-align:left'>reading</th></tr></thead><tbody>"]
    for r in shown:
        p = r.get("p_value")
        strong = p is not None and not math.isnan(p) and p < ALPHA
        style = "background:#fde2e1" if strong else ""
        F = r.get("statistic")
        df = f"{r.get('df_num')}, {r.get('df_den')}" if r.get("df_num") is not None else ""
        note = f"<br><small style='color:#a60'>{e(r['note'])}</small>" if r.get("note") else ""
        out.append(
            f"<tr style='{style}'><td>{e(r['code'])}</td><td>{e(r['term'])}"
            f"{' (joint)' if r['test'] == 'joint' else ''}</td>"
            f"<td>{'' if F is None or math.isnan(F) else f'{F:.2f}'}</td><td>{e(df)}</td>"
            f"<td>{'' if p is None or math.isnan(p) else f'{p:.3f}'}</td><td>{r.get('n_interviews')}</td>"
            f"<td style='text-align:left'>{e(r.get('reading', ''))}{note}</td></tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def matrix_page(matrix_rows: Sequence[dict], bias_rows: Sequence[dict] = (), *, title: str = "Case matrix",
                notes: Iterable[str] = (), measure: str = "interviews") -> str:
    """A self-contained HTML page (no external resources)."""
    e = html.escape
    body = [f"<h1 style='font:bold 18px sans-serif'>{e(title)}</h1>"]
    for n in notes:
        body.append(f"<p style='font:12px sans-serif;color:#555'>{e(n)}</p>")
    body.append(heatmap_html(matrix_rows, measure=measure))
    body.append(bias_html(bias_rows))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title></head><body style='margin:24px'>\n" + "\n".join(body) + "\n</body></html>\n")


def report_section(predictions: Sequence[Prediction], gold_spans, cases: Mapping[str, Mapping[str, str]],
                   attributes: Sequence[str], codebook, *, measure: str = "passages",
                   min_group: int = MIN_GROUP, where: str = "cases") -> tuple[str, list[dict], list[dict]]:
    """The case matrix and the error analysis for the audit report: (HTML fragment, matrix rows,
    bias rows). Interviews without case attributes are left out of the matrix."""
    check_attributes(cases, attributes, where=where)
    codes = codebook.codes
    predictions = [p for p in predictions if p.doc_id in cases]
    if not predictions:
        raise CaseTableError("no classified interview has case attributes", path=where,
                             hint="check that the doc_id values of the predictions are in cases.csv")
    coded = coded_passages(predictions, gold_spans)
    matrix_rows = build_matrix(coded, cases, attributes, codes, {c: codebook.dimension_of(c) for c in codes})
    bias_rows = bias_tests(interview_errors(coded, codes), cases, attributes, min_group=min_group) \
        if gold_spans is not None and coded.human_docs else []
    fragment = heatmap_html(matrix_rows, measure=measure) + bias_html(bias_rows)
    return fragment, matrix_rows, bias_rows
