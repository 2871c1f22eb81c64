"""The vectorized trial simulator: operating characteristics of a biosimilar equivalence design.

:func:`simulate` runs a :class:`TrialSpec` (built in code or from a protocol file with
:func:`spec_from_protocol`) many times, vectorized across replicates, in this process or on Dask,
and returns a :class:`SimulationResult`: the probability of concluding equivalence under the
design's response rates (power) and with the true effect at each margin (type I error), the
probability of concluding at each look of a group-sequential design, the expected sample
size and trial duration, the distribution of each interim's estimate and how often an interim
already shows what the final analysis will, each with its Monte-Carlo standard error.
:func:`simulate_survival_gs` is a second kernel, a group-sequential log-rank trial as rpact's
``getSimulationSurvival`` simulates it, for the benchmark against rpact.

The model, in months from the first patient in (FPI):

- accrual: sites open evenly over a ramp and recruit at a Poisson rate each (an inhomogeneous
  Poisson process), the FPI is time 0;
- randomization: permuted blocks of random size within strata (every combination of the
  factors' levels, drawn from their prevalences), in the allocation ratio;
- response: scans at ``first_weeks`` then every ``interval_weeks``; a responder's response starts
  after a gamma time and lasts until progression (exponential duration); it is seen at the first
  scan after its start while it lasts, confirmed (optionally) at the first scan at least
  ``confirmation_weeks`` later; the primary endpoint counts responses seen by the primary time
  point, dropouts before that scan counting as non-responders (ITT, non-responder imputation);
- PFS and OS: exponential, piecewise-exponential or cure-mixture times with a hazard ratio, drawn
  independently of the response process, censored by dropout and the data cutoff;
- looks: every interim of ``analysis.interims`` at its calendar time (a month after FPI, or
  when a number of patients have reached the primary time point: the look of a design timed
  by information fraction) with the data known then; the population is ``"completed"``
  (patients enrolled at least ``primary_weeks`` before, responses confirmed by then) or
  ``"scanned"`` (a preliminary ORR among all with a first scan due by then, responses seen by
  then); dropouts count as non-responders;
- stopping: a formal look (with an efficacy boundary ``b_k``) stops the trial for equivalence
  when both one-sided tests exceed ``b_k`` (Miettinen-Nurminen: the score at the lower margin
  above ``b_k`` and at the upper below ``-b_k``; interval methods: the ``1 - 2 (1 -
  Phi(b_k))`` interval inside the margins), and for futility when one is at or below its
  non-binding futility bound; a descriptive look stops nothing;
- final: every patient followed to the primary time point (plus the confirmation scan), at
  the design's final boundary; PFS and OS at ``survival_cutoff_months`` (default: the date of
  that analysis), summarized as for the trial run to its end.

:func:`spec_from_protocol` takes the looks and boundaries from the protocol's joint design
(:func:`equitrial.design.joint.joint_design`), so ``equitrial simulate`` runs exactly the
design ``equitrial design`` prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from equitrial.design._sim_dask import run_chunks
from equitrial.design._sim_logrank import SurvivalGSResult, simulate_survival_gs
from equitrial.design._sim_outcomes import detection_probability, stratum_multipliers
from equitrial.design._sim_protocol import planned_looks, spec_from_protocol
from equitrial.design._sim_reduce import merge, run_chunk
from equitrial.design._sim_result import (
    Distribution,
    LookSummary,
    MeanEstimate,
    Probability,
    ScenarioSummary,
    SimulationResult,
    summarize,
    write_parquet,
)
from equitrial.design._sim_spec import (
    Accrual,
    Analysis,
    InterimLook,
    Randomization,
    ResponseModel,
    ScanSchedule,
    StratificationFactor,
    SurvivalModel,
    TrialSpec,
)
from equitrial.design._sim_warnings import look_warnings
from equitrial.errors import InvalidInputError

if TYPE_CHECKING:
    from equitrial.design.looks import Look

__all__ = [
    "Accrual",
    "Analysis",
    "Distribution",
    "InterimLook",
    "LookSummary",
    "MeanEstimate",
    "Probability",
    "Randomization",
    "ResponseModel",
    "ScanSchedule",
    "ScenarioSummary",
    "SimulationResult",
    "StratificationFactor",
    "SurvivalGSResult",
    "SurvivalModel",
    "TrialSpec",
    "planned_looks",
    "simulate",
    "simulate_survival_gs",
    "spec_from_protocol",
]

SCENARIOS = ("alternative", "null_lower", "null_upper")


def _scenario_rates(spec: TrialSpec) -> dict[str, tuple[float, float]]:
    """Response rates (without dropout) of each scenario: the spec's, and at each margin.

    At a margin the ITT rates (with dropout) must have the margin's ratio or difference: on the
    ratio scale ``test = margin * reference``; on the difference scale dropout shrinks the
    difference by the retention ``c / c0``, so ``test = reference + margin / (c / c0)``.
    """
    r, a = spec.response, spec.analysis
    retention = detection_probability(spec) / detection_probability(spec, with_dropout=False)
    rates = {"alternative": (r.orr_test, r.orr_reference)}
    margins = {"null_lower": a.lower_margin}
    if a.hypothesis == "equivalence" and a.upper_margin is not None:
        margins["null_upper"] = a.upper_margin
    for name, margin in margins.items():
        if a.scale == "ratio":
            test = r.orr_reference * margin
        else:
            test = r.orr_reference + margin / retention
        rates[name] = (test, r.orr_reference)
    return rates


def _ever_rates(spec: TrialSpec, name: str, rates: tuple[float, float]) -> tuple[float, float]:
    """Probabilities of ever responding that give ``rates`` by the primary time point."""
    c0 = detection_probability(spec, with_dropout=False)
    top = float(np.max(stratum_multipliers(spec)))
    ever = (rates[0] / c0, rates[1] / c0)
    for arm, rate, p in zip(("test", "reference"), rates, ever, strict=True):
        if not 0.0 <= p * top <= 1.0:
            raise InvalidInputError(
                f"scenario {name!r}: a {arm} response rate of {rate:.4g}"
                f" by the primary time point needs a probability of ever responding of {p:.4g}"
                f" (times stratum multiplier {top:.4g}), outside [0, 1]: only {c0:.4g} of"
                " responses are seen by then under the time-to-response model and scan schedule",
                field="response",
                value=rates,
            )
    return ever


def _check_run(replicates: int, chunk_size: int, workers: int) -> None:
    for name, value, low in (
        ("replicates", replicates, 2),
        ("chunk_size", chunk_size, 1),
        ("workers", workers, 1),
    ):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise InvalidInputError(
                f"{name} must be a whole number >= {low}, got {value!r}",
                field=name,
                value=value,
                expected=f">= {low}",
            )


def simulate(
    spec: TrialSpec,
    *,
    replicates: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    chunk_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
    out_dir: str | Path | None = None,
    planned: Sequence[Look] = (),
) -> SimulationResult:
    """Simulate a design's operating characteristics under the alternative and at the margins.

    Parameters
    ----------
    spec : TrialSpec
        The design and its assumptions.
    replicates : int
        Simulated trials per scenario (>= 2).
    seed : int
        Seed of ``numpy.random.SeedSequence``. The replicates are cut into chunks of
        ``chunk_size`` (the last may be smaller); chunk ``i`` gets child ``i`` of
        ``SeedSequence(seed).spawn(n_chunks)``, and scenario ``j`` of that chunk the child ``j``
        of its ``spawn(3)`` (``j`` = 0 alternative, 1 lower margin, 2 upper margin). So the
        result depends on ``seed``, ``replicates`` and ``chunk_size`` only, not on ``workers``
        or ``scheduler``.
    workers : int, default 1
        1: run here, in this process. More: a Dask ``LocalCluster`` with that many worker
        processes (one thread each), created and closed by this call.
    scheduler : str, optional
        Address of a running Dask scheduler (``"tcp://host:port"``); overrides ``workers``.
    chunk_size : int, default 1000
        Replicates per vectorized chunk (memory grows with ``chunk_size * n_patients``).
    progress : callable, optional
        ``progress(done_replicates, total)`` after each chunk, ``total = replicates *
        n_scenarios``.
    out_dir : str or Path, optional
        Directory (created if missing) to write ``replicates.parquet`` into: one row per
        replicate and scenario. Without it the workers send back mergeable summaries only
        (:mod:`equitrial.design._sim_reduce`), not per-replicate arrays.
    planned : sequence of equitrial.design.looks.Look, optional
        The design's looks (:func:`equitrial.design.joint.joint_design`), matched to the
        interims by name: their expected month, enrolment and evaluable count are reported
        beside the simulated means.

    Returns
    -------
    SimulationResult
        One :class:`ScenarioSummary` per scenario: ``"alternative"`` (the spec's response rates;
        its conclusion probability is the power), ``"null_lower"`` and, for equivalence,
        ``"null_upper"`` (the type I errors).

    Raises
    ------
    InvalidInputError
        ``replicates``, ``chunk_size`` or ``workers`` not a whole number in range, or a
        scenario whose response rate cannot be produced (the rate at the upper margin would
        need a probability of ever responding above 1, say).

    Notes
    -----
    The margins concern the ITT response rates with dropouts as non-responders. On the ratio
    scale dropout scales both arms alike, so the null scenario sets ``test = margin *
    reference``; on the difference scale it shrinks the difference by the retention ``r`` (the
    share of primary responses that dropout leaves, :func:`detection_probability` with and
    without dropout, computed by numerical integration), so the null sets ``test = reference +
    margin / r``. Decisions use the protocol's interval method and level; Miettinen-Nurminen via
    the score statistic at the margins (no root search). An arm with no patient in the interim
    population makes the interim not evaluable (no conclusion, estimate NaN).

    References
    ----------
    .. [1] Miettinen O, Nurminen M. Comparative analysis of two rates. *Stat Med*
       1985;4:213-226.
    .. [2] Carter RE. Application of stochastic processes to participant recruitment in
       clinical trials. *Control Clin Trials* 2004;25:429-436 (Poisson recruitment).
    """
    _check_run(replicates, chunk_size, workers)
    start = time.perf_counter()
    rates = _scenario_rates(spec)
    ever = {name: _ever_rates(spec, name, r) for name, r in rates.items()}
    sizes = [min(chunk_size, replicates - i) for i in range(0, replicates, chunk_size)]
    tasks: list[tuple[Any, ...]] = []
    weights: list[int] = []
    names: list[str] = []
    keep = out_dir is not None
    for size, chunk_seed in zip(sizes, np.random.SeedSequence(seed).spawn(len(sizes)), strict=True):
        for j, scenario_seed in enumerate(chunk_seed.spawn(len(SCENARIOS))):
            if SCENARIOS[j] in ever:
                tasks.append((spec, ever[SCENARIOS[j]], scenario_seed, size, keep))
                weights.append(size)
                names.append(SCENARIOS[j])
    results = run_chunks(
        run_chunk, tasks, weights, workers=workers, scheduler=scheduler, progress=progress
    )
    c0 = detection_probability(spec, with_dropout=False)
    retention = detection_probability(spec) / c0
    by_name = {look.name: look for look in planned}
    scenarios = tuple(
        summarize(
            name,
            rates[name],
            retention,
            spec,
            merge([stats for (stats, _), n in zip(results, names, strict=True) if n == name]),
            by_name,
        )
        for name in rates
    )
    path = None
    if out_dir is not None:
        directory = Path(out_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "replicates.parquet"
        write_parquet(path, _columns(results, names, list(rates)))
    formal = tuple(look.name for look in spec.analysis.interims if look.critical is not None)
    return SimulationResult(
        spec=spec,
        replicates=replicates,
        seed=seed,
        chunk_size=chunk_size,
        detection_probability=c0,
        retention=retention,
        scenarios=scenarios,
        seconds=time.perf_counter() - start,
        parquet_path=None if path is None else str(path),
        formal_looks=(*formal, "final"),
        warnings=look_warnings(spec, scenarios[0]),
    )


def _columns(
    results: Sequence[tuple[Any, Any]], names: Sequence[str], scenarios: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per scenario, each per-replicate column concatenated over the chunks."""
    out = {}
    for name in scenarios:
        chunks = [cols for (_, cols), n in zip(results, names, strict=True) if n == name]
        out[name] = {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}
    return out
