"""Restricted mean survival time (RMST) and the difference between two arms, as R's ``survmean``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

from equitrial.errors import InvalidInputError
from equitrial.stats._interval import Interval
from equitrial.stats._validation import check_level
from equitrial.stats.survival._counting import aeq_times, check_survival_data, encode_labels
from equitrial.stats.survival._km import km_steps

__all__ = ["RMSTDifference", "RMSTResult", "rmst", "rmst_difference"]

#: A difference below this times ``tau`` is zero to rounding.
_ZERO_TO_ROUNDING = 1e-12

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RMSTResult:
    """The restricted mean survival time up to ``tau``.

    Attributes
    ----------
    estimate
        The area under the Kaplan–Meier curve on [0, tau] (R's ``rmean``).
    se
        Its standard error (R's ``se(rmean)``).
    tau
        The truncation time.
    """

    estimate: float
    se: float
    tau: float


@dataclass(frozen=True, slots=True)
class RMSTDifference:
    """The difference in RMST between two arms, ``comparator - reference``.

    Attributes
    ----------
    estimate, se
        The difference and its standard error, ``sqrt(se_reference^2 + se_comparator^2)``.
    lower, upper, level
        The normal (Wald) confidence interval at ``level``.
    pvalue
        Two-sided Wald p-value for no difference, ``2 * Phi(-|statistic|)``.
    tau
        The truncation time.
    reference, comparator
        The labels of the two arms.
    reference_rmst, comparator_rmst
        Each arm's own :class:`RMSTResult`.
    statistic
        The Wald z, ``estimate / se``; 0 when ``|estimate| < 1e-12 * tau`` (zero to rounding).
    """

    estimate: float
    se: float
    lower: float
    upper: float
    level: float
    pvalue: float
    tau: float
    reference: Any
    comparator: Any
    reference_rmst: RMSTResult
    comparator_rmst: RMSTResult
    statistic: float

    @property
    def interval(self) -> Interval:
        """The difference as an :class:`~equitrial.stats._interval.Interval`."""
        return Interval(self.estimate, self.lower, self.upper, self.level, "rmst-difference")


def _check_tau(tau: float) -> float:
    try:
        value = float(tau)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"tau must be a positive number, got {tau!r}", field="tau", value=tau
        ) from None
    if not (math.isfinite(value) and value > 0):
        raise InvalidInputError(
            f"tau must be finite and > 0, got {tau!r}", field="tau", value=tau, expected="> 0"
        )
    return value


def _rmst_of_validated(
    time: FloatArray, event: NDArray[np.bool_], tau: float, *, timefix: bool = True
) -> RMSTResult:
    """survival's ``survmean`` for one curve truncated at ``tau`` (start time 0)."""
    steps = km_steps(time, event, timefix=timefix)
    n = steps.n_risk.astype(np.float64)
    d = steps.n_event.astype(np.float64)
    keep = steps.time <= tau
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))[keep]
    knots = np.append(steps.time[keep], tau)
    level = np.concatenate(([1.0], steps.survival[keep]))  # S on [previous knot, knot)
    rectangles = np.diff(knots, prepend=0.0) * level
    # For each kept time t_i: the area under S from t_i to tau, weighted by its hazard term.
    tail = np.cumsum(rectangles[::-1])[::-1][1:]
    variance = float(np.sum(tail * tail * hh))
    return RMSTResult(estimate=float(np.sum(rectangles)), se=math.sqrt(variance), tau=tau)


def rmst(time: ArrayLike, event: ArrayLike, tau: float) -> RMSTResult:
    """Restricted mean survival time: the area under the Kaplan–Meier curve up to ``tau``.

    Parameters
    ----------
    time
        Follow-up times, finite and ``>= 0``.
    event
        1 (or ``True``) for an event, 0 (or ``False``) for a censoring.
    tau
        The truncation time, finite and ``> 0``.

    Returns
    -------
    RMSTResult
        ``estimate`` and ``se``, equal to R's ``rmean`` and ``se(rmean)`` from
        ``print(survfit(Surv(time, event) ~ 1), rmean = tau)``.

    Raises
    ------
    InvalidInputError
        If the survival data are invalid (see :func:`kaplan_meier`) or ``tau`` is not > 0.

    Notes
    -----
    With the distinct times :math:`t_1 < \\dots < t_m \\le \\tau`, :math:`t_0 = 0` and
    :math:`\\hat S(t_0) = 1`, the estimate is
    :math:`\\sum_{i=1}^{m+1} (t_i - t_{i-1}) \\hat S(t_{i-1})` with :math:`t_{m+1} = \\tau`, and its
    variance is :math:`\\sum_{i=1}^{m} A_i^2\\, d_i / (n_i (n_i - d_i))` with :math:`A_i` the
    area under :math:`\\hat S` from :math:`t_i` to :math:`\\tau`; a term with :math:`n_i = d_i`
    counts 0. This is survival's ``survmean`` (survival 3.5-3), itself the Greenwood-type
    variance of Klein & Moeschberger (2003), section 4.5, with :math:`n_i (n_i - d_i)`.

    If ``tau`` is beyond the last observed time the curve is extended at its last value, as R
    does. If ``tau`` is before the first observed time the estimate is ``tau`` with standard
    error 0 (``survmean``'s own arithmetic; ``print`` and ``summary`` refuse such a ``tau``).

    References
    ----------
    .. [1] Royston P, Parmar MKB (2013). Restricted mean survival time: an alternative to the
       hazard ratio for the design and analysis of randomized trials with a time-to-event
       outcome. BMC Med Res Methodol 13:152.
    .. [2] Klein JP, Moeschberger ML (2003). Survival Analysis, 2nd ed. Springer, section 4.5.
    .. [3] Therneau TM (2023). survival: A Package for Survival Analysis in R, version 3.5-3
       (``survmean``).
    """
    t, e = check_survival_data(time, event)
    return _rmst_of_validated(t, e, _check_tau(tau))


