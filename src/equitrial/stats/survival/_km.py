"""Kaplan–Meier estimate with Greenwood standard errors, as R's ``survival::survfit``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypeVar, cast, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from equitrial.errors import InvalidInputError
from equitrial.stats._interval import Interval
from equitrial.stats._validation import check_level, check_option
from equitrial.stats.survival._counting import check_survival_data, risk_table
from equitrial.stats.survival._quantile import find_quantile, first_below_half

__all__ = ["ConfType", "KaplanMeier", "kaplan_meier"]

ConfType = Literal["log", "log-log", "plain"]
CONF_TYPES: tuple[ConfType, ...] = ("log", "log-log", "plain")

FloatArray = NDArray[np.float64]


class _Steps(NamedTuple):
    """The Kaplan–Meier step table before any confidence interval."""

    time: FloatArray
    n_risk: NDArray[np.int64]
    n_event: NDArray[np.int64]
    n_censor: NDArray[np.int64]
    survival: FloatArray
    se_log: FloatArray  # sqrt(Greenwood sum): the SE of the cumulative hazard, R's fit$std.err


def km_steps(time: FloatArray, event: NDArray[np.bool_], *, timefix: bool = True) -> _Steps:
    """The Kaplan–Meier table of validated data, at every distinct time (after R's timefix)."""
    table = risk_table(time, event, timefix=timefix)
    n = table.n_risk[:, 0].astype(np.float64)
    d = table.n_event[:, 0].astype(np.float64)
    survival = np.cumprod(1.0 - d / n, dtype=np.float64)
    with np.errstate(divide="ignore"):
        greenwood = np.cumsum(d / (n * (n - d)))  # inf once everyone at risk has died
    return _Steps(
        time=table.time,
        n_risk=table.n_risk[:, 0],
        n_event=table.n_event[:, 0],
        n_censor=table.n_censor[:, 0],
        survival=survival,
        se_log=np.sqrt(greenwood),
    )


def confidence_limits(
    survival: FloatArray, se_log: FloatArray, level: float, conf_type: ConfType
) -> tuple[FloatArray, FloatArray]:
    """Pointwise limits of S(t), as survival's ``survfit_confint`` (NaN where R gives NA)."""
    z = float(ndtri(1.0 - (1.0 - level) / 2.0))
    s = survival
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = z * se_log * s  # 0 * inf = nan where S = 0, as R
            return np.maximum(s - half, 0.0), np.minimum(s + half, 1.0)
        if conf_type == "log":
            x = np.where(s == 0.0, np.nan, s)
            return np.exp(np.log(x) - z * se_log), np.minimum(np.exp(np.log(x) + z * se_log), 1.0)
        x = np.where((s == 0.0) | (s == 1.0), np.nan, s)
        shift = z * se_log / np.log(x)
        loglog = np.log(-np.log(x))
        return np.exp(-np.exp(loglog - shift)), np.exp(-np.exp(loglog + shift))


_Array = TypeVar("_Array", bound=np.ndarray[Any, Any])


def _readonly(a: _Array) -> _Array:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """A Kaplan–Meier survival curve with pointwise confidence limits.

    Every array has one entry per distinct observed time (event or censoring), as R's
    ``survfit``; the arrays are read-only.

    Attributes
    ----------
    time
        The distinct times, ascending.
    n_risk, n_event, n_censor
        Subjects at risk just before each time, events and censorings at it.
    survival
        S(t) just after each time.
    std_err
        Greenwood standard error of S(t) (``summary(survfit)$std.err``); NaN where S(t) = 0.
    lower, upper
        Pointwise confidence limits of S(t) at ``level``, on the ``conf_type`` scale; NaN exactly
        where R gives NA or NaN: where S(t) = 0 (every type) and, for ``"log-log"``, where
        S(t) = 1.
    level, conf_type
        As passed to :func:`kaplan_meier`.
    median
        The median survival time as ``print(survfit)`` reports it; NaN if not reached.
    median_ci
        ``(lower, upper)`` limits of the median, from the lower and upper curves by the same
        rule; each NaN where not reached.
    """

    time: FloatArray
    n_risk: NDArray[np.int64]
    n_event: NDArray[np.int64]
    n_censor: NDArray[np.int64]
    survival: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float
    conf_type: ConfType
    median: float
    median_ci: tuple[float, float]

    @overload
    def survival_at(self, t: float) -> float: ...

    @overload
    def survival_at(
        self, t: list[float] | tuple[float, ...] | NDArray[np.generic]
    ) -> FloatArray: ...

    def survival_at(
        self, t: float | list[float] | tuple[float, ...] | NDArray[np.generic]
    ) -> float | FloatArray:
        """S(t) at the given time(s): the right-continuous step function.

        Before the first observed time S is 1; after the last it stays at its last value.
        A scalar argument gives a float, a sequence or array gives an array of the same shape.

        Raises
        ------
        InvalidInputError
            If ``t`` is not numeric or contains NaN.
        """
        try:
            tt = np.asarray(t, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInputError("t must be numeric", field="t", value=t) from None
        if np.any(np.isnan(tt)):
            raise InvalidInputError("t must not be NaN", field="t", value=t)
        idx = np.searchsorted(self.time, tt, side="right") - 1
        values = np.where(idx < 0, 1.0, self.survival[np.maximum(idx, 0)])
        if np.ndim(t) == 0:
            return float(values)
        return cast(FloatArray, values)

    def quantile(self, p: float) -> Interval:
        """The ``p`` quantile of the survival time with its confidence interval.

        The time where the curve first reaches ``1 - p``, computed as R's
        ``quantile.survfit`` (a flat stretch at exactly ``1 - p``, within
        ``sqrt(.Machine$double.eps)``, gives the midpoint between its start and the next drop,
        or the last observed time if the curve never drops again). The limits apply the same
        rule to the lower and upper curves.

        Parameters
        ----------
        p
            A probability in [0, 1] (0.5 is the median).

        Returns
        -------
        Interval
            ``estimate``, ``lower``, ``upper`` (NaN where not reached), ``level`` and
            ``method`` = the curve's ``conf_type``.

        Raises
        ------
        InvalidInputError
            If ``p`` is not a number in [0, 1].

        Notes
        -----
        For ``p = 0.5`` this can differ from :attr:`median`, which follows ``print.survfit``:
        when the curve ends on a flat stretch at exactly 0.5, ``print`` reports the start of the
        stretch while ``quantile`` reports its midpoint with the last time.
        """
        try:
            prob = float(p)
        except (TypeError, ValueError):
            raise InvalidInputError(f"p must be a number in [0, 1], got {p!r}", field="p") from None
        if not 0.0 <= prob <= 1.0:
            raise InvalidInputError(
                f"p must lie in [0, 1], got {p!r}", field="p", value=p, expected="0 <= p <= 1"
            )
        return Interval(
            estimate=find_quantile(self.time, self.survival, prob),
            lower=find_quantile(self.time, self.lower, prob),
            upper=find_quantile(self.time, self.upper, prob),
            level=self.level,
            method=self.conf_type,
        )


def kaplan_meier(
    time: ArrayLike,
    event: ArrayLike,
    *,
    level: float = 0.95,
    conf_type: ConfType = "log-log",
) -> KaplanMeier:
    """Kaplan–Meier estimate of the survival function of right-censored data.

    Parameters
    ----------
    time
        Follow-up times, finite and ``>= 0``.
    event
        1 (or ``True``) for an event, 0 (or ``False``) for a censoring, one per time.
    level
        Two-sided confidence level of the pointwise limits and the median's interval.
    conf_type : {"log-log", "log", "plain"}
        Scale of the pointwise interval, as R's ``conf.type``: ``"log-log"`` (our default;
        R's default is ``"log"``) on log(-log S), ``"log"`` on log S (upper limit capped at 1),
        ``"plain"`` on S itself (clipped to [0, 1]).

    Returns
    -------
    KaplanMeier
        The step table, Greenwood standard errors, limits, median and its interval.

    Raises
    ------
    InvalidInputError
        If ``time`` or ``event`` is empty, of unequal length, not finite, negative, or not 0/1;
        if ``level`` is not in (0, 1).
    UnknownOptionError
        If ``conf_type`` is not one of the above.

    Notes
    -----
    At each distinct time :math:`t_i` with :math:`n_i` at risk and :math:`d_i` events,
    :math:`\\hat S(t) = \\prod_{t_i \\le t} (1 - d_i/n_i)` and Greenwood's variance of
    :math:`\\log \\hat S` is :math:`\\sum_{t_i \\le t} d_i / (n_i (n_i - d_i))`; the reported
    ``std_err`` is :math:`\\hat S` times its square root. With :math:`z` the normal quantile:
    log: :math:`\\hat S e^{\\pm z\\,se}`; log-log:
    :math:`\\hat S^{\\exp(\\pm z\\,se / \\log \\hat S)}`; plain: :math:`\\hat S (1 \\pm z\\,se)`.

    As ``survfit`` (``timefix = TRUE``), times closer than ``sqrt(.Machine$double.eps)`` are one
    time. Where S = 0 the standard error and every limit are NaN (R: NaN / NA); with
    ``"log-log"`` the limits are NaN where S = 1 (R: NA). The median and its limits follow
    ``print.survfit``: the first time at which the curve is below ``0.5 + 1.5e-8``, except that
    a curve at 0.5 (within that tolerance) which drops lower later gives the midpoint between
    that time and the time of the next drop. NaN where not reached; NA points of a limit curve
    are skipped.

    References
    ----------
    .. [1] Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations.
       J Am Stat Assoc 53:457-481.
    .. [2] Greenwood M (1926). The natural duration of cancer. Reports on Public Health and
       Medical Subjects 33, HMSO, London.
    .. [3] Therneau TM (2023). survival: A Package for Survival Analysis in R, version 3.5-3
       (``survfit``, ``survfit_confint``, ``survmean``).
    """
    t, e = check_survival_data(time, event)
    lvl = check_level(level)
    ctype = cast(ConfType, check_option(conf_type, CONF_TYPES, "conf_type"))
    steps = km_steps(t, e)
    lower, upper = confidence_limits(steps.survival, steps.se_log, lvl, ctype)
    with np.errstate(invalid="ignore"):
        std_err = steps.survival * steps.se_log  # 0 * inf = nan where S = 0, as R
    return KaplanMeier(
        time=_readonly(steps.time),
        n_risk=_readonly(steps.n_risk),
        n_event=_readonly(steps.n_event),
        n_censor=_readonly(steps.n_censor),
        survival=_readonly(steps.survival),
        std_err=_readonly(std_err),
        lower=_readonly(lower),
        upper=_readonly(upper),
        level=lvl,
        conf_type=ctype,
        median=first_below_half(steps.survival, steps.time),
        median_ci=(
            first_below_half(lower, steps.time),
            first_below_half(upper, steps.time),
        ),
    )
