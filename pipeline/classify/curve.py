"""How many interviews must a researcher code by hand? The learning curve of a training config.

The workflow it measures: code some of your own interviews, train, let codeur code the rest. For
each step k (0, 1, 2, 4, … interviews), k interviews are drawn from the train split of one coded
corpus (your own coding: an `extra_corpora` entry of the config, e.g. the real interviews), the
model is trained on them beside the config's other training data, and scored on that corpus's
test interviews. Draws are repeated (`repeats`, seeded) because which interviews you coded
matters as much as how many; the figure pools the repeats' predictions, and its 95 % interval is
a cluster bootstrap over the test interviews (`agreement.cluster_bootstrap`).

The dev interviews of that corpus, when `thresholds_on` names it, are coded too: a researcher
following this curve codes k + dev interviews.
"""
from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..core.agreement import cluster_bootstrap, percentile_interval, summary_scores
from ..core.codebook import load_codebook
from ..core.errors import ConfigError


def learning_curve(config_path: str | Path, *, corpus: str, steps: Sequence[int] = (0, 1, 2, 4, 8),
                   repeats: int = 3, seed: int = 0, n_boot: int = 1000,
                   log: Callable[[str], None] = print) -> dict[str, Any]:
    from .train import fit_model, load_corpora, load_train_config

    cfg = load_train_config(config_path)
    names = [e.name for e in cfg.extra_corpora]
    if corpus not in names:
        raise ConfigError(f"the config has no extra corpus {corpus!r} to draw interviews from",
                          path=str(config_path), hint=f"extra corpora: {', '.join(names) or 'none'}")
    if any(k < 0 for k in steps) or not steps:
        raise ConfigError("steps must be whole numbers from 0 up")
    codebook = load_codebook(cfg.codebook)
    codes = codebook.codes
    corpora = load_corpora(cfg, codebook)
    pool = sorted({p.doc_id for p in corpora[corpus].passages_of("train")})
    steps = sorted({min(int(k), len(pool)) for k in steps})
    rng = random.Random(seed)
    rows = []
    for k in steps:
        n_rep = 1 if k in (0, len(pool)) else repeats
        preds, truths, groups, draws = [], [], [], []
        t0 = time.time()
        for _ in range(n_rep):
            docs = set(rng.sample(pool, k))
            draws.append(sorted(docs))
            fitted = fit_model(cfg, codebook, corpora, log=lambda m: None, train_docs={corpus: docs})
            part = fitted["tests"][corpus]
            th = np.array([fitted["thresholds"][c] for c in codes])
            preds.append(fitted["probs"][f"{corpus}_test"] >= th)
            truths.append(part.y)
            groups += [p.doc_id for p in part.passages]
        y, p = np.vstack(truths), np.vstack(preds)
        point = summary_scores(y, p, codes)
        row = {"interviews": k, "repeats": n_rep, "draws": draws, "n_test_passages": len(part),
               "macro_f1": point["macro_f1"], "mean_kappa": point["mean_kappa"], "micro_f1": point["micro_f1"],
               "per_code_f1": {c: point["per_code"][c]["f1"] for c in codes},
               "seconds": round(time.time() - t0, 1)}
        if n_boot:
            boot = cluster_bootstrap(y, p, groups, n_resamples=n_boot, seed=seed)
            row["macro_f1_ci"] = list(percentile_interval(boot.overall["macro_f1"]))
            row["mean_kappa_ci"] = list(percentile_interval(boot.overall["mean_kappa"]))
        rows.append(row)
        ci = row.get("macro_f1_ci", [float("nan")] * 2)
        log(f"{k:>3} interview(s) × {n_rep}: {corpus} test macro-F1 {row['macro_f1']:.3f} "
            f"[{ci[0]:.3f}, {ci[1]:.3f}], mean kappa {row['mean_kappa']:.3f} ({row['seconds']} s)")
    return {"config": str(config_path), "corpus": corpus, "pool": pool, "seed": seed, "repeats": repeats,
            "n_bootstrap": n_boot, "thresholds_on": cfg.thresholds_on,
            "test_interviews": sorted({p.doc_id for p in corpora[corpus].passages_of("test")}),
            "steps": rows}


def curve_markdown(result: dict[str, Any]) -> str:
    lines = [f"# Learning curve — {result['corpus']} test interviews", "",
             f"Config `{result['config']}`; interviews drawn from the {len(result['pool'])} train interviews of "
             f"`{result['corpus']}` ({result['repeats']} draws per step, seed {result['seed']}); thresholds on "
             f"the {result['thresholds_on']} dev interviews; 95 % intervals: cluster bootstrap over the "
             f"{len(result['test_interviews'])} test interviews ({result['n_bootstrap']} resamples).", "",
             "| coded interviews | draws | macro-F1 | 95 % CI | mean κ | 95 % CI |", "|---|---|---|---|---|---|"]
    for r in result["steps"]:
        f, k = r.get("macro_f1_ci", ["", ""]), r.get("mean_kappa_ci", ["", ""])
        fmt = lambda x: f"{x:.3f}" if isinstance(x, float) and x == x else "—"  # noqa: E731
        lines.append(f"| {r['interviews']} | {r['repeats']} | {fmt(r['macro_f1'])} | [{fmt(f[0])}, {fmt(f[1])}] | "
                     f"{fmt(r['mean_kappa'])} | [{fmt(k[0])}, {fmt(k[1])}] |")
    return "\n".join(lines) + "\n"
