"""The log-rank test of k >= 2 survival curves, optionally stratified, as R's ``survdiff``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2

from equitrial.errors import InvalidInputError
from equitrial.stats.survival._counting import check_survival_data, encode_labels, risk_table

__all__ = ["LogRankResult", "logrank"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class LogRankResult:
    """The log-rank (Mantel–Haenszel) test of equal survival across groups.

    Attributes
    ----------
    statistic
        The chi-square statistic, R's ``survdiff(...)$chisq``.
    df
        Its degrees of freedom: the number of groups with a positive expected count, minus 1.
    pvalue
        ``P(chi2_df > statistic)``.
    groups
        The group labels, sorted; the order of every per-group array below.
    n
        Subjects per group.
    observed, expected
        Observed and expected events per group, summed over strata.
    variance
        ``(k, k)`` covariance matrix of ``observed - expected``, summed over strata.
    """

    statistic: float
    df: int
    pvalue: float
    groups: tuple[Any, ...]
    n: NDArray[np.int64]
    observed: FloatArray
    expected: FloatArray
    variance: FloatArray


def _observed_expected_variance(
    n_risk: NDArray[np.int64], n_event: NDArray[np.int64]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """O, E and V summed over the rows (distinct times in any stratum) of a risk table."""
    at_event = n_event.sum(axis=1) > 0
    nr = n_risk[at_event].astype(np.float64)
    de = n_event[at_event].astype(np.float64)
    d = de.sum(axis=1)
    n = nr.sum(axis=1)
    expected = (nr * (d / n)[:, None]).sum(axis=0)
    # Hypergeometric covariance at each time: d (n - d) / (n^2 (n - 1)) * (n n_j 1[j=k] - n_j n_k)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n > 1, d * (n - d) / (n * n * (n - 1.0)), 0.0)
    variance = np.diag((w * n) @ nr) - (nr * w[:, None]).T @ nr
    return de.sum(axis=0), expected, variance


def _chi_square(
    observed: FloatArray, expected: FloatArray, variance: FloatArray
) -> tuple[float, int]:
    """survdiff's quadratic form: groups with E > 0, the first of them dropped, V solved."""
    used = np.flatnonzero(expected > 0)
    if used.size < 2:
        return 0.0, 0
    keep = used[1:]
    diff = (observed - expected)[keep]
    vv = variance[np.ix_(keep, keep)]
    rank = int(np.linalg.matrix_rank(vv))
    if rank == keep.size:
        return float(diff @ np.linalg.solve(vv, diff)), rank
    # R's solve() stops here ("system is singular"); a generalized inverse gives the statistic.
    return float(diff @ np.linalg.pinv(vv) @ diff), rank


def logrank(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    strata: ArrayLike | None = None,
) -> LogRankResult:
    """Log-rank test that two or more groups share one survival curve.

    Parameters
    ----------
    time
        Follow-up times, finite and ``>= 0``.
    event
        1 (or ``True``) for an event, 0 (or ``False``) for a censoring.
    group
        Group label of each subject (numbers or strings); at least two distinct labels.
    strata
        Optional stratum label of each subject: the test is then stratified, summing the
        observed, expected and variance over strata as ``survdiff(... + strata(s))``.

    Returns
    -------
    LogRankResult
        Statistic, degrees of freedom, p-value, and per-group observed and expected events
        with their covariance matrix, groups in sorted label order.

    Raises
    ------
    InvalidInputError
        If the survival data are invalid (see :func:`kaplan_meier`), if ``group`` or ``strata``
        has the wrong length or a missing label, or if ``group`` has fewer than two labels.

    Notes
    -----
    At each distinct event time (within each stratum) with :math:`n` at risk, :math:`d` events
    and :math:`n_j` at risk in group :math:`j`: :math:`E_j = \\sum d\\, n_j / n` and
    :math:`V_{jk} = \\sum d (n - d) / (n^2 (n - 1))\\,(n\\, n_j \\delta_{jk} - n_j n_k)`. As R
    (rho = 0), the statistic is :math:`(O - E)' V^{-1} (O - E)` over the groups with
    :math:`E_j > 0`, the first of them dropped; ``df`` is their number minus 1. Times closer
    than ``sqrt(.Machine$double.eps)`` are one time (R's ``timefix``).

    Where R cannot answer, we do: with fewer than two groups with :math:`E_j > 0` the statistic
    is 0 with ``df = 0`` and p-value 1 (R agrees when exactly one group has events expected;
    with no event at all R reports ``df = -1`` and p NaN); where the reduced variance matrix
    is singular (R's ``solve`` stops) a Moore–Penrose inverse is used and ``df`` is its rank.

    References
    ----------
    .. [1] Mantel N (1966). Evaluation of survival data and two new rank order statistics
       arising in its consideration. Cancer Chemother Rep 50:163-170.
    .. [2] Peto R, Peto J (1972). Asymptotically efficient rank invariant test procedures.
       J R Stat Soc A 135:185-207.
    .. [3] Therneau TM (2023). survival: A Package for Survival Analysis in R, version 3.5-3
       (``survdiff``).
    """
    t, e = check_survival_data(time, event)
    groups, g = encode_labels(group, "group", t.size)
    if len(groups) < 2:
        raise InvalidInputError(
            f"group must have at least two distinct labels, got {len(groups)}",
            field="group",
            expected=">= 2 groups",
        )
    if strata is None:
        s, n_strata = None, 1
    else:
        labels, s = encode_labels(strata, "strata", t.size)
        n_strata = len(labels)
    table = risk_table(t, e, group=g, n_groups=len(groups), strata=s, n_strata=n_strata)
    observed, expected, variance = _observed_expected_variance(table.n_risk, table.n_event)
    statistic, df = _chi_square(observed, expected, variance)
    pvalue = 1.0 if df == 0 else float(chi2.sf(statistic, df))
    return LogRankResult(
        statistic=statistic,
        df=df,
        pvalue=pvalue,
        groups=groups,
        n=np.bincount(g, minlength=len(groups)).astype(np.int64),
        observed=observed,
        expected=expected,
        variance=variance,
    )
