"""Confidence intervals for the difference and the ratio of two independent proportions."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equitrial.stats._interval import Interval, two_sided_z
from equitrial.stats._proportions_mn import mn_difference_limits, mn_ratio_limits
from equitrial.stats._proportions_single import wilson_limits
from equitrial.stats._validation import check_count, check_level, check_option

__all__ = [
    "DifferenceMethod",
    "RatioMethod",
    "agresti_caffo_limits",
    "check_two_arms",
    "difference_ci",
    "katz_limits",
    "newcombe_limits",
    "ratio_ci",
    "wald_limits",
]

FloatArray = NDArray[np.float64]
Limits = tuple[FloatArray, FloatArray]

DifferenceMethod = Literal["miettinen-nurminen", "newcombe", "wald", "agresti-caffo"]
_DIFFERENCE_METHODS = ("miettinen-nurminen", "newcombe", "wald", "agresti-caffo")
RatioMethod = Literal["miettinen-nurminen", "log"]
_RATIO_METHODS = ("miettinen-nurminen", "log")


def check_two_arms(x1: Any, n1: Any, x2: Any, n2: Any) -> tuple[int, int, int, int]:
    """Validate the counts of two arms; errors name ``x1``, ``n1``, ``x2`` or ``n2``."""
    a, m = check_count(x1, n1, x_name="x1", n_name="n1")
    c, k = check_count(x2, n2, x_name="x2", n_name="n2")
    return a, m, c, k


def _clip_diff(value: float) -> float:
    return min(1.0, max(-1.0, value))


def _centre_spread(
    c1: FloatArray, v1: FloatArray, c2: FloatArray, v2: FloatArray, z: float
) -> Limits:
    half = z * np.sqrt(v1 + v2)
    centre = c1 - c2
    return centre - half, centre + half


def wald_limits(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, z: float) -> Limits:
    """Wald limits of ``p1 - p2``, elementwise over broadcast arrays (not truncated)."""
    p1, p2 = _ratio(x1, n1), _ratio(x2, n2)
    m, k = _f(n1), _f(n2)
    return _centre_spread(p1, p1 * (1 - p1) / m, p2, p2 * (1 - p2) / k, z)


def agresti_caffo_limits(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, z: float
) -> Limits:
    """Agresti–Caffo limits of ``p1 - p2`` (one success and one failure added to each arm)."""
    m, k = _f(n1) + 2, _f(n2) + 2
    p1, p2 = (_f(x1) + 1) / m, (_f(x2) + 1) / k
    return _centre_spread(p1, p1 * (1 - p1) / m, p2, p2 * (1 - p2) / k, z)


def newcombe_limits(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, z: float) -> Limits:
    """Newcombe's hybrid score limits of ``p1 - p2`` (method 10), elementwise."""
    p1, p2 = _ratio(x1, n1), _ratio(x2, n2)
    l1, u1 = wilson_limits(x1, n1, z)
    l2, u2 = wilson_limits(x2, n2, z)
    d = p1 - p2
    return d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt(
        (u1 - p1) ** 2 + (p2 - l2) ** 2
    )


