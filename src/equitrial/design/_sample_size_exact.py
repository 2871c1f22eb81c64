"""Exact power by enumeration, power curves and the smallest sample size by exact search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binom

from equitrial.design._sample_size_checks import (
    IntervalMethod,
    check_design,
    check_probability,
    check_size,
)
from equitrial.design._sample_size_grid import arm_support, grid_power, pass_grid
from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_array
from equitrial.stats.equivalence import Margin

__all__ = [
    "MAX_TOTAL",
    "ExactSampleSize",
    "PowerCurve",
    "exact_power",
    "exact_power_checked",
    "power_curve",
]

# the exact search gives up beyond this many patients in the two arms together
MAX_TOTAL = 20_000


@dataclass(frozen=True, slots=True)
class PowerCurve:
    """Exact power at fixed sizes over true effects (see :func:`power_curve`).

    ``p1[i]`` is the arm-1 probability at ``effects[i]`` (``p2 + effect`` or ``effect * p2``).
    """

    effects: tuple[float, ...]
    p1: tuple[float, ...]
    p2: float
    power: tuple[float, ...]
    n1: int
    n2: int
    margin: Margin
    method: IntervalMethod
    level: float


@dataclass(frozen=True, slots=True)
class ExactSampleSize:
    """Result of :func:`smallest_n`.

    ``n1, n2``: the smallest sizes (in steps of the allocation) whose exact power reaches the
    target, ``power`` their power. ``n1_stable, n2_stable``: the smallest sizes from which the
    power stays at or above the target up to the end of the window (``None`` if the power at
    the window's end is below it), ``power_stable`` theirs. The ``*_enrolled`` sizes add the
    dropout. ``sizes`` and ``powers``: every ``(n1, n2)`` searched, from the allocation itself up
    to the window's end, and its exact power (the saw-tooth of an exact power curve).
    """

    n1: int
    n2: int
    power: float
    n1_stable: int | None
    n2_stable: int | None
    power_stable: float | None
    n1_enrolled: int
    n2_enrolled: int
    n1_stable_enrolled: int | None
    n2_stable_enrolled: int | None
    sizes: tuple[tuple[int, int], ...]
    powers: tuple[float, ...]
    p1: float
    p2: float
    margin: Margin
    method: IntervalMethod
    level: float
    target_power: float
    allocation: tuple[int, int]
    dropout: float


def exact_power_checked(p1: float, p2: float, n1: int, n2: int, design: tuple[Any, ...]) -> float:
    """:func:`exact_power` on checked arguments; ``design`` is ``(margin, method, level)``."""
    margin, method, level = design
    x1, pmf1 = arm_support(p1, n1)
    x2, pmf2 = arm_support(p2, n2)
    grid = pass_grid(x1, n1, x2, n2, margin=margin, method=method, level=level)
    return grid_power(pmf1, grid, pmf2)


def exact_power(
    p1: float,
    p2: float,
    n1: int,
    n2: int,
    *,
    margin: Margin,
    method: IntervalMethod = "miettinen-nurminen",
    level: float = 0.90,
) -> float:
    """Exact probability that the trial's confidence interval lies inside the margin.

    Parameters
    ----------
    p1, p2
        True response probabilities of arm 1 (test) and arm 2 (reference), in [0, 1].
    n1, n2
        Patients per arm, whole numbers >= 1.
    margin
        A :class:`~equitrial.stats.equivalence.Margin`: two-sided for equivalence, one-sided
        (an infinite bound) for non-inferiority or non-superiority. Finite difference bounds must
        lie in (-1, 1).
    method : {"miettinen-nurminen", "newcombe", "wald", "agresti-caffo", "log"}
        The interval of the analysis: on the difference scale ``"miettinen-nurminen"``,
        ``"newcombe"``, ``"wald"`` or ``"agresti-caffo"``
        (:func:`~equitrial.stats.proportions.difference_ci`); on the ratio scale
        ``"miettinen-nurminen"`` or ``"log"`` (:func:`~equitrial.stats.proportions.ratio_ci`).
    level
        Two-sided confidence level of the interval (0.90 for a TOST at 5 %).

    Returns
    -------
    float
        ``sum over (x1, x2) of Bin(x1; n1, p1) Bin(x2; n2, p2) [interval inside margin]``.

    Raises
    ------
    InvalidInputError
        A probability outside [0, 1], a size not a whole number >= 1, ``level`` outside (0, 1),
        ``margin`` not a Margin or with a difference bound outside (-1, 1).
    UnknownOptionError
        ``method`` unknown or not one for the margin's scale.

    Notes
    -----
    "Inside" is :func:`~equitrial.stats.equivalence.assess`'s strict containment: the lower limit
    above the lower bound and the upper limit below the upper bound; an absent bound is no
    constraint. For the Miettinen–Nurminen interval [1]_ the decision needs no limits: the score
    statistic ``T`` decreases in the difference (ratio), so the interval lies inside ``(L, U)``
    iff ``T(L) > z`` and ``T(U) < -z``; an outcome where ``T`` is 0/0 at the bound (no events in
    either arm of a ratio) fails, as its interval ``(0, inf)`` does. The other methods' limits are
    computed in closed form on the whole grid. Outcomes of an arm whose binomial probability is
    below 1e-15 times that arm's largest are skipped (at most ``(n + 1) 1e-15`` of probability).

    References
    ----------
    .. [1] Miettinen O, Nurminen M. Comparative analysis of two rates. *Stat Med*
       1985;4:213-226.
    .. [2] Farrington CP, Manning G. Test statistics and sample size formulae for comparative
       binomial trials with null hypothesis of non-zero risk difference or non-unity relative
       risk. *Stat Med* 1990;9:1447-1454.
    """
    q1, q2 = check_probability(p1, "p1"), check_probability(p2, "p2")
    m1, m2 = check_size(n1, "n1"), check_size(n2, "n2")
    return exact_power_checked(q1, q2, m1, m2, check_design(margin, method, level))


def power_curve(
    p2: float,
    effects: ArrayLike,
    n1: int,
    n2: int,
    *,
    margin: Margin,
    method: IntervalMethod = "miettinen-nurminen",
    level: float = 0.90,
) -> PowerCurve:
    """Exact power at fixed sizes over a grid of true differences or ratios.

    Parameters
    ----------
    p2
        True response probability of arm 2 (reference), in [0, 1].
    effects
        True values on the margin's scale: ``p1 = p2 + effect`` (difference) or
        ``p1 = effect * p2`` (ratio); each ``p1`` must lie in [0, 1].
    n1, n2, margin, method, level
        As :func:`exact_power`.

    Returns
    -------
    PowerCurve
        The effects, the arm-1 probabilities and the exact power at each.

    Raises
    ------
    InvalidInputError
        As :func:`exact_power`, or ``effects`` empty, not finite, or giving a ``p1`` outside
        [0, 1] (the message names its index).
    UnknownOptionError
        As :func:`exact_power`.

    Notes
    -----
    The set of outcomes that show equivalence depends on the sizes, margin, method and level
    only, so it is computed once on the full ``(n1 + 1) x (n2 + 1)`` grid; each power is then
    ``pmf1 @ grid @ pmf2`` [1]_.

    References
    ----------
    .. [1] Farrington CP, Manning G. Test statistics and sample size formulae for comparative
       binomial trials with null hypothesis of non-zero risk difference or non-unity relative
       risk. *Stat Med* 1990;9:1447-1454.
    """
    q2 = check_probability(p2, "p2")
    m1, m2 = check_size(n1, "n1"), check_size(n2, "n2")
    checked, how, lvl = check_design(margin, method, level)
    values = check_array(effects, "effects")
    p1 = values + q2 if checked.scale == "difference" else values * q2
    outside = np.flatnonzero((p1 < 0.0) | (p1 > 1.0))
    if outside.size:
        i = int(outside[0])
        raise InvalidInputError(
            f"effects[{i}] = {values[i]!r} gives p1 = {p1[i]!r}, outside [0, 1] (p2 = {q2!r})",
            field="effects",
            value=float(values[i]),
        )
    x1, x2 = np.arange(m1 + 1, dtype=np.float64), np.arange(m2 + 1, dtype=np.float64)
    grid = pass_grid(x1, m1, x2, m2, margin=checked, method=how, level=lvl).astype(np.float64)
    pmf1 = binom.pmf(x1[np.newaxis, :], m1, p1[:, np.newaxis])
    pmf2 = binom.pmf(x2, m2, q2)
    power = np.clip(pmf1 @ grid @ pmf2, 0.0, 1.0)
    return PowerCurve(
        tuple(float(v) for v in values),
        tuple(float(v) for v in p1),
        q2,
        tuple(float(v) for v in power),
        m1,
        m2,
        checked,
        how,
        lvl,
    )
