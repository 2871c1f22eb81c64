"""Vectorized log-rank statistics across simulated trials, and a group-sequential survival kernel.

:func:`simulate_survival_gs` is the design rpact's ``getSimulationSurvival`` simulates, so the
two can be compared in speed and in rejection rates (``benchmarks/simulate_vs_rpact.py``).
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from equitrial.design.sequential import Spending
from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_option

__all__ = ["SurvivalGSResult", "logrank_rows", "simulate_survival_gs"]

FloatArray = NDArray[np.float64]

_LITTLE_ENDIAN = sys.byteorder == "little"


def logrank_rows(
    time_: FloatArray,
    event: NDArray[np.bool_],
    group: NDArray[np.int8],
    *,
    buffers: tuple[NDArray[np.int64], FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Log-rank score ``U = sum (O1 - E1)`` and variance ``V`` of each row, group 1 vs group 0.

    ``time_`` holds observed times, finite; a negative time means "never at risk" (a patient
    not yet entered: it sorts before every event time, so it is in no risk set), and such a
    patient must have no event. ``event`` says whether each time ends in an event, ``group``
    is 0 or 1 (any shape that broadcasts against ``time_``). Each row is sorted by increasing
    time, so the number at risk at the ``j``-th smallest time is ``n - j`` (0-based) and the
    number of group-1 patients at risk the group-1 total minus a cumulative sum. Event times
    are assumed distinct (continuous times): each event contributes ``g - n1 / n`` to ``U`` and
    ``n1 (n - n1) / n^2`` to ``V``.

    For speed each row is sorted once as 64-bit integers: the bit pattern of a double orders
    like the double among non-negative values (negative ones all sort first), and its two
    lowest mantissa bits (a relative change below 1e-15) are replaced by the group and the
    event flag, which the sort then carries along. ``buffers`` (an int64 and two float64 arrays
    of ``time_``'s shape) are reused instead of allocating new ones.
    """
    shape = time_.shape
    key, share, at_events = buffers or (np.empty(shape, np.int64), np.empty(shape), np.empty(shape))
    np.bitwise_and(np.ascontiguousarray(time_, dtype=np.float64).view(np.int64), ~np.int64(3),
                   out=key)  # fmt: skip
    key |= np.asarray(group, dtype=np.int64) << 1
    key |= event
    key.sort(axis=1)
    low = key.view(np.uint8)[:, ::8] & np.uint8(3)  # the lowest byte (little-endian)
    if not _LITTLE_ENDIAN:  # pragma: no cover - big-endian machines
        low = (key & 3).astype(np.uint8)
    g = low >> np.uint8(1)
    # group-1 patients at risk at the j-th smallest time: all of group 1 minus those before j
    at_risk_1 = np.cumsum(g, axis=1, dtype=np.int32)
    np.subtract(at_risk_1[:, -1:], at_risk_1, out=at_risk_1)
    at_risk_1 += g
    np.divide(at_risk_1, np.arange(shape[1], 0, -1, dtype=np.float64), out=share)
    np.multiply(share, low & np.uint8(1), out=at_events)
    expected_1 = at_events.sum(axis=1)
    u = np.count_nonzero(low == 3, axis=1) - expected_1
    v = expected_1 - np.einsum("ij,ij->i", at_events, share)
    return u, v


def logrank_z(u: FloatArray, v: FloatArray) -> FloatArray:
    """``U / sqrt(V)``; 0 where ``V = 0`` (no event with both groups at risk)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(v > 0.0, u / np.sqrt(v), 0.0), dtype=np.float64)


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


def _survival_chunk(
    rng: np.random.Generator,
    n_rows: int,
    design: tuple[int, float, float, float, tuple[int, ...], bool],
    critical: FloatArray,
) -> tuple[NDArray[np.bool_], FloatArray]:
    """Rejections ``(n_rows, K)`` (first rejection only) and look times ``(n_rows, K)``."""
    n, accrual_time, rate1, rate2, events, random_accrual = design
    entry: FloatArray
    if random_accrual:
        entry = rng.uniform(0.0, accrual_time, (n_rows, n))
    else:  # rpact: patient i (1-based) enters at i * accrual_time / n
        entry = accrual_time * np.arange(1, n + 1) / n
    group = (np.arange(n) % 2 == 0).astype(np.int8)  # patients 1, 3, 5, ... in group 1
    survival = rng.standard_exponential((n_rows, n))
    survival *= np.where(group == 1, 1 / rate1, 1 / rate2)
    calendar = survival + entry
    # the d-th event of each row: non-negative doubles sort like their int64 bit patterns
    by_calendar = np.sort(calendar.view(np.int64), axis=1).view(np.float64)
    z = np.empty((n_rows, len(events)))
    looks = np.empty((n_rows, len(events)))
    observed = np.empty_like(survival)
    event = np.empty(survival.shape, dtype=np.bool_)
    buffers = (np.empty(survival.shape, np.int64), np.empty_like(survival), np.empty_like(survival))
    for k, d in enumerate(events):  # a loop over the (few) looks, not over replicates
        look = by_calendar[:, d - 1 : d]
        np.less_equal(calendar, look, out=event)
        # follow-up ends at the look; a patient not yet entered gets a negative time, which
        # logrank_rows keeps out of every risk set
        np.subtract(look, entry, out=observed)
        np.minimum(observed, survival, out=observed)
        z[:, k] = logrank_z(*logrank_rows(observed, event, group, buffers=buffers))
        looks[:, k] = look[:, 0]
    crossed = z >= critical
    first = crossed & (np.cumsum(crossed, axis=1) == 1)
    return first, looks


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
        r, t = _survival_chunk(np.random.default_rng(child), size, design, critical)
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
