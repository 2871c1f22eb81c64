"""Benchmark: our simulator against rpact 3.3.4 on the designs of the peer-benchmark page.

Runs, in one process run and on one core each:

- rpact ``getSimulationSurvival`` (300 subjects, accrual over 12 months, event probability
  ``pi`` by month 12, looks at 100 and 200 events, O'Brien-Fleming-type alpha spending, 10,000
  iterations) under the null (pi1 = pi2 = 0.4) and an alternative (pi1 = 0.4, pi2 = 0.3), and
  :func:`equitrial.design.simulate.simulate_survival_gs` on the same designs (``workers=1``, no
  Dask);
- rpact ``getSimulationRates`` (one look, 150 per arm, ORR 0.35 in both arms, non-inferiority
  margin -0.17 for the difference, one-sided alpha 0.05, 100,000 iterations) and our decision
  rule on binomial counts (Miettinen-Nurminen score at the margin, the 90% two-sided interval's
  lower limit above -0.17; rpact uses the Farrington-Manning score, without the N/(N-1) factor,
  so a tiny difference in rejection rate is expected).

Prints replicates per second for both, both rejection rates with their Monte-Carlo standard
errors, the difference in standard errors, then ``same_result_vs_rpact=<True|False>`` (every
rejection rate within 4 standard errors of rpact's) and as the last line
``speedup_vs_rpact=<ratio>``: the log-rank kernel's replicates per second over
``getSimulationSurvival``'s, per core, for the survival design under the null. Both sides
are warmed up by an untimed call; ours is the median of three timed runs (the same seed gives
the same numbers each time). Run from the
repository root:

    .venv/bin/python benchmarks/simulate_vs_rpact.py
"""

from __future__ import annotations

import json
import math
import subprocess
import time

import numpy as np

from equitrial.design._sim_analysis import conclude
from equitrial.design._sim_spec import Analysis
from equitrial.design.simulate import simulate_survival_gs

