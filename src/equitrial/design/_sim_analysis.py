"""The per-chunk kernel of the trial simulator: every look of the design, the stopping rule.

Each replicate is one whole trial: patients, their outcomes, then every interim at its time
with the data known then, and the final analysis. A formal look (one with an efficacy
boundary) stops the trial for equivalence when both one-sided tests exceed the boundary, and
for futility when one is at or below the look's futility bound; a descriptive look estimates
and stops nothing. The kernel returns one array per per-replicate quantity (the columns of the
Parquet output); :func:`equitrial.design._sim_reduce.reduce_chunk` turns them into mergeable
sums where no per-replicate output is asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from equitrial.design._sim_decide import conclude, decide, estimate
from equitrial.design._sim_logrank import logrank_rows, logrank_z
from equitrial.design._sim_outcomes import (
    confirmation_offset_weeks,
    dropout_times,
    event_times,
    last_primary_scan_weeks,
    response_outcomes,
)
from equitrial.design._sim_randomize import patients
from equitrial.design._sim_spec import WEEKS_PER_MONTH, InterimLook, TrialSpec

__all__ = ["conclude", "estimate", "run_scenario"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Columns = dict[str, NDArray[Any]]


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


def _events_at(
    cutoff: FloatArray, entry: FloatArray, times: FloatArray, dropout: FloatArray
) -> NDArray[np.int64]:
    """Events seen by calendar ``cutoff`` (follow-up ends at dropout)."""
    follow = np.minimum(dropout, cutoff[:, np.newaxis] - entry)
    return np.asarray(np.sum(times <= follow, axis=1), dtype=np.int64)


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


def _look_time(spec: TrialSpec, look: InterimLook, entry: FloatArray) -> FloatArray:
    """Calendar time of a look in each replicate: its month, or when its count is evaluable."""
    if look.months is not None:
        return np.full(entry.shape[0], look.months)
    assert look.evaluable is not None
    return entry[:, look.evaluable - 1] + spec.schedule.primary_weeks / WEEKS_PER_MONTH


def _interim(
    spec: TrialSpec,
    look: InterimLook,
    t: FloatArray,
    entry: FloatArray,
    arm: NDArray[np.int8],
    known: FloatArray,
) -> Columns:
    """The counts and decisions of one interim at calendar times ``t``, with the data known then.

    The population is ``"completed"`` (patients enrolled at least ``primary_weeks`` before,
    responses confirmed by then) or ``"scanned"`` (every patient whose first scan is due by
    then, responses seen by then); dropouts count as non-responders.
    """
    a, sched = spec.analysis, spec.schedule
    weeks = sched.primary_weeks if a.interim_population == "completed" else sched.first_weeks
    at = t[:, np.newaxis]
    population = entry + weeks / WEEKS_PER_MONTH <= at
    x1, n1, x2, n2 = _counts(entry + known <= at, population, arm)
    critical = a.final_z if look.critical is None else look.critical
    bounds = (critical,) if look.futility is None else (critical, look.futility)
    evaluable, passes = decide(x1, n1, x2, n2, a, bounds)
    out: Columns = {
        "months": t,
        "enrolled": np.sum(entry <= at, axis=1),
        "x_test": x1,
        "n_test": n1,
        "x_reference": x2,
        "n_reference": n2,
        "estimate": estimate(x1, n1, x2, n2, a.scale),
        "conclusion": passes[0],
        "evaluable": evaluable,
    }
    if look.futility is not None:
        out["futility"] = evaluable & ~passes[1]
    return out


def _stop(spec: TrialSpec, looks: list[Columns], final: Columns, n_rows: int) -> Columns:
    """Where each trial stops: the first formal look that concludes or meets its futility bound.

    ``stop_look`` indexes the formal looks, the final last; ``concluded`` says whether the
    trial concludes equivalence (non-inferiority) there; ``sample_size`` and ``evaluable`` count
    the patients enrolled and in the analysis population then; ``duration_months`` is the
    stopping look's date, or for a trial that runs to the end the later of the primary analysis
    and the survival cutoff.
    """
    interims = zip(looks, spec.analysis.interims, strict=True)
    formal = [cols for cols, look in interims if look.critical is not None]
    k_final = len(formal)
    stop = np.full(n_rows, k_final, dtype=np.int16)
    concluded = final["conclusion"].copy()
    size = np.full(n_rows, spec.accrual.n_patients, dtype=np.int64)
    evaluable = final["n_test"] + final["n_reference"]
    duration = final["duration_months"].copy()
    running = np.ones(n_rows, dtype=bool)
    for k, cols in enumerate(formal):
        hit = running & cols["conclusion"]
        if "futility" in cols:
            hit |= running & cols["futility"]
        stop[hit] = k
        concluded[hit] = cols["conclusion"][hit]
        size[hit] = cols["enrolled"][hit]
        evaluable[hit] = cols["n_test"][hit] + cols["n_reference"][hit]
        duration[hit] = cols["months"][hit]
        running &= ~hit
    return {
        "stop_look": stop,
        "concluded": concluded,
        "sample_size": size,
        "evaluable_at_stop": evaluable,
        "duration_months": duration,
    }


def run_scenario(
    spec: TrialSpec, ever: tuple[float, float], seed: np.random.SeedSequence, n_rows: int
) -> Columns:
    """Simulate ``n_rows`` trials of ``spec``; ``ever``: probabilities of ever responding.

    Returns one array per per-replicate quantity: ``final_*`` (the final analysis with every
    patient, as planned), ``interim<i>_*`` for the ``i``-th interim (1-based, in
    ``spec.analysis.interims`` order), ``pfs_*``/``os_*`` and the stopping columns of
    :func:`_stop`.
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
    cutoff = (
        primary_date
        if a.survival_cutoff_months is None
        else np.full(n_rows, a.survival_cutoff_months)
    )
    final: Columns = {
        "x_test": x1,
        "n_test": n1,
        "x_reference": x2,
        "n_reference": n2,
        "estimate": estimate(x1, n1, x2, n2, a.scale),
        "conclusion": conclude(x1, n1, x2, n2, a),
        "duration_months": np.maximum(primary_date, cutoff),
    }
    out: Columns = {f"final_{k}": v for k, v in final.items() if k != "duration_months"}
    out["last_patient_in_months"] = entry[:, -1]
    out["primary_analysis_months"] = primary_date
    for name, times in (("pfs", pfs), ("os", os_)):
        events, z, log_hr = _survival_at(cutoff, entry, times, dropout, arm)
        out[f"{name}_events_final"] = events
        out[f"{name}_logrank_z_final"] = z
        out[f"{name}_log_hr_final"] = log_hr
    looks: list[Columns] = []
    previous = np.zeros(n_rows)
    for i, look in enumerate(a.interims, start=1):
        t = np.maximum(_look_time(spec, look, entry), previous)  # a look never precedes the last
        previous = t
        cols = _interim(spec, look, t, entry, arm, known)
        cols["after_primary"] = t >= primary_date
        for name, times in (("pfs", pfs), ("os", os_)):
            cols[f"{name}_events"] = _events_at(t, entry, times, dropout)
        looks.append(cols)
        out.update({f"interim{i}_{k}": v for k, v in cols.items()})
    out.update(_stop(spec, looks, final, n_rows))
    return out
