"""Pharmacokinetics: geometric means and their ratio, geometric CV, non-compartmental analysis.

The biosimilar comparison of exposure (AUC, Cmax, Ctrough) is made on the log scale: the ratio
of geometric means of the test and reference products with a t interval, back-transformed.

References
----------
.. [1] Hauschke D, Steinijans V, Pigeot I. *Bioequivalence Studies in Drug Development: Methods
   and Applications*. Wiley, 2007. Chapter 3 (parallel-group designs, log-scale t interval).
.. [2] Welch BL. The generalization of "Student's" problem when several different population
   variances are involved. *Biometrika* 1947;34:28-35.
.. [3] Gabrielsson J, Weiner D. *Pharmacokinetic and Pharmacodynamic Data Analysis*, 5th ed.
   Swedish Pharmaceutical Press, 2016. Section 2.8 (linear-up/log-down trapezoidal rule,
   terminal slope by log-linear regression, adjusted R squared).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as _st

from equitrial.errors import InvalidInputError
from equitrial.stats._interval import Interval
from equitrial.stats._validation import check_array, check_level, check_option, check_same_length

__all__ = [
    "Interval",
    "NCAResult",
    "geometric_cv",
    "geometric_mean",
    "geometric_mean_ratio",
    "nca",
]

Variance = Literal["pooled", "welch"]
_VARIANCES = ("pooled", "welch")


def _log_positive(values: ArrayLike, name: str, min_size: int) -> NDArray[np.float64]:
    arr = check_array(values, name, min_size=min_size)
    if np.any(arr <= 0):
        bad = int(np.flatnonzero(arr <= 0)[0])
        raise InvalidInputError(
            f"{name} must be positive for a log-scale analysis; entry {bad} is {arr[bad]!r}",
            field=name,
            value=arr[bad],
            expected="> 0",
        )
    return np.asarray(np.log(arr), dtype=np.float64)


def geometric_mean(values: ArrayLike, *, level: float = 0.95) -> Interval:
    """Geometric mean with a t confidence interval (back-transformed from the log scale).

    Parameters
    ----------
    values : array_like
        Positive values (at least two).
    level : float, default 0.95
        Two-sided confidence level.

    Returns
    -------
    Interval
        ``estimate = exp(mean(log x))`` and ``exp(mean(log x) -/+ t * s / sqrt(n))``,
        ``method="t"``.

    Raises
    ------
    InvalidInputError
        Fewer than two values, a non-positive or non-finite value, or a level outside (0, 1).

    References
    ----------
    .. [1] Hauschke, Steinijans & Pigeot (2007), section 3.
    """
    lvl = check_level(level)
    logs = _log_positive(values, "values", 2)
    n = logs.size
    mean = float(logs.mean())
    half = _st.t.ppf(0.5 + lvl / 2, n - 1) * float(logs.std(ddof=1)) / math.sqrt(n)
    return Interval(math.exp(mean), math.exp(mean - half), math.exp(mean + half), lvl, "t")


def geometric_cv(values: ArrayLike) -> float:
    """Geometric coefficient of variation, ``sqrt(exp(s^2) - 1)`` with ``s`` the SD of log values.

    Parameters
    ----------
    values : array_like
        Positive values (at least two).

    Returns
    -------
    float
        The geometric CV as a fraction (0.25 means 25 %).

    Raises
    ------
    InvalidInputError
        Fewer than two values, or a non-positive or non-finite value.

    Notes
    -----
    This is the CV of a log-normal distribution whose log-scale variance is the sample variance
    (denominator ``n - 1``) of the log values.

    References
    ----------
    .. [1] Hauschke, Steinijans & Pigeot (2007), section 3.
    """
    logs = _log_positive(values, "values", 2)
    return math.sqrt(math.expm1(float(logs.var(ddof=1))))


def geometric_mean_ratio(
    test: ArrayLike,
    reference: ArrayLike,
    *,
    level: float = 0.90,
    variance: Variance = "pooled",
) -> Interval:
    """Ratio of geometric means, test over reference, for two parallel groups.

    Parameters
    ----------
    test, reference : array_like
        Positive values (AUC, Cmax, ...) of the subjects of each group; at least two each.
    level : float, default 0.90
        Two-sided confidence level (0.90 gives the usual bioequivalence TOST at 5 %).
    variance : {"pooled", "welch"}, default "pooled"
        ``"pooled"``: Student's t interval with the pooled log-scale variance;
        ``"welch"``: unequal variances with Welch–Satterthwaite degrees of freedom.

    Returns
    -------
    Interval
        On the ratio scale: ``exp(d)`` and ``exp(d -/+ t * se)`` with ``d`` the difference of the
        mean log values; ``method`` is ``"pooled"`` or ``"welch"``.

    Raises
    ------
    InvalidInputError
        A group with fewer than two values, a non-positive value, a level outside (0, 1).
    UnknownOptionError
        ``variance`` not one of the listed options.

    Notes
    -----
    Equivalent to R's ``exp(t.test(log(test), log(reference), var.equal=...)$conf.int)``.

    References
    ----------
    .. [1] Hauschke, Steinijans & Pigeot (2007), section 3.
    .. [2] Welch (1947).
    """
    lvl = check_level(level)
    how = check_option(variance, _VARIANCES, "variance")
    lt = _log_positive(test, "test", 2)
    lr = _log_positive(reference, "reference", 2)
    n1, n2 = lt.size, lr.size
    v1, v2 = float(lt.var(ddof=1)), float(lr.var(ddof=1))
    diff = float(lt.mean() - lr.mean())
    if how == "pooled":
        df = n1 + n2 - 2.0
        pooled = ((n1 - 1) * v1 + (n2 - 1) * v2) / df
        se = math.sqrt(pooled * (1.0 / n1 + 1.0 / n2))
    else:
        a, b = v1 / n1, v2 / n2
        se = math.sqrt(a + b)
        df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1)) if a + b > 0 else n1 + n2 - 2.0
    half = float(_st.t.ppf(0.5 + lvl / 2, df)) * se
    return Interval(math.exp(diff), math.exp(diff - half), math.exp(diff + half), lvl, how)


@dataclass(frozen=True, slots=True)
class NCAResult:
    """Non-compartmental summary of one concentration–time profile.

    Attributes
    ----------
    cmax, tmax
        Highest observed concentration and the first time it is observed.
    clast, tlast
        Last positive (quantifiable) concentration and its time.
    auc_last
        AUC from the first sample to ``tlast`` (linear-up/log-down).
    auc_inf
        ``auc_last + clast / lambda_z``; ``nan`` when the terminal slope cannot be estimated.
    auc_extrapolated_percent
        Share of ``auc_inf`` that is extrapolated beyond ``tlast``, in percent (``nan`` likewise).
    lambda_z, half_life
        Terminal elimination rate constant and ``ln 2 / lambda_z`` (``nan`` when not estimable).
    lambda_z_points, lambda_z_r2_adjusted
        Number of points of the terminal regression and its adjusted R squared.
    ctrough
        Concentration at the end of the dosing interval ``tau`` (``nan`` when no ``tau``).
    auc_tau
        AUC from the first sample to ``tau`` (``nan`` when no ``tau``).
    """

    cmax: float
    tmax: float
    clast: float
    tlast: float
    auc_last: float
    auc_inf: float
    auc_extrapolated_percent: float
    lambda_z: float
    half_life: float
    lambda_z_points: int
    lambda_z_r2_adjusted: float
    ctrough: float
    auc_tau: float


def _segment_auc(t: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
    """Area of each interval between samples: log trapezoid when falling and positive."""
    dt = np.diff(t)
    c1, c2 = c[:-1], c[1:]
    linear = dt * (c1 + c2) / 2.0
    down = (c2 < c1) & (c2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logdown = dt * (c1 - c2) / np.log(c1 / c2)
    return np.where(down, logdown, linear)


def _terminal_slope(
    t: NDArray[np.float64], c: NDArray[np.float64], imax: int, min_points: int
) -> tuple[float, int, float]:
    """Best-fit terminal slope: most points among fits within 1e-4 of the best adjusted R^2.

    Returns ``(lambda_z, points, adjusted R^2)``, or ``(nan, 0, nan)`` when no fit of at least
    ``min_points`` positive samples after ``tmax`` has a negative slope.
    """
    after = np.flatnonzero((np.arange(t.size) > imax) & (c > 0))
    fits: list[tuple[float, int, float]] = []
    for k in range(min_points, after.size + 1):
        x, y = t[after[-k:]], np.log(c[after[-k:]])
        sxx = float(np.sum((x - x.mean()) ** 2))
        sxy = float(np.sum((x - x.mean()) * (y - y.mean())))
        syy = float(np.sum((y - y.mean()) ** 2))
        slope = sxy / sxx
        if slope < 0:
            r2 = sxy * sxy / (sxx * syy)
            fits.append((-slope, k, 1.0 - (1.0 - r2) * (k - 1) / (k - 2)))
    if not fits:
        return (math.nan, 0, math.nan)
    best_r2 = max(f[2] for f in fits)
    return max((f for f in fits if f[2] >= best_r2 - 1e-4), key=lambda f: f[1])


def _at_tau(
    t: NDArray[np.float64],
    c: NDArray[np.float64],
    tau: float,
    lambda_z: float,
) -> tuple[float, float]:
    """Concentration and AUC at ``tau``, interpolating by the same linear-up/log-down rule."""
    if tau < t[0]:
        raise InvalidInputError(
            f"tau={tau!r} lies before the first sample time {t[0]!r}", field="tau", value=tau
        )
    seg = _segment_auc(t, c)
    cum = np.concatenate(([0.0], np.cumsum(seg)))
    j = int(np.searchsorted(t, tau, side="right")) - 1
    if t[j] == tau:
        return float(c[j]), float(cum[j])
    if j == t.size - 1:  # beyond the last sample: extrapolate with the terminal slope
        if not math.isfinite(lambda_z) or c[j] <= 0:
            return math.nan, math.nan
        c_tau = float(c[j]) * math.exp(-lambda_z * (tau - t[j]))
        return c_tau, float(cum[j]) + (float(c[j]) - c_tau) / lambda_z
    c1, c2, frac = float(c[j]), float(c[j + 1]), (tau - t[j]) / (t[j + 1] - t[j])
    if c1 > c2 > 0:
        c_tau = c1 * math.exp(frac * math.log(c2 / c1))
        part = (tau - t[j]) * (c1 - c_tau) / math.log(c1 / c_tau)
    else:
        c_tau = c1 + frac * (c2 - c1)
        part = (tau - t[j]) * (c1 + c_tau) / 2.0
    return c_tau, float(cum[j]) + part


def nca(
    time: ArrayLike,
    conc: ArrayLike,
    *,
    tau: float | None = None,
    min_points: int = 3,
) -> NCAResult:
    """Non-compartmental analysis of one concentration–time profile.

    Parameters
    ----------
    time : array_like
        Sample times, strictly increasing, measured from the dose.
    conc : array_like
        Concentrations, non-negative (values below the limit of quantification as 0).
    tau : float, optional
        Dosing interval: gives ``ctrough`` (concentration at ``tau``) and ``auc_tau``. Between
        samples both are interpolated by the linear-up/log-down rule; past the last sample they
        are extrapolated with the terminal slope (``nan`` when it cannot be estimated).
    min_points : int, default 3
        Fewest points of the terminal log-linear regression.

    Returns
    -------
    NCAResult

    Raises
    ------
    InvalidInputError
        Times not strictly increasing, negative or non-finite values, mismatched lengths, fewer
        than two samples, no positive concentration, ``min_points < 3``.

    Notes
    -----
    AUC by the linear-up/log-down trapezoidal rule: the log trapezoid
    ``dt (c1 - c2) / ln(c1 / c2)`` on falling intervals with both ends positive, the linear one
    elsewhere; it integrates a mono-exponential decline exactly. The terminal slope uses the last
    ``k >= min_points`` positive samples after ``tmax`` (``tmax`` itself excluded); of the fits
    with a negative slope, the one with the largest adjusted R squared is chosen, and among fits
    whose adjusted R squared lies within 1e-4 of the best, the one with most points (the rule of
    WinNonlin and PKNCA). ``auc_last`` is the AUC up to ``tlast``, the last positive sample.

    References
    ----------
    .. [3] Gabrielsson & Weiner (2016), section 2.8.
    """
    t = check_array(time, "time", min_size=2)
    c = check_array(conc, "conc", min_size=2)
    check_same_length(time=t, conc=c)
    if np.any(np.diff(t) <= 0):
        bad = int(np.flatnonzero(np.diff(t) <= 0)[0]) + 1
        raise InvalidInputError(
            f"time must be strictly increasing; entry {bad} ({t[bad]!r}) does not exceed "
            f"the one before ({t[bad - 1]!r})",
            field="time",
            value=t[bad],
        )
    if np.any(c < 0):
        bad = int(np.flatnonzero(c < 0)[0])
        raise InvalidInputError(
            f"conc must be non-negative; entry {bad} is {c[bad]!r}", field="conc", value=c[bad]
        )
    if not np.any(c > 0):
        raise InvalidInputError("conc has no positive concentration", field="conc")
    if min_points < 3:
        raise InvalidInputError(
            f"min_points must be at least 3, got {min_points!r}", field="min_points"
        )
    imax = int(np.argmax(c))
    ilast = int(np.flatnonzero(c > 0)[-1])
    auc_last = float(np.sum(_segment_auc(t[: ilast + 1], c[: ilast + 1])))
    lambda_z, k, r2_adj = _terminal_slope(t[: ilast + 1], c[: ilast + 1], imax, min_points)
    auc_inf = auc_last + float(c[ilast]) / lambda_z if math.isfinite(lambda_z) else math.nan
    c_tau, auc_tau = (math.nan, math.nan)
    if tau is not None:
        c_tau, auc_tau = _at_tau(t, c, float(tau), lambda_z)
    return NCAResult(
        cmax=float(c[imax]),
        tmax=float(t[imax]),
        clast=float(c[ilast]),
        tlast=float(t[ilast]),
        auc_last=auc_last,
        auc_inf=auc_inf,
        auc_extrapolated_percent=100.0 * (auc_inf - auc_last) / auc_inf,
        lambda_z=lambda_z,
        half_life=math.log(2.0) / lambda_z,
        lambda_z_points=k,
        lambda_z_r2_adjusted=r2_adj,
        ctrough=c_tau,
        auc_tau=auc_tau,
    )
