"""Decision rules on simulated counts, and the per-chunk kernel of the trial simulator.

The Miettinen-Nurminen decision does not compute the interval: the score statistic ``T`` of
:mod:`equitrial.stats._proportions_mn` decreases in the hypothesised ratio (difference), so the
interval lies strictly inside ``(L, U)`` iff ``T(L) > z`` and ``T(U) < -z`` — two evaluations of
the score instead of two root searches. The other methods are the closed-form limits of
:func:`equitrial.stats.proportions.difference_ci` and :func:`~equitrial.stats.proportions.ratio_ci`
written elementwise (those functions take one table at a time); the tests check every method
against them table by table.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from equitrial.design._sim_logrank import logrank_rows, logrank_z
from equitrial.design._sim_outcomes import (
    confirmation_offset_weeks,
    dropout_times,
    event_times,
    last_primary_scan_weeks,
    response_outcomes,
)
from equitrial.design._sim_randomize import patients
from equitrial.design._sim_spec import WEEKS_PER_MONTH, Analysis, TrialSpec
from equitrial.stats._interval import two_sided_z
from equitrial.stats._proportions_mn import diff_score, ratio_score
from equitrial.stats._proportions_single import wilson_limits

__all__ = ["conclude", "estimate", "run_scenario"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def _limits(
    x1: FloatArray, n1: FloatArray, x2: FloatArray, n2: FloatArray, method: str, z: float
) -> tuple[FloatArray, FloatArray]:
    """Closed-form interval limits (all methods but Miettinen-Nurminen), elementwise."""
    p1, p2 = x1 / n1, x2 / n2
    if method == "log":  # Katz; 0.5 added to each cell when a count is zero
        zero = (x1 == 0) | (x2 == 0)
        a, m, c, k = x1 + 0.5 * zero, n1 + zero, x2 + 0.5 * zero, n2 + zero
        est = (a / m) / (c / k)
        se = np.sqrt(1.0 / a - 1.0 / m + 1.0 / c - 1.0 / k)
        return est * np.exp(-z * se), est * np.exp(z * se)
    if method == "newcombe":
        l1, u1 = wilson_limits(x1, n1, z)
        l2, u2 = wilson_limits(x2, n2, z)
        d = p1 - p2
        return d - np.hypot(p1 - l1, u2 - p2), d + np.hypot(u1 - p1, p2 - l2)
    if method == "agresti-caffo":
        x1, n1, x2, n2 = x1 + 1.0, n1 + 2.0, x2 + 1.0, n2 + 2.0
        p1, p2 = x1 / n1, x2 / n2
    half = z * np.sqrt(p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2)
    return np.clip(p1 - p2 - half, -1.0, 1.0), np.clip(p1 - p2 + half, -1.0, 1.0)


def conclude(
    x1: NDArray[np.int64],
    n1: NDArray[np.int64],
    x2: NDArray[np.int64],
    n2: NDArray[np.int64],
    analysis: Analysis,
) -> BoolArray:
    """Whether each table (arm 1 = test) concludes equivalence (non-inferiority).

    Tables with an empty arm conclude nothing (False).
    """
    ok = (n1 > 0) & (n2 > 0)
    fx1, fx2 = np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64)
    fn1 = np.maximum(n1, 1).astype(np.float64)
    fn2 = np.maximum(n2, 1).astype(np.float64)
    z = two_sided_z(analysis.level)
    lower_m = np.full_like(fx1, analysis.lower_margin)
    one_sided = analysis.hypothesis == "non-inferiority" or analysis.upper_margin is None
    upper_m = np.full_like(fx1, np.inf if one_sided else analysis.upper_margin)
    with np.errstate(divide="ignore", invalid="ignore"):
        if analysis.method == "miettinen-nurminen":
            score = ratio_score if analysis.scale == "ratio" else diff_score
            above = score(lower_m, fx1, fn1, fx2, fn2) > z
            below = np.ones_like(above) if one_sided else score(upper_m, fx1, fn1, fx2, fn2) < -z
        else:
            low, high = _limits(fx1, fn1, fx2, fn2, analysis.method, z)
            above = low > lower_m
            below = high < upper_m
    return np.asarray(ok & above & below, dtype=np.bool_)


def estimate(
    x1: NDArray[np.int64],
    n1: NDArray[np.int64],
    x2: NDArray[np.int64],
    n2: NDArray[np.int64],
    scale: str,
) -> FloatArray:
    """ORR ratio or difference (test vs reference); NaN with an empty arm or ``0/0`` ratio."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(n1 > 0, x1 / np.maximum(n1, 1), np.nan)
        p2 = np.where(n2 > 0, x2 / np.maximum(n2, 1), np.nan)
        return np.asarray(p1 / p2 if scale == "ratio" else p1 - p2, dtype=np.float64)


