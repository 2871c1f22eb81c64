"""Spending functions and the root finding behind :func:`equitrial.design.sequential.boundaries`.

Arguments arrive validated (information rates strictly increasing in (0, 1] and ending at 1,
alpha in (0, 0.5)); nothing here checks them again.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from equitrial.design._sequential_integration import (
    Stage,
    cross_above,
    cross_below,
    initial_stage,
    next_stage,
)
from equitrial.errors import ConvergenceError

__all__ = [
    "crossing_probabilities",
    "solve_classical",
    "solve_drift",
    "solve_spending",
    "spending_values",
]

FloatArray = NDArray[np.float64]

_XTOL = 1e-12


def _upper_quantile(p: float) -> float:
    """``Phi^{-1}(1 - p)``, accurate for small ``p``; ``inf`` for ``p <= 0``."""
    return math.inf if p <= 0.0 else -float(ndtri(p))


def spending_values(t: FloatArray, alpha: float, spending: str, gamma: float | None) -> FloatArray:
    """Cumulative alpha spent at information rates ``t`` by a Lan–DeMets spending function.

    ``obrien-fleming``: ``2 - 2 Phi(z_{alpha/2} / sqrt(t))`` (rpact ``asOF`` for a one-sided
    design, which keeps ``alpha / 2`` inside the quantile); ``pocock``:
    ``alpha log(1 + (e - 1) t)``; ``hwang-shih-decani``:
    ``alpha (1 - exp(-gamma t)) / (1 - exp(-gamma))``, ``alpha t`` for ``gamma = 0``. The value
    at ``t = 1`` is set to ``alpha`` exactly.
    """
    if spending == "obrien-fleming":
        values = 2.0 * ndtr(-_upper_quantile(alpha / 2.0) / np.sqrt(t))
    elif spending == "pocock":
        values = alpha * np.log1p((math.e - 1.0) * t)
    else:
        values = alpha * _hsd_fraction(t, 0.0 if gamma is None else gamma)
    out = np.minimum(np.asarray(values, dtype=np.float64), alpha)
    out[t == 1.0] = alpha
    return out


def _hsd_fraction(t: FloatArray, gamma: float) -> FloatArray:
    """``(1 - exp(-gamma t)) / (1 - exp(-gamma))`` without overflow for any finite gamma."""
    if gamma == 0.0:
        return t.astype(np.float64)
    if gamma > 0.0:
        return np.asarray(np.expm1(-gamma * t) / math.expm1(-gamma), dtype=np.float64)
    h = -gamma  # multiply through by exp(-h): exp(-h (1 - t)) (1 - exp(-h t)) / (1 - exp(-h))
    return np.asarray(np.exp(-h * (1.0 - t)) * np.expm1(-h * t) / math.expm1(-h), np.float64)


def _brentq(f: Callable[[float], float], lo: float, hi: float, what: str) -> float:
    """Root of ``f`` on ``[lo, hi]``; raise :class:`ConvergenceError` without a sign change."""
    f_lo, f_hi = f(lo), f(hi)
    if f_lo == 0.0:
        return lo
    if f_hi == 0.0:
        return hi
    if (f_lo > 0.0) == (f_hi > 0.0):
        raise ConvergenceError(f"no root bracketed while solving for {what} in [{lo}, {hi}]")
    return float(brentq(f, lo, hi, xtol=_XTOL, rtol=4 * np.finfo(float).eps, maxiter=200))


def solve_spending(t: FloatArray, cumulative: FloatArray) -> FloatArray:
    """Efficacy boundaries spending ``cumulative`` alpha at ``t``, stage by stage, under H0.

    At stage ``k`` the boundary ``b`` solves ``P(no earlier crossing, Z_k > b) = a_k - a_{k-1}``.
    The root lies between ``Phi^{-1}(1 - a_k)`` (there the probability is at least the increment,
    because ``P(Z_k > b) - a_{k-1}`` bounds it from below) and ``Phi^{-1}(1 - (a_k - a_{k-1}))``
    (there it is at most the increment); both are widened by 0.5 against integration error.
    A zero increment gives an infinite boundary (no rejection possible at that stage).
    """
    bounds = np.empty(t.size)
    stage = initial_stage()
    spent = 0.0
    for k, (tk, target) in enumerate(zip(t, cumulative, strict=True)):
        increment = float(target) - spent
        bounds[k] = _stage_bound(stage, float(tk), increment, float(target), k)
        spent = float(target)
        if k < t.size - 1:
            stage = next_stage(stage, float(tk), 0.0, -math.inf, float(bounds[k]))
    return bounds


def _stage_bound(stage: Stage, t: float, increment: float, cumulative: float, k: int) -> float:
    if increment <= 0.0:
        return math.inf
    if stage.t == 0.0:
        return _upper_quantile(increment)

    def excess(b: float) -> float:
        return cross_above(stage, t, 0.0, b) - increment

    lo = _upper_quantile(cumulative) - 0.5
    hi = _upper_quantile(increment) + 0.5
    return _brentq(excess, lo, hi, f"the critical value of stage {k + 1}")


def crossing_probabilities(
    t: FloatArray, upper: FloatArray, lower: FloatArray, drift: float
) -> tuple[FloatArray, FloatArray]:
    """Stage-wise probabilities of first crossing ``upper`` (efficacy) and ``lower`` (futility).

    ``lower`` has one entry per stage; use ``-inf`` for no lower boundary. The last stage's
    lower crossing is not computed (returned as 0): there every path stops.
    """
    above = np.zeros(t.size)
    below = np.zeros(t.size)
    stage = initial_stage()
    for k in range(t.size):
        tk = float(t[k])
        above[k] = cross_above(stage, tk, drift, float(upper[k]))
        if k < t.size - 1:
            below[k] = cross_below(stage, tk, drift, float(lower[k]))
            stage = next_stage(stage, tk, drift, float(lower[k]), float(upper[k]))
    return above, below


def solve_classical(t: FloatArray, alpha: float, shape: FloatArray) -> FloatArray:
    """Boundaries ``c * shape`` with ``c`` such that the total one-sided level is ``alpha``.

    ``shape`` is ``1 / sqrt(t)`` for O'Brien & Fleming, ones for Pocock. Since ``shape >= 1``
    with ``shape_K = 1``, ``c`` lies between ``Phi^{-1}(1 - alpha)`` (the last stage alone) and
    ``Phi^{-1}(1 - alpha / K)`` (Bonferroni).
    """
    no_lower = np.full(t.size, -math.inf)
    lo, hi = _upper_quantile(alpha), _upper_quantile(alpha / t.size)
    if t.size == 1:
        return np.array([lo])

    def excess(c: float) -> float:
        above, _ = crossing_probabilities(t, c * shape, no_lower, 0.0)
        return float(above.sum()) - alpha

    c = _brentq(excess, lo - 1e-9, hi + 1e-9, "the classical boundary constant")
    return np.asarray(c * shape, dtype=np.float64)


def solve_drift(
    t: FloatArray, upper: FloatArray, lower: FloatArray, power: float, start: float
) -> float:
    """The drift ``E[Z_K]`` at which the design rejects with probability ``power``.

    The rejection probability increases with the drift; the bracket starts at
    ``[0, start]`` and doubles its upper end until the power is passed.
    """

    def excess(drift: float) -> float:
        above, _ = crossing_probabilities(t, upper, lower, drift)
        return float(above.sum()) - power

    hi = start
    while excess(hi) < 0.0:
        hi *= 2.0
        if hi > 1e3:
            raise ConvergenceError(f"no drift reaches power {power} (tried up to {hi})")
    return _brentq(excess, 0.0, hi, "the drift for the requested power")
