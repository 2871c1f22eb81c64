"""Stratified analysis of 2x2 tables: the stratified MN difference and the CMH test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.special import chdtrc

from equitrial.stats._interval import Interval, two_sided_z
from equitrial.stats._proportions_mn import mn_stratified_difference_limits
from equitrial.stats._validation import (
    check_array,
    check_count,
    check_level,
    check_option,
    check_same_length,
)

__all__ = ["CMHResult", "StratifiedMethod", "cmh_test", "stratified_difference_ci"]

StratifiedMethod = Literal["mn-cmh"]
_STRATIFIED_METHODS = ("mn-cmh",)

IntArray = NDArray[np.int64]


def _check_strata(
    x1: Sequence[int], n1: Sequence[int], x2: Sequence[int], n2: Sequence[int]
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Validate per-stratum counts; errors name the argument and the stratum (``x1[2]``)."""
    raw = {"x1": x1, "n1": n1, "x2": x2, "n2": n2}
    arrays = {name: check_array(values, name, dtype=object) for name, values in raw.items()}
    check_same_length(**arrays)
    out: dict[str, list[int]] = {name: [] for name in raw}
    for h in range(len(arrays["x1"])):
        for x_name, n_name in (("x1", "n1"), ("x2", "n2")):
            xi, ni = check_count(
                arrays[x_name][h],
                arrays[n_name][h],
                x_name=f"{x_name}[{h}]",
                n_name=f"{n_name}[{h}]",
            )
            out[x_name].append(xi)
            out[n_name].append(ni)
    a1, m1, a2, m2 = (np.asarray(out[name], dtype=np.int64) for name in ("x1", "n1", "x2", "n2"))
    return a1, m1, a2, m2


def stratified_difference_ci(
    x1: Sequence[int],
    n1: Sequence[int],
    x2: Sequence[int],
    n2: Sequence[int],
    *,
    level: float = 0.95,
    method: StratifiedMethod = "mn-cmh",
) -> Interval:
    """Confidence interval for a common difference ``p1 - p2`` over strata.

    Parameters
    ----------
    x1, n1 : sequence of int
        Successes and trials in arm 1, one entry per stratum.
    x2, n2 : sequence of int
        Successes and trials in arm 2, one entry per stratum (same length).
    level : float, default 0.95
        Two-sided confidence level, in (0, 1).
    method : {"mn-cmh"}
        ``"mn-cmh"``: the stratified Miettinen–Nurminen score interval [1]_ with
        Cochran–Mantel–Haenszel weights ``w_h = n1h n2h / (n1h + n2h)``.

    Returns
    -------
    Interval
        ``estimate = sum w_h d_h / sum w_h`` (the Mantel–Haenszel risk difference), the limits
        (in [-1, 1]), ``level`` and ``method``.

    Raises
    ------
    InvalidInputError
        Sequences of different lengths or empty, a count not a whole number, an ``n`` below 1 or
        an ``x`` outside ``[0, n]`` (the message names the argument and stratum, e.g. ``x1[2]``),
        or ``level`` outside (0, 1).
    UnknownOptionError
        ``method`` is not ``"mn-cmh"``.

    Notes
    -----
    The limits are the two solutions in ``delta`` of

    ``Z(delta) = sum_h w_h (d_h - delta) / sqrt(sum_h w_h^2 V~_h(delta)) = +-z``

    where ``d_h = x1h/n1h - x2h/n2h`` and ``V~_h(delta)`` is stratum ``h``'s
    Miettinen–Nurminen variance: the binomial variance at the stratum's maximum likelihood
    estimates restricted to ``p1h - p2h = delta`` (the Farrington–Manning cubic), times
    ``N_h / (N_h - 1)``. The weights do not depend on ``delta``. With one stratum the interval
    is :func:`difference_ci`'s ``"miettinen-nurminen"`` interval.

    A stratum with all successes (or none) in both arms contributes its weight and its
    restricted variance like any other; if ``x1h = n1h`` and ``x2h = 0`` in every stratum the
    upper limit is exactly 1.

    References
    ----------
    .. [1] Miettinen O, Nurminen M. Comparative analysis of two rates. *Stat Med*
       1985;4:213-226 (the stratified analysis).
    .. [2] Mantel N, Haenszel W. Statistical aspects of the analysis of data from retrospective
       studies of disease. *J Natl Cancer Inst* 1959;22:719-748.
    """
    a1, m1, a2, m2 = _check_strata(x1, n1, x2, n2)
    lvl = check_level(level)
    name = check_option(method, _STRATIFIED_METHODS, "method")
    est, lower, upper = mn_stratified_difference_limits(a1, m1, a2, m2, lvl)
    return Interval(float(est), float(lower), float(upper), lvl, name)