def _counts(
    responders: BoolArray, in_population: BoolArray, arm: NDArray[np.int8]
) -> tuple[NDArray[np.int64], ...]:
    test = arm == 1
    pop_test = in_population & test
    pop_ref = in_population & ~test
    return (
        np.sum(responders & pop_test, axis=1),
        np.sum(pop_test, axis=1),
        np.sum(responders & pop_ref, axis=1),
        np.sum(pop_ref, axis=1),
    )


def _survival_at(
    cutoff: FloatArray,
    entry: FloatArray,
    times: FloatArray,
    dropout: FloatArray,
    arm: NDArray[np.int8],
) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
    """Events, log-rank Z and Peto log hazard ratio (test vs reference) at calendar ``cutoff``."""
    follow = np.maximum(np.minimum(dropout, cutoff[:, np.newaxis] - entry), 0.0)
    event = times <= follow
    u, v = logrank_rows(np.minimum(times, follow), event, arm)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_hr = np.where(v > 0.0, u / v, 0.0)
    return np.sum(event, axis=1), logrank_z(u, v), log_hr


def run_scenario(
    spec: TrialSpec, ever: tuple[float, float], seed: np.random.SeedSequence, n_rows: int
) -> dict[str, NDArray[np.generic]]:
    """Simulate ``n_rows`` trials of ``spec``; ``ever``: probabilities of ever responding.

    Returns one array per per-replicate quantity (the columns of the Parquet output).
    """
    rng = np.random.default_rng(seed)
    a = spec.analysis
    entry, arm, strata = patients(rng, spec, n_rows)
    dropout = dropout_times(rng, arm.shape, spec)
    known = response_outcomes(rng, arm, strata, dropout, spec, ever)
    pfs = event_times(rng, arm, spec.pfs)
    os_ = event_times(rng, arm, spec.os)
    weeks_to_final = last_primary_scan_weeks(spec) + confirmation_offset_weeks(spec)
    primary_date = entry[:, -1] + weeks_to_final / WEEKS_PER_MONTH
    everyone = np.ones(arm.shape, dtype=bool)
    x1, n1, x2, n2 = _counts(np.isfinite(known), everyone, arm)
    out: dict[str, NDArray[np.generic]] = {
        "final_x_test": x1,
        "final_n_test": n1,
        "final_x_reference": x2,
        "final_n_reference": n2,
        "final_estimate": estimate(x1, n1, x2, n2, a.scale),
        "final_conclusion": conclude(x1, n1, x2, n2, a),
        "last_patient_in_months": entry[:, -1],
        "primary_analysis_months": primary_date,
    }
    cutoff = (
        primary_date
        if a.survival_cutoff_months is None
        else np.full(n_rows, a.survival_cutoff_months)
    )
    out["duration_months"] = np.maximum(primary_date, cutoff)
    for name, times in (("pfs", pfs), ("os", os_)):
        events, z, log_hr = _survival_at(cutoff, entry, times, dropout, arm)
        out[f"{name}_events_final"] = events
        out[f"{name}_logrank_z_final"] = z
        out[f"{name}_log_hr_final"] = log_hr
    if a.interim_months is not None:
        out.update(_interim(spec, entry, arm, known, dropout, {"pfs": pfs, "os": os_}))
    return out


def _interim(
    spec: TrialSpec,
    entry: FloatArray,
    arm: NDArray[np.int8],
    known: FloatArray,
    dropout: FloatArray,
    survival: dict[str, FloatArray],
) -> dict[str, NDArray[np.generic]]:
    """The interim look at calendar ``analysis.interim_months``, with the data known by then."""
    a, sched = spec.analysis, spec.schedule
    assert a.interim_months is not None
    t = a.interim_months
    weeks = sched.primary_weeks if a.interim_population == "completed" else sched.first_weeks
    population = entry + weeks / WEEKS_PER_MONTH <= t
    x1, n1, x2, n2 = _counts(entry + known <= t, population, arm)
    out: dict[str, NDArray[np.generic]] = {
        "interim_x_test": x1,
        "interim_n_test": n1,
        "interim_x_reference": x2,
        "interim_n_reference": n2,
        "interim_enrolled": np.sum(entry <= t, axis=1),
        "interim_estimate": estimate(x1, n1, x2, n2, a.scale),
        "interim_conclusion": conclude(x1, n1, x2, n2, a),
        "interim_evaluable": (n1 > 0) & (n2 > 0),
    }
    cutoff = np.full(entry.shape[0], t)
    for name, times in survival.items():
        out[f"{name}_events_interim"] = _survival_at(cutoff, entry, times, dropout, arm)[0]
    return out
