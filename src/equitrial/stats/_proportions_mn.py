"""Vectorized Miettinen–Nurminen score intervals: the one implementation behind the public API.

Everything here works on numpy arrays (broadcast against each other) so that a caller can ask for
many intervals at once, e.g. every outcome ``(x1, x2)`` of a trial when computing exact power.
The public functions in :mod:`equitrial.stats.proportions` validate their arguments and call
these cores with arrays of one element; the cores themselves do not validate (counts must be
whole, ``0 <= x <= n``, ``n >= 1``).

The limits are the roots of the score statistic, found by bisection run on all elements at once
until the bracket is narrower than about ``1e-14`` relative (``1e-17`` absolute), at most
:data:`_MAX_ITER` halvings.

References
----------
.. [1] Miettinen O, Nurminen M. Comparative analysis of two rates. *Stat Med* 1985;4:213-226.
   The score statistics for the difference and the ratio with the variance factor
   ``N / (N - 1)``, and their stratified form.
.. [2] Farrington CP, Manning G. Test statistics and sample size formulae for comparative binomial
   trials with null hypothesis of non-zero risk difference or non-unity relative risk. *Stat Med*
   1990;9:1447-1454. Closed-form restricted maximum likelihood estimates: the cubic for the
   difference and the quadratic for the ratio.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equitrial.stats._interval import two_sided_z

__all__ = [
    "diff_restricted_mle",
    "diff_score",
    "mn_difference_limits",
    "mn_ratio_limits",
    "mn_stratified_difference_limits",
    "ratio_restricted_mle",
    "ratio_score",
]

FloatArray = NDArray[np.float64]

_MAX_ITER = 200
_REL_TOL = 1e-14
_ABS_TOL = 1e-17
# log-ratio search range: exp(+-60) is far beyond any ratio limit of counts below ~1e25
_LOG_BOUND = 60.0


def _as_float(*arrays: ArrayLike) -> tuple[FloatArray, ...]:
    return tuple(np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*arrays))


def _bisect(
    goes_right: Callable[[FloatArray], NDArray[np.bool_]], lo: FloatArray, hi: FloatArray
) -> FloatArray:
    """Shrink ``[lo, hi]`` elementwise onto the point where ``goes_right`` turns False.

    ``goes_right(t)`` is True where the root lies to the right of ``t``. Where ``lo == hi`` on
    entry the answer is that common value.
    """
    lo = lo.copy()
    hi = hi.copy()
    for _ in range(_MAX_ITER):
        width = hi - lo
        if np.all(width <= np.maximum(_REL_TOL * np.maximum(np.abs(lo), np.abs(hi)), _ABS_TOL)):
            break
        mid = 0.5 * (lo + hi)
        right = goes_right(mid)
        lo = np.where(right, mid, lo)
        hi = np.where(right, hi, mid)
    return 0.5 * (lo + hi)


# --- difference p1 - p2 ---------------------------------------------------------------------


def diff_restricted_mle(
    delta: FloatArray, x1: FloatArray, n1: FloatArray, x2: FloatArray, n2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Maximum likelihood estimates of ``(p1, p2)`` under ``p1 - p2 = delta``.

    The closed-form root of the likelihood cubic (Farrington & Manning 1990; Miettinen &
    Nurminen 1985): with ``p1 = x1/n1``, ``p2 = x2/n2``,
    ``theta = n2 / n1``::

        a = 1 + theta
        b = -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
        c = delta**2 + delta * (2 * p1 + theta + 1) + p1 + theta * p2
        d = -p1 * delta * (1 + delta)
        v = b**3 / (3a)**3 - b c / (6 a**2) + d / (2 a)
        u = sign(v) * sqrt(b**2 / (3a)**2 - c / (3a))
        w = (pi + arccos(v / u**3)) / 3
        p1~ = 2 u cos(w) - b / (3a),   p2~ = p1~ - delta

    ``v / u**3`` is clipped to [-1, 1] against rounding, ``u = 0`` (a triple root) gives
    ``-b / (3a)``, and ``p1~`` is clipped to the parameter space ``[max(0, delta),
    min(1, 1 + delta)]``. Near a double root of the cubic the arccos loses up to half the digits,
    so one Newton step on the likelihood equation itself follows (:func:`_newton_polish`).
    """
    p1 = x1 / n1
    p2 = x2 / n2
    theta = n2 / n1
    a = 1.0 + theta
    b = -(1.0 + theta + p1 + theta * p2 + delta * (theta + 2.0))
    c = delta * delta + delta * (2.0 * p1 + theta + 1.0) + p1 + theta * p2
    d = -p1 * delta * (1.0 + delta)
    v = b**3 / (3.0 * a) ** 3 - b * c / (6.0 * a * a) + d / (2.0 * a)
    u = np.where(v >= 0.0, 1.0, -1.0) * np.sqrt(
        np.maximum(b * b / (3.0 * a) ** 2 - c / (3.0 * a), 0.0)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        cos_arg = np.where(u == 0.0, 0.0, np.clip(v / u**3, -1.0, 1.0))
    w = (np.pi + np.arccos(cos_arg)) / 3.0
    low = np.maximum(0.0, delta)
    high = np.minimum(1.0, 1.0 + delta)
    mle1 = np.clip(2.0 * u * np.cos(w) - b / (3.0 * a), low, high)
    mle1 = _newton_polish(mle1, delta, x1, n1, x2, n2, low, high)
    return mle1, mle1 - delta


def _newton_polish(
    m: FloatArray,
    delta: FloatArray,
    x1: FloatArray,
    n1: FloatArray,
    x2: FloatArray,
    n2: FloatArray,
    low: FloatArray,
    high: FloatArray,
) -> FloatArray:
    """One Newton step on ``g(p) = x1/p - (n1-x1)/(1-p) + x2/(p-delta) - (n2-x2)/(1-p+delta)``.

    ``g`` is strictly decreasing on the parameter space, so the step is well defined; terms with
    a zero count are dropped (they are 0), a non-finite step (at a boundary) leaves ``m`` as it
    is, and the result is clipped to ``[low, high]``.
    """
    parts = ((x1, m), (n1 - x1, 1.0 - m), (x2, m - delta), (n2 - x2, 1.0 - m + delta))
    g = np.zeros_like(m)
    slope = np.zeros_like(m)
    with np.errstate(divide="ignore", invalid="ignore"):
        for sign, (count, prob) in zip((1.0, -1.0, 1.0, -1.0), parts, strict=True):
            g = g + sign * np.where(count > 0.0, count / prob, 0.0)
            slope = slope - np.where(count > 0.0, count / (prob * prob), 0.0)
        step = g / slope
    return np.clip(np.where(np.isfinite(step), m - step, m), low, high)


def _mn_factor(n1: FloatArray, n2: FloatArray, mn: bool) -> FloatArray | float:
    """Miettinen & Nurminen's ``N / (N - 1)`` variance factor, or 1 for Farrington–Manning."""
    return (n1 + n2) / (n1 + n2 - 1.0) if mn else 1.0


def _diff_variance(
    delta: FloatArray,
    x1: FloatArray,
    n1: FloatArray,
    x2: FloatArray,
    n2: FloatArray,
    mn: bool = True,
) -> FloatArray:
    """Variance of ``p1^ - p2^`` at the MLE restricted to ``delta`` (times N/(N-1) if ``mn``)."""
    q1, q2 = diff_restricted_mle(delta, x1, n1, x2, n2)
    var: FloatArray = (q1 * (1.0 - q1) / n1 + q2 * (1.0 - q2) / n2) * _mn_factor(n1, n2, mn)
    return np.maximum(var, 0.0)


def diff_score(
    delta: FloatArray,
    x1: FloatArray,
    n1: FloatArray,
    x2: FloatArray,
    n2: FloatArray,
    mn: bool = True,
) -> FloatArray:
    """Score statistic ``(p1^ - p2^ - delta) / sqrt(V~(delta))``.

    With ``mn`` (default) the variance carries Miettinen & Nurminen's (1985) ``N / (N - 1)``
    factor; without it this is Farrington & Manning's (1990) statistic. NaN where numerator and
    variance are both zero (only at ``delta = p1^ - p2^``), +-inf where only the variance is zero.
    """
    var = _diff_variance(delta, x1, n1, x2, n2, mn)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((x1 / n1 - x2 / n2 - delta) / np.sqrt(var), dtype=np.float64)


def mn_difference_limits(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, level: float
) -> tuple[FloatArray, FloatArray]:
    """Miettinen–Nurminen limits for ``p1 - p2``, elementwise over broadcast arrays.

    The lower limit is the root of ``T(delta) = z`` in ``[-1, d]`` and the upper limit the root of
    ``T(delta) = -z`` in ``[d, 1]``, ``d = x1/n1 - x2/n2``, ``z`` the normal quantile of
    ``(1 + level) / 2``. ``T`` tends to ``+inf`` at ``delta -> -1`` and ``-inf`` at ``delta -> 1``
    unless ``d`` is that bound, in which case the limit is the bound itself (``10/10 - 0/20`` has
    upper limit exactly 1). ``T(d) = 0`` (it is 0/0 when both proportions are 0 or 1: the
    bisection treats that NaN as 0, which is its limit).
    """
    fx1, fn1, fx2, fn2 = _as_float(x1, n1, x2, n2)
    z = two_sided_z(level)
    d = fx1 / fn1 - fx2 / fn2
    lower = _bisect(lambda t: diff_score(t, fx1, fn1, fx2, fn2) > z, np.full_like(d, -1.0), d)
    upper = _bisect(lambda t: ~(diff_score(t, fx1, fn1, fx2, fn2) < -z), d, np.full_like(d, 1.0))
    return lower, upper


# --- stratified difference ------------------------------------------------------------------


def _stratified_score(
    delta: FloatArray,
    x1: FloatArray,
    n1: FloatArray,
    x2: FloatArray,
    n2: FloatArray,
) -> FloatArray:
    """``sum_h w_h (d_h - delta) / sqrt(sum_h w_h^2 V~_h(delta))``, strata on the last axis."""
    w = n1 * n2 / (n1 + n2)
    dd = delta[..., np.newaxis]
    var = _diff_variance(dd, x1, n1, x2, n2)
    num = np.sum(w * (x1 / n1 - x2 / n2 - dd), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(num / np.sqrt(np.sum(w * w * var, axis=-1)), dtype=np.float64)


def mn_stratified_difference_limits(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, level: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Stratified MN estimate and limits for a common ``p1 - p2``; strata on the last axis.

    Weights are the Cochran–Mantel–Haenszel ``w_h = n1h n2h / (n1h + n2h)``; the estimate is
    ``sum w_h d_h / sum w_h`` and the limits solve ``Z(delta) = +-z`` for the stratified score
    ``Z`` above, each stratum's variance at its own restricted MLE under the common ``delta``.
    Returns ``(estimate, lower, upper)`` with the strata axis removed.
    """
    fx1, fn1, fx2, fn2 = _as_float(x1, n1, x2, n2)
    z = two_sided_z(level)
    w = fn1 * fn2 / (fn1 + fn2)
    est = np.sum(w * (fx1 / fn1 - fx2 / fn2), axis=-1) / np.sum(w, axis=-1)
    # rounding can put the weighted mean a hair outside [-1, 1]
    est = np.clip(est, -1.0, 1.0)
    lower = _bisect(
        lambda t: _stratified_score(t, fx1, fn1, fx2, fn2) > z, np.full_like(est, -1.0), est
    )
    upper = _bisect(
        lambda t: ~(_stratified_score(t, fx1, fn1, fx2, fn2) < -z), est, np.full_like(est, 1.0)
    )
    return est, lower, upper


# --- ratio p1 / p2 --------------------------------------------------------------------------


def ratio_restricted_mle(
    phi: FloatArray, x1: FloatArray, n1: FloatArray, x2: FloatArray, n2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Maximum likelihood estimates of ``(p1, p2)`` under ``p1 = phi * p2``.

    ``p2~`` is the smaller root of ``A p^2 + B p + C = 0`` with ``A = (n1 + n2) phi``,
    ``B = -(n1 phi + x1 + n2 + x2 phi)``, ``C = x1 + x2`` (Farrington & Manning 1990;
    Miettinen & Nurminen 1985), computed as ``2C / (-B + sqrt(B^2 - 4AC))`` to avoid
    cancellation at small ``phi``; ``p1~ = phi p2~``.
    """
    a = (n1 + n2) * phi
    b = -(n1 * phi + x1 + n2 + x2 * phi)
    c = x1 + x2
    disc = np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))
    mle2 = np.clip(2.0 * c / (-b + disc), 0.0, np.minimum(1.0, 1.0 / phi))
    return np.minimum(phi * mle2, 1.0), mle2


def ratio_score(
    phi: FloatArray,
    x1: FloatArray,
    n1: FloatArray,
    x2: FloatArray,
    n2: FloatArray,
    mn: bool = True,
) -> FloatArray:
    """Score statistic ``(p1^ - phi p2^) / sqrt(V~(phi))``.

    ``V~(phi) = (p1~ q1~ / n1 + phi^2 p2~ q2~ / n2)``, times ``N / (N - 1)`` with ``mn``
    (Miettinen & Nurminen 1985; without it, Farrington & Manning 1990). NaN where numerator and
    variance are both zero (only when ``x1 = x2 = 0``).
    """
    q1, q2 = ratio_restricted_mle(phi, x1, n1, x2, n2)
    var = (q1 * (1.0 - q1) / n1 + phi * phi * q2 * (1.0 - q2) / n2) * _mn_factor(n1, n2, mn)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((x1 / n1 - phi * x2 / n2) / np.sqrt(np.maximum(var, 0.0)))


def mn_ratio_limits(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, level: float
) -> tuple[FloatArray, FloatArray]:
    """Miettinen–Nurminen limits for ``p1 / p2``, elementwise over broadcast arrays.

    Bisection on ``log(phi)`` in ``[-60, 60]``. ``x1 = 0`` gives lower limit 0, ``x2 = 0`` gives
    upper limit ``inf``, and both zero give ``(0, inf)``: the data say nothing about the ratio.
    """
    fx1, fn1, fx2, fn2 = _as_float(x1, n1, x2, n2)
    z = two_sided_z(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_est = np.log(fx1 / fn1) - np.log(fx2 / fn2)  # nan only when x1 = x2 = 0
    log_est = np.where(np.isnan(log_est), 0.0, np.clip(log_est, -_LOG_BOUND, _LOG_BOUND))
    low_end = np.full_like(log_est, -_LOG_BOUND)
    high_end = np.full_like(log_est, _LOG_BOUND)
    log_lower = _bisect(lambda t: ratio_score(np.exp(t), fx1, fn1, fx2, fn2) > z, low_end, log_est)
    log_upper = _bisect(
        lambda t: ~(ratio_score(np.exp(t), fx1, fn1, fx2, fn2) < -z), log_est, high_end
    )
    lower = np.where(fx1 == 0.0, 0.0, np.exp(log_lower))
    upper = np.where(fx2 == 0.0, np.inf, np.exp(log_upper))
    return lower, upper