def katz_limits(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, z: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Katz log estimate and limits of ``p1 / p2``, elementwise.

    Where one count (not both) is 0, 0.5 is added to every cell of the 2x2 table (``x + 0.5``
    successes of ``n + 1``); where both are 0 the estimate is NaN and the limits ``(0, inf)``.
    """
    a, m, c, k = np.broadcast_arrays(_f(x1), _f(n1), _f(x2), _f(n2))
    zero = (a == 0) | (c == 0)
    a, m = np.where(zero, a + 0.5, a), np.where(zero, m + 1.0, m)
    c, k = np.where(zero, c + 0.5, c), np.where(zero, k + 1.0, k)
    estimate = (a / m) / (c / k)
    se = np.sqrt(1.0 / a - 1.0 / m + 1.0 / c - 1.0 / k)
    lower, upper = estimate * np.exp(-z * se), estimate * np.exp(z * se)
    both = (_f(x1) == 0) & (_f(x2) == 0)
    return (
        np.where(both, np.nan, estimate),
        np.where(both, 0.0, lower),
        np.where(both, np.inf, upper),
    )


def _f(value: ArrayLike) -> FloatArray:
    return np.asarray(value, dtype=np.float64)


def _ratio(x: ArrayLike, n: ArrayLike) -> FloatArray:
    return _f(x) / _f(n)


def _scalar_limits(limits: Limits, clip: bool) -> tuple[float, float]:
    lower, upper = float(limits[0]), float(limits[1])
    return (_clip_diff(lower), _clip_diff(upper)) if clip else (lower, upper)


def difference_ci(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    *,
    level: float = 0.95,
    method: DifferenceMethod = "miettinen-nurminen",
) -> Interval:
    """Confidence interval for the difference ``p1 - p2`` of two independent proportions.

    Parameters
    ----------
    x1, n1 : int
        Successes and trials in arm 1 (``0 <= x1 <= n1``, ``n1 >= 1``).
    x2, n2 : int
        Successes and trials in arm 2.
    level : float, default 0.95
        Two-sided confidence level, in (0, 1).
    method : {"miettinen-nurminen", "newcombe", "wald", "agresti-caffo"}
        ``"miettinen-nurminen"``: the score interval of [1]_ — the set of ``delta`` whose score
        statistic ``(p1^ - p2^ - delta) / sqrt(V~)`` lies within ``+-z``, with ``V~`` the
        binomial variance at the maximum likelihood estimates restricted to
        ``p1 - p2 = delta`` (closed-form cubic root [2]_) times ``N / (N - 1)``, ``N = n1 + n2``;
        limits by bisection to about 1e-14.
        ``"newcombe"``: the hybrid score interval from the two Wilson intervals, method 10 of [3]_.
        ``"wald"``: ``p1^ - p2^ -/+ z * sqrt(p1^ q1^ / n1 + p2^ q2^ / n2)``, truncated to [-1, 1].
        ``"agresti-caffo"``: the Wald interval after adding one success and one failure to each
        arm [4]_, truncated to [-1, 1].

    Returns
    -------
    Interval
        ``estimate = x1/n1 - x2/n2`` for every method, the limits (in [-1, 1]), ``level`` and
        ``method``.

    Raises
    ------
    InvalidInputError
        A count not a whole number, ``n1`` or ``n2`` below 1, ``x1`` or ``x2`` outside
        ``[0, n]``, or ``level`` outside (0, 1); the message names the argument.
    UnknownOptionError
        ``method`` is not one of those listed.

    Notes
    -----
    Zero cells and ``x = n`` need no special case in any method:

    - Miettinen–Nurminen: ``x1 = n1, x2 = 0`` gives upper limit exactly 1 (``x1 = 0, x2 = n2``
      lower limit exactly -1), as in Newcombe's Table II (10/10 - 0/20: 0.7156, 1).
    - Newcombe: the Wilson limits are defined at 0 and ``n``.
    - Wald: zero width when both proportions are 0 or 1 (``10/10 - 0/20`` gives ``(1, 1)``,
      Newcombe's Table II), a known defect of that method.
    - Agresti–Caffo: the interval is centred on the adjusted difference, not on ``estimate``.
      At levels of 0.95 and above it contains ``estimate`` (checked for all arms of up to 40
      patients; the margin grows with n); at lower levels it can miss it with one or two
      patients per arm (0/1 - 1/1 at 90%: estimate -1, interval (-0.966, 0.300)).

    Reversing the arms reverses the interval: ``difference_ci(x2, n2, x1, n1)`` has limits
    ``(-upper, -lower)``, for every method.

    References
    ----------
    .. [1] Miettinen O, Nurminen M. Comparative analysis of two rates. *Stat Med*
       1985;4:213-226.
    .. [2] Farrington CP, Manning G. Test statistics and sample size formulae for comparative
       binomial trials with null hypothesis of non-zero risk difference or non-unity relative
       risk. *Stat Med* 1990;9:1447-1454.
    .. [3] Newcombe RG. Interval estimation for the difference between independent proportions:
       comparison of eleven methods. *Stat Med* 1998;17:873-890.
    .. [4] Agresti A, Caffo B. Simple and effective confidence intervals for proportions and
       differences of proportions result from adding two successes and two failures. *Am Stat*
       2000;54:280-288.
    """
    a, m, c, k = check_two_arms(x1, n1, x2, n2)
    lvl = check_level(level)
    name = check_option(method, _DIFFERENCE_METHODS, "method")
    z = two_sided_z(lvl)
    if name == "miettinen-nurminen":
        lo, hi = mn_difference_limits(a, m, c, k, lvl)
        lower, upper = float(lo), float(hi)
    elif name == "newcombe":
        lower, upper = _scalar_limits(newcombe_limits(a, m, c, k, z), clip=False)
    elif name == "wald":
        lower, upper = _scalar_limits(wald_limits(a, m, c, k, z), clip=True)
    else:
        lower, upper = _scalar_limits(agresti_caffo_limits(a, m, c, k, z), clip=True)
    return Interval(a / m - c / k, lower, upper, lvl, name)


def ratio_ci(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    *,
    level: float = 0.95,
    method: RatioMethod = "miettinen-nurminen",
) -> Interval:
    """Confidence interval for the ratio ``p1 / p2`` of two independent proportions.

    Parameters
    ----------
    x1, n1 : int
        Successes and trials in arm 1 (``0 <= x1 <= n1``, ``n1 >= 1``).
    x2, n2 : int
        Successes and trials in arm 2.
    level : float, default 0.95
        Two-sided confidence level, in (0, 1).
    method : {"miettinen-nurminen", "log"}
        ``"miettinen-nurminen"``: the score interval of [1]_ — the set of ``phi`` whose score
        statistic ``(p1^ - phi p2^) / sqrt(V~)`` lies within ``+-z``, with
        ``V~ = (p1~ q1~ / n1 + phi^2 p2~ q2~ / n2) N / (N - 1)`` at the maximum likelihood
        estimates restricted to ``p1 = phi p2`` (closed-form quadratic root [2]_); limits by
        bisection on ``log(phi)``.
        ``"log"``: the Katz log interval [3]_,
        ``exp(log(phi^) -/+ z sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2))`` (epiR's Wald risk ratio).

    Returns
    -------
    Interval
        ``estimate``, the limits (``0 <= lower <= upper <= inf``), ``level`` and ``method``.

    Raises
    ------
    InvalidInputError
        A count not a whole number, ``n1`` or ``n2`` below 1, ``x1`` or ``x2`` outside
        ``[0, n]``, or ``level`` outside (0, 1); the message names the argument.
    UnknownOptionError
        ``method`` is not one of those listed.

    Notes
    -----
    Zero cells:

    - ``x1 = 0 < x2``, Miettinen–Nurminen: estimate 0, lower limit 0, finite upper limit.
    - ``x2 = 0 < x1``, Miettinen–Nurminen: estimate ``inf``, finite lower limit, upper ``inf``.
    - ``x1 = 0`` or ``x2 = 0`` (not both), log: the Katz variance is infinite, so 0.5 is added to
      each of the four cells of the 2x2 table (``x + 0.5`` successes of ``n + 1``), the
      convention of the Cochrane Handbook and RevMan; the estimate is then that of the
      corrected table, so that the interval contains it.
    - ``x1 = x2 = 0``, both methods: no event in either arm says nothing about the ratio. The
      estimate 0/0 is undefined and returned as ``nan``, and the interval is the whole parameter
      space ``(0, inf)`` (every ratio is consistent with the data; it is also the set of ``phi``
      the score test does not reject). This is the one documented ``nan``: an equivalence
      decision on such an interval correctly fails, and a caller can test
      ``math.isnan(result.estimate)``.
    - ``x1 = n1`` and ``x2 = n2``: log gives the zero-width interval ``(1, 1)`` (its variance is
      0); the score interval is not degenerate.

    Reversing the arms inverts the interval: ``ratio_ci(x2, n2, x1, n1)`` has limits
    ``(1 / upper, 1 / lower)``.

    References
    ----------
    .. [1] Miettinen O, Nurminen M. Comparative analysis of two rates. *Stat Med*
       1985;4:213-226.
    .. [2] Farrington CP, Manning G. Test statistics and sample size formulae for comparative
       binomial trials with null hypothesis of non-zero risk difference or non-unity relative
       risk. *Stat Med* 1990;9:1447-1454.
    .. [3] Katz D, Baptista J, Azen SP, Pike MC. Obtaining confidence intervals for the risk
       ratio in cohort studies. *Biometrics* 1978;34:469-474.
    """
    a, m, c, k = check_two_arms(x1, n1, x2, n2)
    lvl = check_level(level)
    name = check_option(method, _RATIO_METHODS, "method")
    if a == 0 and c == 0:
        return Interval(math.nan, 0.0, math.inf, lvl, name)
    if name == "log":
        katz = katz_limits(a, m, c, k, two_sided_z(lvl))
        return Interval(float(katz[0]), float(katz[1]), float(katz[2]), lvl, name)
    lo, hi = mn_ratio_limits(a, m, c, k, lvl)
    estimate = math.inf if c == 0 else (a / m) / (c / k)
    return Interval(estimate, float(lo), float(hi), lvl, name)
