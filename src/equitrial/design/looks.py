"""The looks of a binary endpoint: calendar time, expected counts and information at each.

An interim is timed in months after the first patient in (FPI) or by information fraction;
the final look is when the last patient reaches the endpoint's time point. For a binary
endpoint read ``w`` months after entry the information is proportional to the number
evaluable, so the information rate of a look at ``t`` months is ``E[evaluable(t)] / n`` with
``E[evaluable(t)] = expected_enrolled(t - w)`` (:mod:`equitrial.design.accrual`); a look timed
by fraction ``f`` is placed at the month where that ratio reaches ``f``. ``equitrial design``
and ``equitrial simulate`` both take their looks from :func:`plan_looks`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from equitrial.design.accrual import AccrualModel, expected_accrual_months, expected_enrolled
from equitrial.errors import InvalidInputError

__all__ = ["Look", "LookTiming", "plan_looks"]


@dataclass(frozen=True, slots=True)
class LookTiming:
    """An interim as the protocol times it: exactly one of ``months`` (after FPI) or
    ``information_fraction``."""

    name: str
    months: float | None = None
    information_fraction: float | None = None

    def __post_init__(self) -> None:
        if (self.months is None) == (self.information_fraction is None):
            raise InvalidInputError(
                f"look {self.name!r}: expected exactly one of months and information_fraction",
                field="months",
            )


@dataclass(frozen=True, slots=True)
class Look:
    """One look, the final included.

    ``information_rate`` is ``expected_evaluable / n_patients`` (1 at the final look; the
    protocol's fraction exactly for a look timed by fraction); it is 0
    when nobody is expected to be evaluable and can reach 1 before the final look when the
    look falls after the last patient's time point (both are warnings for the design).
    """

    name: str
    months_after_fpi: float
    expected_enrolled: float
    expected_evaluable: float
    information_rate: float
    final: bool


def _evaluable(model: AccrualModel, months: float, lag_months: float) -> float:
    return float(expected_enrolled(model, months - lag_months))


def _month_of_fraction(model: AccrualModel, fraction: float, lag_months: float) -> float:
    """The month after FPI at which ``E[evaluable] / n`` reaches ``fraction`` (bisection)."""
    n = model.n_patients
    lo, hi = lag_months, lag_months + 2.0 * expected_accrual_months(model) + 1.0
    while _evaluable(model, hi, lag_months) < fraction * n:
        lo, hi = hi, 2.0 * hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _evaluable(model, mid, lag_months) < fraction * n else (lo, mid)
    return hi


def plan_looks(
    model: AccrualModel, lag_months: float, interims: Sequence[LookTiming]
) -> tuple[Look, ...]:
    """The interims in calendar order, then the final look.

    Parameters
    ----------
    model
        The accrual model.
    lag_months
        Months from a patient's entry to the endpoint's reading (week 24: ``24 / (365.25 /
        12 / 7)``); at least 0.
    interims
        The interims, in any order.

    Returns
    -------
    tuple of Look
        Sorted by calendar month; the final look (``final=True``, information rate 1) at the
        expected last patient in plus ``lag_months``.
    """
    if not math.isfinite(lag_months) or lag_months < 0.0:
        raise InvalidInputError(
            f"the endpoint's time point must be a finite number of months >= 0, got {lag_months!r}",
            field="timepoint_weeks",
        )
    n = model.n_patients
    looks = []
    for timing in interims:
        if timing.information_fraction is not None:
            months = _month_of_fraction(model, timing.information_fraction, lag_months)
        else:
            assert timing.months is not None
            months = float(timing.months)
        evaluable = _evaluable(model, months, lag_months)
        looks.append(
            Look(
                name=timing.name,
                months_after_fpi=months,
                expected_enrolled=float(expected_enrolled(model, months)),
                expected_evaluable=evaluable,
                information_rate=(
                    min(evaluable / n, 1.0)
                    if timing.information_fraction is None
                    else float(timing.information_fraction)
                ),
                final=False,
            )
        )
    looks.sort(key=lambda look: look.months_after_fpi)
    final_month = expected_accrual_months(model) + lag_months
    looks.append(Look("final", final_month, float(n), float(n), 1.0, True))
    return tuple(looks)