def rmst_difference(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    tau: float,
    *,
    level: float = 0.95,
    reference: Any = None,
) -> RMSTDifference:
    """Difference in restricted mean survival time between two arms, with a Wald interval.

    Parameters
    ----------
    time
        Follow-up times, finite and ``>= 0``.
    event
        1 (or ``True``) for an event, 0 (or ``False``) for a censoring.
    group
        Arm label of each subject; exactly two distinct labels.
    tau
        The truncation time, finite and ``> 0``, common to both arms.
    level
        Two-sided confidence level.
    reference
        The label of the reference arm; the difference is the other arm minus this one. By
        default the first label in sorted order is the reference.

    Returns
    -------
    RMSTDifference
        The difference, its standard error, interval, p-value and each arm's RMST.

    Raises
    ------
    InvalidInputError
        If the data are invalid, ``group`` does not have exactly two labels, ``reference`` is
        not one of them, ``tau`` is not > 0 or ``level`` is not in (0, 1).

    Notes
    -----
    Each arm's RMST and standard error are those of :func:`rmst` (R's ``survmean``); the arms
    are independent, so :math:`se = \\sqrt{se_1^2 + se_2^2}` and the interval is
    :math:`\\Delta \\pm z_{1-\\alpha/2}\\, se`. This is the unadjusted comparison of
    ``survRM2::rmst2``. A difference below ``1e-12 * tau`` is zero to rounding (two arms with
    the same curve can differ by a few ulps): z is 0 and the p-value 1. If ``se`` is 0 (no
    informative event before ``tau`` in either arm) a larger difference has p-value 0.

    References
    ----------
    .. [1] Royston P, Parmar MKB (2013). BMC Med Res Methodol 13:152.
    .. [2] Uno H, Claggett B, Tian L, et al. (2014). Moving beyond the hazard ratio in
       quantifying the between-group difference in survival analysis. J Clin Oncol
       32:2380-2385.
    """
    t, e = check_survival_data(time, event)
    labels, g = encode_labels(group, "group", t.size)
    if len(labels) != 2:
        raise InvalidInputError(
            f"group must have exactly two labels, got {len(labels)}: {list(labels)!r}",
            field="group",
            expected="2 groups",
        )
    if reference is None:
        ref = 0
    elif reference in labels:
        ref = labels.index(reference)
    else:
        raise InvalidInputError(
            f"reference {reference!r} is not one of the group labels {list(labels)!r}",
            field="reference",
            value=reference,
            expected=f"one of {list(labels)!r}",
        )
    lvl = check_level(level)
    tau_value = _check_tau(tau)
    t = aeq_times(t)  # R merges near-ties over both arms at once, before splitting
    arms = [
        _rmst_of_validated(t[g == j], e[g == j], tau_value, timefix=False) for j in (ref, 1 - ref)
    ]
    estimate = arms[1].estimate - arms[0].estimate
    se = math.hypot(arms[0].se, arms[1].se)
    z = float(ndtri(1.0 - (1.0 - lvl) / 2.0))
    statistic = _wald_z(estimate, se, tau_value)
    pvalue = float(2.0 * ndtr(-abs(statistic)))
    return RMSTDifference(
        estimate=estimate,
        se=se,
        lower=estimate - z * se,
        upper=estimate + z * se,
        level=lvl,
        pvalue=pvalue,
        tau=tau_value,
        reference=labels[ref],
        comparator=labels[1 - ref],
        reference_rmst=arms[0],
        comparator_rmst=arms[1],
        statistic=statistic,
    )


def _wald_z(estimate: float, se: float, tau: float) -> float:
    """``estimate / se``; 0 when the difference is zero to rounding (``|d| < 1e-12 tau``).

    Each RMST is a sum of rectangles below ``tau``, so two arms with the same curve can differ
    by a few ulps of ``tau``; such a difference is no evidence of one (z 0, p 1), even when
    ``se`` is 0. A larger difference with ``se`` 0 is infinitely significant.
    """
    if abs(estimate) < _ZERO_TO_ROUNDING * tau:
        return 0.0
    if se > 0:
        return estimate / se
    return math.copysign(math.inf, estimate)