R_CODE = r"""
suppressPackageStartupMessages({library(rpact); library(jsonlite)})
d <- getDesignGroupSequential(kMax = 2, alpha = 0.025, sided = 1, typeOfDesign = "asOF",
                              informationRates = c(0.5, 1))
surv <- function(pi2) {
  # warm-up call, untimed, as ours is warmed up too
  invisible(getSimulationSurvival(design = d, pi1 = 0.4, pi2 = pi2, eventTime = 12,
                                  maxNumberOfSubjects = 300, plannedEvents = c(100, 200),
                                  accrualTime = 12, maxNumberOfIterations = 1000, seed = 2))
  t0 <- Sys.time()
  s <- getSimulationSurvival(design = d, pi1 = 0.4, pi2 = pi2, eventTime = 12,
                             maxNumberOfSubjects = 300, plannedEvents = c(100, 200),
                             accrualTime = 12, maxNumberOfIterations = 10000, seed = 1)
  secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  list(seconds = secs, iterations = 10000, overall_reject = s$overallReject,
       reject_per_stage = as.numeric(s$rejectPerStage))
}
out <- list(critical_values = d$criticalValues, null = surv(0.4), alternative = surv(0.3))
t0 <- Sys.time()
r <- getSimulationRates(design = getDesignGroupSequential(kMax = 1, alpha = 0.05), groups = 2,
                        pi1 = 0.35, pi2 = 0.35, plannedSubjects = 300,
                        maxNumberOfIterations = 100000, seed = 1, thetaH0 = -0.17)
out$rates <- list(seconds = as.numeric(difftime(Sys.time(), t0, units = "secs")),
                  iterations = 100000, overall_reject = r$overallReject)
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""

REPLICATES = 10_000


def _run_r() -> dict[str, object]:
    done = subprocess.run(
        ["Rscript", "-e", R_CODE], capture_output=True, text=True, check=True, timeout=600
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _boundaries(r_values: list[float]) -> tuple[list[float], str]:
    try:
        from equitrial.design.sequential import boundaries
    except ImportError:
        return r_values, "rpact's printed critical values (equitrial.design.sequential missing)"
    values = [float(c) for c in boundaries([0.5, 1.0], spending="obrien-fleming").critical_values]
    return values, "equitrial.design.sequential.boundaries([0.5, 1], spending='obrien-fleming')"


def _se(p: float, n: int) -> float:
    return math.sqrt(p * (1.0 - p) / n)


def _compare(
    label: str, ours: tuple[float, int, float], theirs: tuple[float, int, float]
) -> tuple[float, bool]:
    """Print one comparison; return our replicates per second over rpact's, and whether the
    two rejection rates agree within 4 Monte-Carlo standard errors of their difference."""
    p, n, secs = ours
    q, m, rsecs = theirs
    se_p, se_q = _se(p, n), _se(q, m)
    z = (p - q) / math.sqrt(se_p**2 + se_q**2) if se_p + se_q > 0 else 0.0
    print(f"[{label}]")
    print(f"  rpact:     {m / rsecs:12,.0f} replicates/s   reject {q:.5f} (MC SE {se_q:.5f})")
    print(f"  equitrial: {n / secs:12,.0f} replicates/s   reject {p:.5f} (MC SE {se_p:.5f})")
    print(f"  difference {p - q:+.5f} = {z:+.2f} SE; speed ratio {(n / secs) / (m / rsecs):.1f}x")
    return (n / secs) / (m / rsecs), abs(z) < 4.0


def _rates(replicates: int) -> tuple[float, int, float]:
    """Non-inferiority of the difference at -0.17, 150 per arm, ORR 0.35 in both arms."""
    analysis = Analysis(
        hypothesis="non-inferiority",
        scale="difference",
        lower_margin=-0.17,
        upper_margin=None,
        level=0.90,
        interims=(),
    )
    start = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence(1))
    x1 = rng.binomial(150, 0.35, replicates)
    x2 = rng.binomial(150, 0.35, replicates)
    n = np.full(replicates, 150)
    reject = float(conclude(x1, n, x2, n, analysis).mean())
    return reject, replicates, time.perf_counter() - start


def main() -> None:
    r = _run_r()
    critical, source = _boundaries(list(r["critical_values"]))  # type: ignore[call-overload]
    print(f"boundaries from {source}: {', '.join(f'{c:.6f}' for c in critical)}")
    print(f"rpact's: {', '.join(f'{c:.6f}' for c in r['critical_values'])}")  # type: ignore[attr-defined]
    speedup = math.nan
    agree = []
    for label, pi2 in (("null", 0.4), ("alternative", 0.3)):
        # warm-up with a full chunk (first-touch page faults), then the median of three timed
        # runs (same seed, same numbers)
        simulate_survival_gs(pi1=0.4, pi2=pi2, critical_values=critical, replicates=5000, seed=2)
        runs = [
            simulate_survival_gs(
                pi1=0.4, pi2=pi2, critical_values=critical, replicates=REPLICATES, seed=1
            )
            for _ in range(3)
        ]
        res = sorted(runs, key=lambda run: run.seconds)[1]
        ref = r[label]
        ratio, same = _compare(
            f"getSimulationSurvival, pi1 = 0.4, pi2 = {pi2} ({label})",
            (res.overall_reject, res.replicates, res.seconds),
            (ref["overall_reject"], ref["iterations"], ref["seconds"]),  # type: ignore[index]
        )
        agree.append(same)
        if label == "null":
            speedup = ratio
    rates = r["rates"]
    _, same = _compare(
        "getSimulationRates, NI difference -0.17, pi1 = pi2 = 0.35, 150 per arm",
        _rates(100_000),
        (rates["overall_reject"], rates["iterations"], rates["seconds"]),  # type: ignore[index]
    )
    agree.append(same)
    print(f"same_result_vs_rpact={all(agree)}")
    print(f"speedup_vs_rpact={speedup:.2f}")


if __name__ == "__main__":
    main()
