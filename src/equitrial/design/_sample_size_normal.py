"""Normal-approximation sample size for equivalence and non-inferiority of two proportions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from equitrial.design._sample_size_checks import (
    check_allocation,
    check_dropout,
    check_margin,
    check_probability,
    check_scale_option,
)
from equitrial.errors import InvalidInputError
from equitrial.stats._proportions_mn import diff_restricted_mle, ratio_restricted_mle
from equitrial.stats._validation import check_level, check_option
from equitrial.stats.equivalence import Margin

__all__ = [
    "EquivalenceFormula",
    "NormalFormula",
    "NormalSampleSize",
    "check_true_effect",
    "enrolled",
    "normal_sample_size",
]

NormalFormula = Literal["farrington-manning", "unrestricted", "log"]
EquivalenceFormula = Literal["tost", "half-beta"]
_FORMULAS = {
    "difference": ("farrington-manning", "unrestricted"),
    "ratio": ("farrington-manning", "log"),
}
_EQUIVALENCE = ("tost", "half-beta")
# rounding up tolerates this much floating-point noise above a whole number
_CEIL_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class NormalSampleSize:
    """Normal-approximation sample size (see :func:`normal_sample_size`).

    ``n1_exact``, ``n2_exact`` are the unrounded evaluable sizes; ``n1``, ``n2`` those rounded
    up; ``n1_enrolled``, ``n2_enrolled`` the sizes to enrol, ``ceil(n / (1 - dropout))`` per arm.
    """

    n1: int
    n2: int
    n1_enrolled: int
    n2_enrolled: int
    n1_exact: float
    n2_exact: float
    p1: float
    p2: float
    margin: Margin
    level: float
    target_power: float
    formula: NormalFormula
    equivalence: EquivalenceFormula
    allocation: tuple[int, int]
    dropout: float


def ceil_size(value: float) -> int:
    """Round a patient count up, ignoring floating-point noise just above a whole number."""
    return max(1, math.ceil(value - _CEIL_SLACK))


def enrolled(n: int, dropout: float) -> int:
    """Patients to enrol so that ``n`` remain evaluable: ``ceil(n / (1 - dropout))``."""
    return ceil_size(n / (1.0 - dropout))


def check_true_effect(p1: float, p2: float, margin: Margin) -> float:
    """The true difference or ratio, which must lie strictly inside the margin."""
    if margin.scale == "ratio" and p2 == 0.0:
        raise InvalidInputError(
            "p2 must be positive on the ratio scale", field="p2", value=p2, expected="p2 > 0"
        )
    effect = p1 - p2 if margin.scale == "difference" else p1 / p2
    if not margin.lower < effect < margin.upper:
        raise InvalidInputError(
            f"the true {margin.scale} {effect:.6g} (p1={p1!r}, p2={p2!r}) is not strictly inside "
            f"the margin ({margin.lower:g}, {margin.upper:g}): no sample size reaches a power "
            "above the one-sided alpha",
            field="p1",
            value=p1,
            expected=f"{margin.lower:g} < {margin.scale} < {margin.upper:g}",
        )
    return effect


def _side(
    p1: float, p2: float, k: float, bound: float, margin: Margin, formula: NormalFormula
) -> tuple[float, float, float]:
    """``(distance, sigma0, sigma1)`` of the one-sided test at ``bound``, per patient in arm 1.

    One arm-1 patient comes with ``k`` arm-2 patients. The test statistic's mean grows as
    ``distance * sqrt(n1)``; its standard deviation is ``sigma0`` under the null at ``bound`` and
    ``sigma1`` under the true ``(p1, p2)``.
    """
    v1, v2 = p1 * (1 - p1), p2 * (1 - p2)
    if formula == "unrestricted":
        return abs(p1 - p2 - bound), math.sqrt(v1 + v2 / k), math.sqrt(v1 + v2 / k)
    if formula == "log":
        sigma = math.sqrt((1 - p1) / p1 + (1 - p2) / (k * p2))
        return abs(math.log(p1 / p2) - math.log(bound)), sigma, sigma
    # Farrington-Manning: the variance under the null at the MLE restricted to the bound,
    # computed from the expected proportions (counts p1 of 1 and k p2 of k)
    args = tuple(np.asarray(v, dtype=np.float64) for v in (bound, p1, 1.0, k * p2, k))
    if margin.scale == "difference":
        t1, t2 = (float(t) for t in diff_restricted_mle(*args))
        return (
            abs(p1 - p2 - bound),
            math.sqrt(t1 * (1 - t1) + t2 * (1 - t2) / k),
            math.sqrt(v1 + v2 / k),
        )
    t1, t2 = (float(t) for t in ratio_restricted_mle(*args))
    b2 = bound * bound
    sigma0 = math.sqrt(t1 * (1 - t1) + b2 * t2 * (1 - t2) / k)
    return abs(p1 - bound * p2), sigma0, math.sqrt(v1 + b2 * v2 / k)


def _closed_form(side: tuple[float, float, float], z_alpha: float, z_beta: float) -> float:
    distance, sigma0, sigma1 = side
    return ((z_alpha * sigma0 + z_beta * sigma1) / distance) ** 2


def _tost_power(n: float, sides: list[tuple[float, float, float]], z_alpha: float) -> float:
    """Normal-approximation TOST power ``Phi(a_L) + Phi(a_U) - 1`` at ``n1 = n``."""
    total = sum(float(ndtr((d * math.sqrt(n) - z_alpha * s0) / s1)) for d, s0, s1 in sides)
    return total - (len(sides) - 1)


def _n1_exact(
    sides: list[tuple[float, float, float]],
    z_alpha: float,
    target: float,
    equivalence: EquivalenceFormula,
) -> float:
    beta = 1.0 - target
    one_sided = [_closed_form(s, z_alpha, float(ndtri(1 - beta))) for s in sides]
    if len(sides) == 1:
        return one_sided[0]
    halved = max(_closed_form(s, z_alpha, float(ndtri(1 - beta / 2))) for s in sides)
    if equivalence == "half-beta":
        return halved

    def gap(n: float) -> float:
        return _tost_power(n, sides, z_alpha) - target

    # the power is increasing in n, below target at the largest one-sided z_beta size and at
    # least target at the z_{beta/2} one (exactly target, up to rounding, at a midway truth)
    if gap(halved) <= 0.0:
        return halved
    return float(brentq(gap, max(one_sided), halved, xtol=1e-12, rtol=1e-15))


def normal_sample_size(
    p1: float,
    p2: float,
    *,
    margin: Margin,
    target_power: float = 0.8,
    level: float = 0.90,
    formula: NormalFormula = "farrington-manning",
    equivalence: EquivalenceFormula = "tost",
    allocation: tuple[int, int] = (1, 1),
    dropout: float = 0.0,
) -> NormalSampleSize:
    """Sample size for equivalence or non-inferiority of two proportions, normal approximation.

    Parameters
    ----------
    p1, p2
        True response probabilities of arm 1 (test) and arm 2 (reference), in (0, 1).
    margin
        A :class:`~equitrial.stats.equivalence.Margin` (difference or ratio; two-sided for
        equivalence, one-sided for non-inferiority or non-superiority). The true ``p1 - p2``
        (``p1 / p2``) must lie strictly inside it.
    target_power
        Power to reach, in (0, 1).
    level
        Two-sided confidence level of the interval of the analysis; each one-sided test is at
        ``alpha = (1 - level) / 2`` (0.90 -> 0.05, as for a TOST at 5 %).
    formula : {"farrington-manning", "unrestricted", "log"}
        ``"farrington-manning"`` (both scales): the score test's variance at the maximum
        likelihood estimates restricted to the margin bound under the null, at the true
        proportions under the alternative [1]_. ``"unrestricted"`` (difference only): the
        variance at the true proportions for both, Chow, Shao & Wang's §4.2 formula [2]_.
        ``"log"`` (ratio only): the Wald test on ``log(p1 / p2)`` with variance
        ``q1 / p1 + q2 / (k p2)`` per arm-1 patient.
    equivalence : {"tost", "half-beta"}
        How a two-sided margin's two tests share the type II error (ignored for a one-sided
        margin); see Notes.
    allocation
        ``(a1, a2)``, whole numbers: ``n2 = (a2 / a1) n1``.
    dropout
        Fraction in [0, 1) of enrolled patients expected not to be evaluable.

    Returns
    -------
    NormalSampleSize
        Unrounded and rounded-up evaluable sizes per arm, the sizes to enrol, and the inputs.

    Raises
    ------
    InvalidInputError
        A probability outside (0, 1), ``level`` or ``target_power`` outside (0, 1), a bad
        allocation or dropout, ``margin`` not a Margin (or a difference bound outside (-1, 1)),
        or a true effect not strictly inside the margin.
    UnknownOptionError
        ``formula`` unknown or not for the margin's scale; ``equivalence`` unknown.

    Notes
    -----
    With ``k = a2 / a1``, ``z_a`` the normal quantile of ``1 - alpha`` and, at a bound ``B``,
    the distance ``D`` of the truth from ``B`` (``|p1 - p2 - B|``; ``|p1 - B p2|`` for the
    Farrington–Manning ratio; ``|log(p1/p2) - log B|`` for ``"log"``), the one-sided test's
    power at ``n1`` is ``Phi((D sqrt(n1) - z_a s0) / s1)`` and the size for power ``1 - beta``
    is [1]_ ::

        n1 = (z_a s0 + z_beta s1)^2 / D^2,
        s0^2 = p1~ q1~ + p2~ q2~ / k   (ratio: p1~ q1~ + B^2 p2~ q2~ / k), restricted MLE at B,
        s1^2 = p1 q1 + p2 q2 / k       (ratio: p1 q1 + B^2 p2 q2 / k).

    Non-inferiority (or non-superiority) uses this at its one bound with ``z_beta``; it is the
    formula of rpact's ``getSampleSizeRates(thetaH0 = B)`` (checked to 1e-6).

    Equivalence needs both one-sided tests to reject; their normal-approximation power is
    ``Phi(a_L) + Phi(a_U) - 1``. ``"tost"`` solves that for ``n1`` (a root between the largest
    one-sided size at ``z_beta`` and the largest at ``z_{beta/2}``). ``"half-beta"`` is the
    closed form at ``z_{beta/2}`` for each bound, the larger of the two: exact when the truth is
    midway (the two terms equal, e.g. no true difference and a symmetric difference margin),
    conservative otherwise — Chow, Shao & Wang's equivalence formula, which uses ``z_{beta/2}``
    whatever the true difference (their example p1 = 0.75, p2 = 0.80, margin 0.2, alpha 0.05,
    power 0.8 gives 133 per group; ``"tost"`` gives 98 there (97.06): the far bound is 0.25 away).

    Sizes are rounded up per arm (``n2`` from the unrounded ``k n1``), then inflated for dropout:
    ``ceil(n / (1 - dropout))``.

    References
    ----------
    .. [1] Farrington CP, Manning G. Test statistics and sample size formulae for comparative
       binomial trials with null hypothesis of non-zero risk difference or non-unity relative
       risk. *Stat Med* 1990;9:1447-1454.
    .. [2] Chow SC, Shao J, Wang H. *Sample Size Calculations in Clinical Research*, 2nd ed.
       Chapman & Hall/CRC, 2008, §4.2 (two-sample proportions: non-inferiority and equivalence).
    """
    q1 = check_probability(p1, "p1", open_interval=True)
    q2 = check_probability(p2, "p2", open_interval=True)
    checked = check_margin(margin)
    lvl = check_level(level)
    alpha = (1.0 - lvl) / 2.0
    target = check_level(target_power, "target_power")
    form = _check_formula(formula, checked)
    how = cast(EquivalenceFormula, check_option(equivalence, _EQUIVALENCE, "equivalence"))
    a1, a2 = check_allocation(allocation)
    loss = check_dropout(dropout)
    check_true_effect(q1, q2, checked)
    k = a2 / a1
    bounds = [
        b
        for b, present in (
            (checked.lower, checked.bounded_below),
            (checked.upper, checked.bounded_above),
        )
        if present
    ]
    sides = [_side(q1, q2, k, b, checked, form) for b in bounds]
    n1_exact = _n1_exact(sides, float(ndtri(1.0 - alpha)), target, how)
    n1, n2 = ceil_size(n1_exact), ceil_size(k * n1_exact)
    return NormalSampleSize(
        n1,
        n2,
        enrolled(n1, loss),
        enrolled(n2, loss),
        n1_exact,
        k * n1_exact,
        q1,
        q2,
        checked,
        lvl,
        target,
        form,
        how,
        (a1, a2),
        loss,
    )


def _check_formula(formula: object, margin: Margin) -> NormalFormula:
    allowed = _FORMULAS[margin.scale]
    return cast(NormalFormula, check_scale_option(formula, allowed, "formula", margin.scale))
