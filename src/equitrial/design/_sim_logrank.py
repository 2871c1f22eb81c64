"""Vectorized log-rank statistics across simulated trials, and a group-sequential survival kernel.

:func:`simulate_survival_gs` is the design rpact's ``getSimulationSurvival`` simulates, so the
two can be compared in speed and in rejection rates (``benchmarks/simulate_vs_rpact.py``).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from equitrial.design._sim_logrank_kernel import survival_chunk
from equitrial.design._sim_logrank_rows import logrank_rows, logrank_z
from equitrial.design.sequential import Spending
from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_option

__all__ = ["SurvivalGSResult", "logrank_rows", "logrank_z", "simulate_survival_gs"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SurvivalGSResult:
    """Rejection rates of the group-sequential log-rank test, with Monte-Carlo standard errors.

    ``reject_per_stage[k]`` is the probability of rejecting first at look ``k``; standard errors
    are binomial, ``sqrt(p (1 - p) / replicates)``.
    """

    replicates: int
    critical_values: tuple[float, ...]
    reject_per_stage: tuple[float, ...]
    reject_per_stage_se: tuple[float, ...]
    overall_reject: float
    overall_reject_se: float
    mean_analysis_time: tuple[float, ...]
    seconds: float

    @property
    def replicates_per_second(self) -> float:
        """Replicates simulated per second of wall-clock time."""
        return self.replicates / self.seconds if self.seconds > 0 else math.inf


def _default_critical_values(events: Sequence[int], alpha: float, spending: Spending) -> FloatArray:
    from equitrial.design.sequential import boundaries

    rates = [e / events[-1] for e in events]
    return np.asarray(boundaries(rates, alpha=alpha, spending=spending).critical_values)


def simulate_survival_gs(
    *,
    n_subjects: int = 300,
    accrual_time: float = 12.0,
    pi1: float = 0.4,
    pi2: float = 0.4,
    event_time: float = 12.0,
    planned_events: Sequence[int] = (100, 200),
    critical_values: Sequence[float] | None = None,
    alpha: float = 0.025,
    spending: Spending = "obrien-fleming",
    replicates: int = 10_000,
    seed: int = 1,
    chunk_size: int = 5_000,
    accrual: Literal["even", "uniform"] = "even",
) -> SurvivalGSResult:
    """Simulate a two-arm group-sequential trial analysed by the log-rank test at event counts.

    Parameters
    ----------
    n_subjects : int
        Patients, allocated alternately to group 1 and group 2 (as rpact does for 1:1).
    accrual_time : float
        Accrual period (months).
    pi1, pi2 : float
        Probability of an event by ``event_time`` in groups 1 and 2; exponential hazards
        ``lambda = -ln(1 - pi) / event_time``.
    event_time : float
        Time point of ``pi1`` and ``pi2``.
    planned_events : sequence of int
        Cumulative event counts of the looks (increasing, the last at most ``n_subjects``).
    critical_values : sequence of float, optional
        One-sided z boundaries per look. By default from
        ``equitrial.design.sequential.boundaries(planned / planned[-1], alpha=alpha,
        spending=spending)``.
    alpha, spending
        Used only to compute the default ``critical_values``.
    replicates, seed, chunk_size : int
        Number of trials; seed of ``numpy.random.SeedSequence``; trials per vectorized chunk
        (one child seed per chunk, so results do not depend on anything else).
    accrual : {"even", "uniform"}
        ``"even"``: patient ``i`` enters at ``i * accrual_time / n_subjects`` (rpact's
        ``getSimulationSurvival``); ``"uniform"``: independent uniform entry times.

    Returns
    -------
    SurvivalGSResult
        Rejection probability per stage and overall, Monte-Carlo standard errors, mean calendar
        time of each look, wall-clock seconds.

    Raises
    ------
    InvalidInputError
        Probabilities outside (0, 1), event counts not increasing or above ``n_subjects``,
        or ``critical_values`` of the wrong length.
    UnknownOptionError
        ``accrual`` is not one of those listed.

    Notes
    -----
    Each look happens at the calendar time of the ``d``-th event; the log-rank statistic uses
    time on study, censored at the look, and ``Z = (O1 - E1) / sqrt(V)`` so that a larger
    hazard in group 1 gives positive ``Z`` (rpact's ``directionUpper = TRUE`` with
    ``pi1 > pi2``). The trial rejects at the first look where ``Z >= c_k``. Times are
    continuous, so there are no ties.

    References
    ----------
    .. [1] Wassmer G, Brannath W. *Group Sequential and Confirmatory Adaptive Designs in
       Clinical Trials*. Springer, 2016 (the methods of the rpact package).
    """
    check_option(accrual, ("even", "uniform"), "accrual")
    events = tuple(int(e) for e in planned_events)
    if not events or any(b <= a for a, b in itertools.pairwise(events)):
        raise InvalidInputError("planned_events must increase", field="planned_events")
    if events[0] < 1 or events[-1] > n_subjects:
        raise InvalidInputError(
            f"planned_events must lie in [1, n_subjects={n_subjects}]", field="planned_events"
        )
    for name, p in (("pi1", pi1), ("pi2", pi2)):
        if not 0.0 < p < 1.0:
            raise InvalidInputError(f"{name} must lie in (0, 1), got {p!r}", field=name)
    critical = (
        _default_critical_values(events, alpha, spending)
        if critical_values is None
        else np.asarray(critical_values, dtype=np.float64)
    )
    if critical.shape != (len(events),):
        raise InvalidInputError(
            f"critical_values needs {len(events)} values", field="critical_values"
        )
    rates = (-math.log(1.0 - pi1) / event_time, -math.log(1.0 - pi2) / event_time)
    design = (n_subjects, accrual_time, *rates, events, accrual == "uniform")
    start = time.perf_counter()
    sizes = [min(chunk_size, replicates - i) for i in range(0, replicates, chunk_size)]
    rejects, looks = [], []
    for size, child in zip(sizes, np.random.SeedSequence(seed).spawn(len(sizes)), strict=True):
        r, t = survival_chunk(np.random.default_rng(child), size, design, critical)
        rejects.append(r)
        looks.append(t)
    seconds = time.perf_counter() - start
    per_stage = np.concatenate(rejects).mean(axis=0)
    overall = float(per_stage.sum())
    return SurvivalGSResult(
        replicates=replicates,
        critical_values=tuple(float(c) for c in critical),
        reject_per_stage=tuple(float(p) for p in per_stage),
        reject_per_stage_se=tuple(math.sqrt(p * (1.0 - p) / replicates) for p in per_stage),
        overall_reject=overall,
        overall_reject_se=math.sqrt(overall * (1.0 - overall) / replicates),
        mean_analysis_time=tuple(float(t) for t in np.concatenate(looks).mean(axis=0)),
        seconds=seconds,
    )
