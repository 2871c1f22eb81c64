"""Confidence intervals for one binomial proportion."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaincinv, ndtri

from equitrial.stats._interval import Interval
from equitrial.stats._validation import check_count, check_level, check_option

__all__ = ["BinomialMethod", "binomial_ci", "wilson_limits"]

BinomialMethod = Literal["clopper-pearson", "wilson", "wilson-cc", "jeffreys", "agresti-coull"]
_BINOMIAL_METHODS = ("clopper-pearson", "wilson", "wilson-cc", "jeffreys", "agresti-coull")

FloatArray = NDArray[np.float64]


def wilson_limits(
    x: ArrayLike, n: ArrayLike, z: float, *, correct: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Wilson score limits, elementwise; with ``correct`` the continuity-corrected version.

    The corrected limits are the Wilson limits evaluated at ``p^ -/+ 1 / (2n)`` (the closed form
    of Newcombe 1998a is the same), with lower limit 0 at ``x = 0`` and upper limit 1 at
    ``x = n``.
    """
    fx = np.asarray(x, dtype=np.float64)
    fn = np.asarray(n, dtype=np.float64)
    shift = 0.5 / fn if correct else np.zeros_like(fn)
    z2 = z * z

    def limit(p: FloatArray, sign: float) -> FloatArray:
        centre = p + z2 / (2.0 * fn)
        half = z * np.sqrt(np.maximum(p * (1.0 - p), 0.0) / fn + z2 / (4.0 * fn * fn))
        return np.asarray((centre + sign * half) / (1.0 + z2 / fn), dtype=np.float64)

    p = fx / fn
    p_low = p - shift
    p_high = p + shift
    lower = np.where(p_low <= 0.0, 0.0, limit(np.clip(p_low, 0.0, 1.0), -1.0))
    upper = np.where(p_high >= 1.0, 1.0, limit(np.clip(p_high, 0.0, 1.0), 1.0))
    return lower, upper


def _clopper_pearson(x: int, n: int, alpha: float) -> tuple[float, float]:
    lower = 0.0 if x == 0 else float(betaincinv(x, n - x + 1, alpha / 2.0))
    upper = 1.0 if x == n else float(betaincinv(x + 1, n - x, 1.0 - alpha / 2.0))
    return lower, upper


def _jeffreys(x: int, n: int, alpha: float) -> tuple[float, float]:
    lower = 0.0 if x == 0 else float(betaincinv(x + 0.5, n - x + 0.5, alpha / 2.0))
    upper = 1.0 if x == n else float(betaincinv(x + 0.5, n - x + 0.5, 1.0 - alpha / 2.0))
    return lower, upper


def _agresti_coull(x: int, n: int, z: float) -> tuple[float, float]:
    n_tilde = n + z * z
    p_tilde = (x + z * z / 2.0) / n_tilde
    half = z * math.sqrt(p_tilde * (1.0 - p_tilde) / n_tilde)
    return max(0.0, p_tilde - half), min(1.0, p_tilde + half)


def binomial_ci(
    x: int, n: int, *, level: float = 0.95, method: BinomialMethod = "clopper-pearson"
) -> Interval:
    """Confidence interval for a binomial proportion ``p`` from ``x`` successes in ``n`` trials.

    Parameters
    ----------
    x : int
        Number of successes, ``0 <= x <= n``.
    n : int
        Number of trials, ``n >= 1``.
    level : float, default 0.95
        Two-sided confidence level, in (0, 1).
    method : {"clopper-pearson", "wilson", "wilson-cc", "jeffreys", "agresti-coull"}
        ``"clopper-pearson"``: the exact interval from beta quantiles [1]_ (R's ``binom.test``).
        ``"wilson"``: the score interval [2]_ (R's ``prop.test(correct = FALSE)``).
        ``"wilson-cc"``: the score interval with continuity correction [3]_
        (R's ``prop.test(correct = TRUE)``, see Notes).
        ``"jeffreys"``: equal-tailed Jeffreys-prior interval, ``Beta(x + 1/2, n - x + 1/2)``
        quantiles [4]_.
        ``"agresti-coull"``: the Wald form around ``p~ = (x + z^2/2) / (n + z^2)`` with
        ``n~ = n + z^2`` [5]_.

    Returns
    -------
    Interval
        ``estimate = x / n`` for every method, the limits, ``level`` and ``method``.

    Raises
    ------
    InvalidInputError
        ``x`` or ``n`` not a whole number, ``n < 1``, ``x`` outside ``[0, n]``, or ``level``
        outside (0, 1).
    UnknownOptionError
        ``method`` is not one of those listed.

    Notes
    -----
    Every method gives limits in [0, 1]. At the usual levels they contain ``x / n``; the
    Jeffreys interval is centred on the posterior median, which at very low levels (0.01, say) may
    miss ``x / n``. At the boundaries:

    - Clopper–Pearson: lower limit 0 at ``x = 0`` and upper limit 1 at ``x = n``, by definition.
    - Wilson: the formula itself gives 0 at ``x = 0`` and 1 at ``x = n``.
    - Wilson with continuity correction: lower limit 0 at ``x = 0`` and upper limit 1 at
      ``x = n`` (Newcombe 1998a). R's ``prop.test(x, n, p, correct = TRUE)`` shrinks the
      correction to ``|x - n p|`` when that is below 1/2, so with the default ``p = 0.5`` it
      drops it at ``x = n / 2`` (5/10 gives the plain Wilson interval); this function always
      applies it (5/10: 0.2014, 0.7986, as ``prop.test(5, 10, p = 0.25, correct = TRUE)``).
    - Jeffreys: the boundary modification of Brown, Cai & DasGupta (2001): lower
      limit 0 at ``x = 0`` and upper limit 1 at ``x = n`` (the other limit is the plain beta
      quantile).
    - Agresti–Coull: truncated to [0, 1].

    References
    ----------
    .. [1] Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the
       case of the binomial. *Biometrika* 1934;26:404-413.
    .. [2] Wilson EB. Probable inference, the law of succession, and statistical inference.
       *J Am Stat Assoc* 1927;22:209-212.
    .. [3] Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of
       seven methods. *Stat Med* 1998;17:857-872.
    .. [4] Brown LD, Cai TT, DasGupta A. Interval estimation for a binomial proportion. *Stat Sci*
       2001;16:101-133.
    .. [5] Agresti A, Coull BA. Approximate is better than "exact" for interval estimation of
       binomial proportions. *Am Stat* 1998;52:119-126.
    """
    xi, ni = check_count(x, n)
    lvl = check_level(level)
    name = check_option(method, _BINOMIAL_METHODS, "method")
    alpha = 1.0 - lvl
    z = float(ndtri(1.0 - alpha / 2.0))
    if name == "clopper-pearson":
        lower, upper = _clopper_pearson(xi, ni, alpha)
    elif name == "jeffreys":
        lower, upper = _jeffreys(xi, ni, alpha)
    elif name == "agresti-coull":
        lower, upper = _agresti_coull(xi, ni, z)
    else:
        lo, hi = wilson_limits(xi, ni, z, correct=name == "wilson-cc")
        lower, upper = float(lo), float(hi)
    return Interval(xi / ni, lower, upper, lvl, name)
