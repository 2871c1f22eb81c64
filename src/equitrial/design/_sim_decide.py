"""Decision rules on simulated counts: the two one-sided tests at a critical value, the estimate.

The Miettinen-Nurminen decision does not compute the interval: the score statistic ``T`` of
:mod:`equitrial.stats._proportions_mn` decreases in the hypothesised ratio (difference), so the
one-sided tests at the margins reject at critical value ``z`` iff ``T(L) > z`` and ``T(U) <
-z`` (the ``1 - 2 (1 - Phi(z))`` interval lies strictly inside ``(L, U)``) — two evaluations of
the score instead of two root searches, shared by every critical value of a look. The other
methods are the closed-form limits of :func:`equitrial.stats.proportions.difference_ci` and
:func:`~equitrial.stats.proportions.ratio_ci` written elementwise (those functions take one
table at a time) at the critical value; the tests check every method against them table by
table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from equitrial.design._sim_spec import Analysis
from equitrial.stats._proportions_mn import diff_score, ratio_score
from equitrial.stats._proportions_single import wilson_limits

__all__ = ["conclude", "decide", "estimate"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def _limits(
    x1: FloatArray, n1: FloatArray, x2: FloatArray, n2: FloatArray, method: str, z: float
) -> tuple[FloatArray, FloatArray]:
    """Closed-form interval limits (all methods but Miettinen-Nurminen), elementwise."""
    p1, p2 = x1 / n1, x2 / n2
    if method == "log":  # Katz; 0.5 added to each cell when a count is zero
        zero = (x1 == 0) | (x2 == 0)
        a, m, c, k = x1 + 0.5 * zero, n1 + zero, x2 + 0.5 * zero, n2 + zero
        est = (a / m) / (c / k)
        se = np.sqrt(1.0 / a - 1.0 / m + 1.0 / c - 1.0 / k)
        return est * np.exp(-z * se), est * np.exp(z * se)
    if method == "newcombe":
        l1, u1 = wilson_limits(x1, n1, z)
        l2, u2 = wilson_limits(x2, n2, z)
        d = p1 - p2
        return d - np.hypot(p1 - l1, u2 - p2), d + np.hypot(u1 - p1, p2 - l2)
    if method == "agresti-caffo":
        x1, n1, x2, n2 = x1 + 1.0, n1 + 2.0, x2 + 1.0, n2 + 2.0
        p1, p2 = x1 / n1, x2 / n2
    half = z * np.sqrt(p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2)
    return np.clip(p1 - p2 - half, -1.0, 1.0), np.clip(p1 - p2 + half, -1.0, 1.0)


def decide(
    x1: NDArray[np.int64],
    n1: NDArray[np.int64],
    x2: NDArray[np.int64],
    n2: NDArray[np.int64],
    analysis: Analysis,
    critical: Sequence[float],
) -> tuple[BoolArray, list[BoolArray]]:
    """Whether both one-sided tests reject, at each critical value (arm 1 = test).

    Returns ``(evaluable, passes)``: ``evaluable`` marks the tables with a patient in each arm,
    ``passes[j]`` those whose one-sided tests at the margins (the lower alone for
    non-inferiority) all reject at ``critical[j]`` (z scale; ``inf`` rejects nothing). A table
    with an empty arm passes nothing.
    """
    ok = (n1 > 0) & (n2 > 0)
    fx1, fx2 = np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64)
    fn1 = np.maximum(n1, 1).astype(np.float64)
    fn2 = np.maximum(n2, 1).astype(np.float64)
    lower_m = np.full_like(fx1, analysis.lower_margin)
    one_sided = analysis.hypothesis == "non-inferiority" or analysis.upper_margin is None
    upper_m = np.full_like(fx1, np.inf if one_sided else analysis.upper_margin)
    out = []
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if analysis.method == "miettinen-nurminen":
            score = ratio_score if analysis.scale == "ratio" else diff_score
            smallest = score(lower_m, fx1, fn1, fx2, fn2)
            if not one_sided:
                smallest = np.minimum(smallest, -score(upper_m, fx1, fn1, fx2, fn2))
            out = [ok & (smallest > z) for z in critical]
        else:
            for z in critical:
                low, high = _limits(fx1, fn1, fx2, fn2, analysis.method, z)
                out.append(ok & (low > lower_m) & (high < upper_m))
    return ok, [np.asarray(flags, dtype=np.bool_) for flags in out]


def conclude(
    x1: NDArray[np.int64],
    n1: NDArray[np.int64],
    x2: NDArray[np.int64],
    n2: NDArray[np.int64],
    analysis: Analysis,
    critical: float | None = None,
) -> BoolArray:
    """Whether each table concludes equivalence (non-inferiority) at ``critical``.

    ``critical`` defaults to the analysis' final critical value (the fixed design: the
    two-sided ``level`` interval strictly inside the margins). Tables with an empty arm
    conclude nothing (False).
    """
    z = analysis.final_z if critical is None else critical
    return decide(x1, n1, x2, n2, analysis, (z,))[1][0]


def estimate(
    x1: NDArray[np.int64],
    n1: NDArray[np.int64],
    x2: NDArray[np.int64],
    n2: NDArray[np.int64],
    scale: str,
) -> FloatArray:
    """ORR ratio or difference (test vs reference); NaN with an empty arm or ``0/0`` ratio."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(n1 > 0, x1 / np.maximum(n1, 1), np.nan)
        p2 = np.where(n2 > 0, x2 / np.maximum(n2, 1), np.nan)
        return np.asarray(p1 / p2 if scale == "ratio" else p1 - p2, dtype=np.float64)
