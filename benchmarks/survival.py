"""Kaplan–Meier + log-rank + Cox (one covariate, tied times): equitrial vs lifelines vs R.

Run from the repository root::

    .venv/bin/python benchmarks/survival.py            # 1e5 and 1e6 subjects
    .venv/bin/python benchmarks/survival.py --sizes 100000

The data: a binary group, exponential times with mean
10 (x1.1 in group 1) rounded to 0.1 (heavy ties), uniform censoring on (0, 30). All three
implementations fit the same data in the same run; R's ``survival`` runs when ``Rscript`` is on
the PATH (it reads the data from a binary file; only the fitting calls are timed, with R's own
``system.time``). Each implementation's numbers are printed beside ours, so "faster" is only
claimed for the same answer. The last line is ``speedup_vs_lifelines=<ratio>`` for the largest size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from equitrial.stats.survival import cox_ph, kaplan_meier, logrank

R_SCRIPT = r"""
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2])
con <- file(args[1], "rb"); d <- readBin(con, "double", 3 * n); close(con)
t <- d[1:n]; e <- d[(n + 1):(2 * n)]; g <- d[(2 * n + 1):(3 * n)]
tk <- system.time(km <- survfit(Surv(t, e) ~ 1))[["elapsed"]]
tl <- system.time(lr <- survdiff(Surv(t, e) ~ g))[["elapsed"]]
tc <- system.time(cx <- coxph(Surv(t, e) ~ g))[["elapsed"]]
med <- unname(quantile(km, 0.5)$quantile)
fmt <- paste0('{"km": %.17g, "logrank": %.17g, "cox": %.17g, ',
              '"median": %.17g, "chisq": %.17g, "coef": %.17g}\n')
cat(sprintf(fmt, tk, tl, tc, med, lr$chisq, unname(coef(cx))))
"""


def make_data(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The benchmark data set of benchmarks.md, from a numpy generator."""
    rng = np.random.default_rng(seed)
    g = rng.binomial(1, 0.5, n).astype(float)
    t = np.round(rng.exponential(10 * (1 + 0.1 * g)), 1) + 0.1
    c = rng.uniform(0, 30, n)
    e = (t <= c).astype(float)
    return np.minimum(t, c), e, g


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run_ours(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> dict[str, float]:
    tk, km = timed(lambda: kaplan_meier(t, e))
    tl, lr = timed(lambda: logrank(t, e, g))
    tc, cx = timed(lambda: cox_ph(t, e, g))
    return {
        "km": tk,
        "logrank": tl,
        "cox": tc,
        "median": float(km.median),
        "chisq": float(lr.statistic),
        "coef": float(cx.coef[0]),
    }


def run_lifelines(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> dict[str, float]:
    import pandas as pd
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tk, km = timed(lambda: KaplanMeierFitter().fit(t, e))
        a = g == 1
        tl, lr = timed(lambda: logrank_test(t[~a], t[a], e[~a], e[a]))
        df = pd.DataFrame({"t": t, "e": e, "g": g})
        tc, cx = timed(lambda: CoxPHFitter().fit(df, "t", "e"))
    return {
        "km": tk,
        "logrank": tl,
        "cox": tc,
        "median": float(km.median_survival_time_),
        "chisq": float(lr.test_statistic),
        "coef": float(cx.params_["g"]),
    }


def run_r(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> dict[str, float] | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.bin"
        np.concatenate([t, e, g]).astype("<f8").tofile(data)
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        out = subprocess.run(
            [rscript, str(script), str(data), str(t.size)],
            capture_output=True,
            text=True,
            check=True,
        )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def report(name: str, res: dict[str, float], ours: dict[str, float]) -> float:
    total = res["km"] + res["logrank"] + res["cox"]
    print(
        f"  {name:<10} km {res['km']:7.3f} s  logrank {res['logrank']:7.3f} s  "
        f"cox {res['cox']:7.3f} s  total {total:7.3f} s | median {res['median']:.4g}  "
        f"chisq {res['chisq']:.10g}  coef {res['coef']:.10g}"
    )
    if res is not ours:
        for key in ("median", "chisq", "coef"):
            rel = abs(res[key] - ours[key]) / max(abs(ours[key]), 1e-300)
            verdict = "same" if rel < 1e-6 else "DIFFERS"
            print(f"      {key}: {verdict} (relative difference {rel:.1e})")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--no-lifelines", action="store_true", help="skip lifelines")
    args = parser.parse_args()
    speedup_lifelines = float("nan")
    for n in args.sizes:
        t, e, g = make_data(n)
        print(f"n = {n:,} subjects, {int(e.sum()):,} events, {np.unique(t).size:,} distinct times")
        ours = run_ours(t, e, g)
        ours_total = report("equitrial", ours, ours)
        r = run_r(t, e, g)
        if r is not None:
            r_total = report("R survival", r, ours)
            print(f"speedup_vs_R={r_total / ours_total:.2f}")
        else:
            print("  R survival: Rscript not found, skipped")
        if not args.no_lifelines:
            life_total = report("lifelines", run_lifelines(t, e, g), ours)
            speedup_lifelines = life_total / ours_total
            print(f"  (n = {n:,}) lifelines / equitrial = {speedup_lifelines:.2f}")
    print(f"speedup_vs_lifelines={speedup_lifelines:.2f}")


if __name__ == "__main__":
    main()
