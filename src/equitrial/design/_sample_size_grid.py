"""Which outcomes ``(x1, x2)`` of a two-arm trial show equivalence: the vectorized decision grid.

:func:`pass_grid` returns, for every pair of counts ``x1`` in arm 1 and ``x2`` in arm 2, whether
the two-sided ``level`` interval of the chosen method lies strictly inside the margin, exactly as
:func:`equitrial.stats.equivalence.assess` decides it on the interval that
:func:`equitrial.stats.proportions.difference_ci` or :func:`~equitrial.stats.proportions.ratio_ci`
returns. Exact power is then ``pmf1 @ grid @ pmf2`` (:func:`grid_power`).

- Miettinen–Nurminen: no limits are computed. The score statistic ``T`` of the stats package is
  decreasing in the difference (ratio), and its interval is ``{theta: -z <= T(theta) <= z}``, so
  the interval lies strictly inside ``(L, U)`` iff ``T(L) > z`` and ``T(U) < -z``. ``T`` is NaN
  only at the estimate when it is 0/0 (both proportions 0 or 1, or ``x1 = x2 = 0`` for a ratio);
  a NaN comparison is False, which fails the bound, as the interval there reaches the bound.
- Newcombe, Wald, Agresti–Caffo and log (Katz): the vectorized limit functions behind the
  interval functions of :mod:`equitrial.stats.proportions`, broadcast over the grid (arm-1
  counts as a column, arm-2 counts as a row), then compared strictly.

The exhaustive test in ``tests/design/test_sample_size_grid.py`` checks every outcome of small
trials against the slow path (interval function, then ``assess``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binom

from equitrial.design._sample_size_checks import IntervalMethod
from equitrial.stats._interval import two_sided_z
from equitrial.stats._proportions_mn import diff_score, ratio_score
from equitrial.stats._proportions_two import (
    agresti_caffo_limits,
    katz_limits,
    newcombe_limits,
    wald_limits,
)
from equitrial.stats.equivalence import Margin

__all__ = ["PRUNE_RELATIVE", "arm_support", "grid_power", "pass_grid"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Limits = tuple[FloatArray, FloatArray]

# outcomes of one arm whose pmf is below this fraction of the arm's largest pmf are dropped; the
# dropped mass is at most (n + 1) * 1e-15 per arm
PRUNE_RELATIVE = 1e-15


def _column(values: FloatArray) -> FloatArray:
    return values[:, np.newaxis]


def _scalar(value: float) -> FloatArray:
    return np.asarray(value, dtype=np.float64)


def _inside(lower: FloatArray, upper: FloatArray, margin: Margin) -> BoolArray:
    """``assess``'s rule: an absent bound is no constraint, a present one is strict."""
    ok = np.ones(np.broadcast_shapes(lower.shape, upper.shape), dtype=bool)
    if margin.bounded_below:
        ok &= lower > margin.lower
    if margin.bounded_above:
        ok &= upper < margin.upper
    return ok


def _score_grid(
    x1: FloatArray, n1: int, x2: FloatArray, n2: int, margin: Margin, z: float
) -> BoolArray:
    kernel = diff_score if margin.scale == "difference" else ratio_score
    a, m, c, k = _column(x1), _scalar(n1), x2[np.newaxis, :], _scalar(n2)
    ok = np.ones((x1.size, x2.size), dtype=bool)
    if margin.bounded_below:
        ok &= kernel(_scalar(margin.lower), a, m, c, k, mn=True) > z
    if margin.bounded_above:
        ok &= kernel(_scalar(margin.upper), a, m, c, k, mn=True) < -z
    return ok


def _log(x1: FloatArray, n1: FloatArray, x2: FloatArray, n2: FloatArray, z: float) -> Limits:
    _, lower, upper = katz_limits(x1, n1, x2, n2, z)
    return lower, upper


# the interval functions of equitrial.stats, broadcast over (arm-1 column, arm-2 row)
_LIMITS: dict[str, Callable[[FloatArray, FloatArray, FloatArray, FloatArray, float], Limits]] = {
    "newcombe": newcombe_limits,
    "wald": wald_limits,
    "agresti-caffo": agresti_caffo_limits,
    "log": _log,
}


def pass_grid(
    x1: FloatArray,
    n1: int,
    x2: FloatArray,
    n2: int,
    *,
    margin: Margin,
    method: IntervalMethod,
    level: float,
) -> BoolArray:
    """Boolean ``(len(x1), len(x2))`` grid: does outcome ``(x1[i], x2[j])`` show equivalence?

    Arguments are not validated (the public functions do that); ``x1``, ``x2`` are float arrays
    of counts in ``[0, n1]``, ``[0, n2]``.
    """
    z = two_sided_z(level)
    if method == "miettinen-nurminen":
        return _score_grid(x1, n1, x2, n2, margin, z)
    a, m, c, k = _column(x1), _scalar(n1), x2[np.newaxis, :], _scalar(n2)
    lower, upper = _LIMITS[method](a, m, c, k, z)
    return _inside(lower, upper, margin)


def arm_support(p: float, n: int, *, prune: bool = True) -> tuple[FloatArray, FloatArray]:
    """Counts ``x`` of one arm and their binomial pmf, without negligible ones if ``prune``.

    With ``prune`` the counts whose pmf is below :data:`PRUNE_RELATIVE` times the largest are
    dropped (they sit in the two tails, so the kept counts stay contiguous).
    """
    x = np.arange(n + 1, dtype=np.float64)
    pmf = np.asarray(binom.pmf(x, n, p), dtype=np.float64)
    if prune:
        keep = pmf >= PRUNE_RELATIVE * pmf.max()
        return x[keep], pmf[keep]
    return x, pmf


def grid_power(pmf1: FloatArray, grid: BoolArray, pmf2: FloatArray) -> float:
    """``sum_ij pmf1[i] grid[i, j] pmf2[j]``, clipped to [0, 1] against rounding."""
    power = float(pmf1 @ grid.astype(np.float64) @ pmf2)
    return min(1.0, max(0.0, power))
