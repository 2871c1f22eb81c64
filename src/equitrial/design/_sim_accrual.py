"""Patient accrual for the trial simulator: site activation ramp, then a constant rate.

Also home of :func:`inverse_cumulative_rate`, the inversion of a piecewise-linear cumulative
intensity that both accrual (arrival times) and the piecewise-exponential survival models
(event times) use.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["accrual_knots", "arrival_times", "cumulative_rate", "inverse_cumulative_rate"]

FloatArray = NDArray[np.float64]


def inverse_cumulative_rate(e: FloatArray, knots: FloatArray, rates: FloatArray) -> FloatArray:
    """Solve ``Lambda(t) = e`` elementwise for a piecewise-constant rate.

    ``rates[j]`` holds on ``[knots[j], knots[j + 1])`` and the last rate for ever after;
    ``knots[0]`` must be 0 and ``knots`` increasing. ``Lambda`` is then piecewise linear and
    ``t = knots[j] + (e - Lambda(knots[j])) / rates[j]`` on the piece where ``e`` falls. A zero
    last rate (a plateau) gives ``inf`` for ``e`` beyond the total; zero rates inside are
    skipped (``Lambda`` is flat there).
    """
    widths = np.diff(knots)
    cum = np.concatenate(([0.0], np.cumsum(rates[:-1] * widths)))
    # the last piece whose cumulative start is <= e; after a zero-rate piece the next piece has
    # the same start and is the one chosen, so only a zero *last* rate is ever divided by
    piece = np.searchsorted(cum, e, side="right") - 1
    rate = rates[piece]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = knots[piece] + (e - cum[piece]) / rate
    return np.asarray(np.where(rate > 0.0, t, np.inf), dtype=np.float64)


def cumulative_rate(t: FloatArray, knots: FloatArray, rates: FloatArray) -> FloatArray:
    """``Lambda(t)`` for the piecewise-constant rate of :func:`inverse_cumulative_rate`."""
    widths = np.diff(knots)
    cum = np.concatenate(([0.0], np.cumsum(rates[:-1] * widths)))
    piece = np.searchsorted(knots, t, side="right") - 1
    return np.asarray(cum[piece] + (t - knots[piece]) * rates[piece], dtype=np.float64)


def accrual_knots(
    n_sites: int, ramp_months: float, rate_per_site: float
) -> tuple[FloatArray, FloatArray]:
    """Activation times and recruitment rates of the site ramp.

    Site ``k`` (``k = 0, ..., n_sites - 1``) opens at ``ramp_months * k / n_sites``: the first at
    study start, the others evenly over the ramp. While ``k + 1`` sites are open the trial
    recruits ``(k + 1) * rate_per_site`` patients per month. With ``ramp_months = 0`` every site
    opens at once.
    """
    if ramp_months == 0.0:
        return np.zeros(1), np.array([n_sites * rate_per_site])
    knots = ramp_months * np.arange(n_sites, dtype=np.float64) / n_sites
    rates = rate_per_site * np.arange(1, n_sites + 1, dtype=np.float64)
    return knots, rates


def arrival_times(
    rng: np.random.Generator,
    n_rows: int,
    n_patients: int,
    n_sites: int,
    ramp_months: float,
    rate_per_site: float,
) -> FloatArray:
    """Arrival times (months from study start) of ``n_patients`` in each of ``n_rows`` trials.

    The arrivals are an inhomogeneous Poisson process with the intensity of
    :func:`accrual_knots`: unit-rate exponential gaps, cumulated, mapped through the inverse
    cumulative intensity. Shape ``(n_rows, n_patients)``, increasing along each row.
    """
    knots, rates = accrual_knots(n_sites, ramp_months, rate_per_site)
    unit = np.cumsum(rng.standard_exponential((n_rows, n_patients)), axis=1)
    return inverse_cumulative_rate(unit, knots, rates)
