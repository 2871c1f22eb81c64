"""Quantiles of a survival curve, by R's two rules (``print.survfit`` and ``quantile.survfit``).

R's ``survival`` 3.5-3 has two codings of "the time where S(t) reaches 1 - p": the median in
``print.survfit`` / ``summary(fit)$table`` (``survmean``'s inner ``minmin``) and
``quantile.survfit`` (``findq``). They agree except on a curve that ends on a flat stretch at
exactly 1 - p. Both are reproduced here, NA points of a limit curve included.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from equitrial.stats.survival._counting import TIMEFIX_TOLERANCE

__all__ = ["find_quantile", "first_below_half"]

FloatArray = NDArray[np.float64]


def first_below_half(curve: FloatArray, time: FloatArray, tol: float = TIMEFIX_TOLERANCE) -> float:
    """The median of a step curve as ``print.survfit`` reports it (survival's ``minmin``).

    The first time at which ``curve < 0.5 + tol`` (NaN points skipped); if the curve there is
    0.5 within ``tol`` and later drops strictly lower, the midpoint between that time and the
    time of the first lower value. NaN if the curve never gets below ``0.5 + tol``.
    """
    keep = ~np.isnan(curve) & (curve < 0.5 + tol)
    if not np.any(keep):
        return math.nan
    x = time[keep]
    y = curve[keep]
    if abs(y[0] - 0.5) < tol:
        lower = np.flatnonzero(y < y[0])
        if lower.size:
            return float((x[0] + x[lower[0]]) / 2.0)
    return float(x[0])


def _first_occurrences(y: FloatArray) -> NDArray[np.intp]:
    """Positions kept by R's ``!duplicated(y)`` (all NaN count as one value), in order."""
    nan = np.isnan(y)
    _, first = np.unique(np.where(nan, 0.0, y)[~nan], return_index=True)
    kept = np.flatnonzero(~nan)[first]
    if np.any(nan):
        kept = np.append(kept, np.flatnonzero(nan)[0])
    return np.sort(kept)


def _step_index(knots: FloatArray, v: float) -> int | None:
    """R's ``approx(knots, seq_along(knots), v, method = "constant", f = 1)``, 0-based.

    NaN knots are dropped; returns the position of the smallest knot ``>= v``, or ``None``
    (R's NA) when ``v`` lies outside the range of the knots.
    """
    ok = np.flatnonzero(~np.isnan(knots))
    by_value = ok[np.argsort(knots[ok], kind="stable")]
    values = knots[by_value]
    if values.size == 0 or v < values[0] or v > values[-1]:
        return None
    return int(by_value[np.searchsorted(values, v, side="left")])


def find_quantile(
    time: FloatArray, curve: FloatArray, p: float, tol: float = TIMEFIX_TOLERANCE
) -> float:
    """The ``p`` quantile of a step curve as R's ``quantile.survfit`` computes it (``findq``).

    The curve starts at 1 at time 0. The quantile is the midpoint of the first times at which
    ``1 - curve`` reaches ``p - tol`` and ``p + tol``: the plain crossing time, or the midpoint
    of a flat stretch at exactly ``1 - p``. A curve whose last distinct value is ``1 - p`` gives
    the midpoint of the stretch's start and the last time. NaN where not reached.
    """
    x = np.concatenate(([0.0], time))
    y = np.concatenate(([0.0], 1.0 - curve))
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return math.nan
    x_last = float(x[-1])
    kept = _first_occurrences(y)
    x, y = x[kept], y[kept]
    i1 = _step_index(y + tol, p)
    i2 = _step_index(y - tol, p)
    quant = math.nan if i1 is None or i2 is None else float((x[i1] + x[i2]) / 2.0)
    if p == 0.0:
        quant = float(x[0])
    if not math.isnan(y[-1]) and abs(p - y[-1]) < tol:  # R's order: this overrides p == 0
        quant = math.nan if i1 is None else float((x[i1] + x_last) / 2.0)
    return quant