@dataclass(frozen=True, slots=True)
class CMHResult:
    """Result of :func:`cmh_test`.

    Attributes
    ----------
    statistic
        The Cochran–Mantel–Haenszel chi-squared statistic (1 degree of freedom).
    df
        Degrees of freedom, always 1.
    pvalue
        Upper-tail chi-squared probability of ``statistic``.
    odds_ratio
        The Mantel–Haenszel common odds ratio, ``sum(a d / N) / sum(b c / N)``: 0 when no
        stratum has ``a d > 0``, ``inf`` when none has ``b c > 0``, ``nan`` when both (no
        information).
    log_odds_ratio_se
        The Robins–Breslow–Greenland standard error of ``log(odds_ratio)`` (``inf`` where the
        odds ratio is 0, ``inf`` or ``nan``).
    correct
        Whether the continuity correction was applied to ``statistic``.
    """

    statistic: float
    df: int
    pvalue: float
    odds_ratio: float
    log_odds_ratio_se: float
    correct: bool

    def confidence_interval(self, level: float = 0.95) -> Interval:
        """Robins–Breslow–Greenland interval for the common odds ratio.

        ``exp(log(OR) -/+ z * se)`` as R's ``mantelhaen.test(..., conf.level = level)``;
        ``(0, inf)`` where the standard error is infinite.
        """
        lvl = check_level(level)
        if not math.isfinite(self.log_odds_ratio_se):
            return Interval(self.odds_ratio, 0.0, math.inf, lvl, "robins-breslow-greenland")
        half = two_sided_z(lvl) * self.log_odds_ratio_se
        log_or = math.log(self.odds_ratio)
        lower, upper = math.exp(log_or - half), math.exp(log_or + half)
        return Interval(self.odds_ratio, lower, upper, lvl, "robins-breslow-greenland")


def _rbg_se(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    c: NDArray[np.float64],
    d: NDArray[np.float64],
    n: NDArray[np.float64],
) -> float:
    """Robins, Breslow & Greenland (1986) standard error of the log MH odds ratio."""
    p, q = (a + d) / n, (b + c) / n
    r, s = a * d / n, b * c / n
    sr, ss = float(np.sum(r)), float(np.sum(s))
    if sr == 0.0 or ss == 0.0:
        return math.inf
    var = (
        float(np.sum(p * r)) / (2 * sr * sr)
        + float(np.sum(p * s + q * r)) / (2 * sr * ss)
        + float(np.sum(q * s)) / (2 * ss * ss)
    )
    return math.sqrt(var)


def cmh_test(
    x1: Sequence[int],
    n1: Sequence[int],
    x2: Sequence[int],
    n2: Sequence[int],
    *,
    correct: bool = False,
) -> CMHResult:
    """Cochran–Mantel–Haenszel test of no association in a set of 2x2 tables.

    Stratum ``h`` is the table ``[[a, b], [c, d]] = [[x1h, n1h - x1h], [x2h, n2h - x2h]]``
    (rows: arms; columns: success, failure).

    Parameters
    ----------
    x1, n1 : sequence of int
        Successes and trials in arm 1, one entry per stratum.
    x2, n2 : sequence of int
        Successes and trials in arm 2, one entry per stratum (same length).
    correct : bool, default False
        Apply the continuity correction (subtract 1/2 from ``|sum(a - E a)|`` when it is at
        least 1/2), as R's ``mantelhaen.test(correct = TRUE)``.

    Returns
    -------
    CMHResult
        Statistic, ``df = 1``, p-value, the Mantel–Haenszel common odds ratio and its
        Robins–Breslow–Greenland standard error (``.confidence_interval(level)``).

    Raises
    ------
    InvalidInputError
        Sequences of different lengths or empty, or a count not acceptable (the message names
        the argument and stratum, e.g. ``n2[0]``).

    Notes
    -----
    ``statistic = (|sum_h (a_h - E_h)| - c)^2 / sum_h V_h`` with ``E_h = n1h m1h / N_h``,
    ``V_h = n1h n2h m1h m2h / (N_h^2 (N_h - 1))``, ``m1h`` and ``m2h`` the numbers of successes
    and failures, ``c`` the correction; this is R's ``mantelhaen.test`` for 2x2xK tables.

    When every stratum has only successes or only failures (``sum V_h = 0``), the conditional
    distribution of ``sum a_h`` is a point mass at its expectation: the statistic is 0 and the
    p-value 1 (R returns NaN there).

    References
    ----------
    .. [1] Mantel N, Haenszel W. Statistical aspects of the analysis of data from retrospective
       studies of disease. *J Natl Cancer Inst* 1959;22:719-748.
    .. [2] Cochran WG. Some methods for strengthening the common chi-squared tests. *Biometrics*
       1954;10:417-451.
    .. [3] Robins J, Breslow N, Greenland S. Estimators of the Mantel-Haenszel variance
       consistent in both sparse data and large-strata limiting models. *Biometrics*
       1986;42:311-323.
    """
    a1, m1, a2, m2 = _check_strata(x1, n1, x2, n2)
    a = a1.astype(np.float64)
    b = (m1 - a1).astype(np.float64)
    c = a2.astype(np.float64)
    d = (m2 - a2).astype(np.float64)
    n = a + b + c + d
    succ, fail = a + c, b + d
    rows1, rows2 = a + b, c + d
    delta = float(np.sum(a - rows1 * succ / n))
    var = float(np.sum(rows1 * rows2 * succ * fail / (n * n * (n - 1.0))))
    yates = 0.5 if correct and abs(delta) >= 0.5 else 0.0
    if var > 0.0:
        statistic = (abs(delta) - yates) ** 2 / var
    else:
        statistic = 0.0
    sr, ss = float(np.sum(a * d / n)), float(np.sum(b * c / n))
    if sr == 0.0 and ss == 0.0:
        odds_ratio = math.nan
    elif ss == 0.0:
        odds_ratio = math.inf
    else:
        odds_ratio = sr / ss
    return CMHResult(
        statistic=statistic,
        df=1,
        pvalue=float(chdtrc(1.0, statistic)),
        odds_ratio=odds_ratio,
        log_odds_ratio_se=_rbg_se(a, b, c, d, n),
        correct=bool(correct),
    )
