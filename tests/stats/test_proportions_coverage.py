"""Exact coverage of the Miettinen–Nurminen intervals, by enumeration of every outcome (slow).

Coverage at (p1, p2) is the sum of the binomial probabilities of the outcomes (x1, x2) whose
interval contains the true value; no simulation noise. Newcombe (1998, Stat Med 17:873) found the
MN score interval's mean coverage close to nominal, with the minimum somewhat below it at small n;
the bounds asserted here are that claim made checkable: mean within 0.01 of nominal; minimum at
least 0.92 at 95% and 0.83 at 90% (the dips grow relative to alpha at lower levels: at n = 10 per
arm the minimum over the grid is about 0.925 at 95% and 0.837 at 90%).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from equitrial.stats.proportions import (
    _mn_difference_limits,
    _mn_ratio_limits,
    _mn_stratified_difference_limits,
)

pytestmark = pytest.mark.slow

GRID = np.round(np.arange(0.05, 0.951, 0.05), 2)


def _coverage(
    n1: int, n2: int, lower: np.ndarray, upper: np.ndarray, truth: np.ndarray
) -> np.ndarray:
    """Coverage for each (p1, p2) in GRID x GRID; truth[i, j] is the true parameter."""
    x1, x2 = np.arange(n1 + 1), np.arange(n2 + 1)
    out = np.empty((GRID.size, GRID.size))
    pmf1 = [binom.pmf(x1, n1, p) for p in GRID]
    pmf2 = [binom.pmf(x2, n2, p) for p in GRID]
    for i in range(GRID.size):
        for j in range(GRID.size):
            t = truth[i, j]
            covered = (lower <= t) & (t <= upper)
            out[i, j] = pmf1[i] @ covered @ pmf2[j]
    return out


@pytest.mark.parametrize(
    ("n1", "n2"), [(10, 10), (20, 20), (50, 50), (100, 100), (150, 150), (30, 60), (80, 40)]
)
@pytest.mark.parametrize(("level", "floor"), [(0.95, 0.92), (0.9, 0.83)])
def test_mn_difference_exact_coverage_is_close_to_nominal(
    n1: int, n2: int, level: float, floor: float
) -> None:
    x1 = np.arange(n1 + 1)[:, np.newaxis]
    x2 = np.arange(n2 + 1)[np.newaxis, :]
    lower, upper = _mn_difference_limits(x1, n1, x2, n2, level)
    truth = GRID[:, np.newaxis] - GRID[np.newaxis, :]
    cov = _coverage(n1, n2, lower, upper, truth)
    assert level - 0.01 <= cov.mean() <= level + 0.01
    assert cov.min() >= floor


@pytest.mark.parametrize(("n1", "n2"), [(20, 20), (50, 50), (150, 150), (40, 80)])
def test_mn_ratio_exact_coverage_is_close_to_nominal(n1: int, n2: int) -> None:
    x1 = np.arange(n1 + 1)[:, np.newaxis]
    x2 = np.arange(n2 + 1)[np.newaxis, :]
    lower, upper = _mn_ratio_limits(x1, n1, x2, n2, 0.95)
    truth = GRID[:, np.newaxis] / GRID[np.newaxis, :]
    cov = _coverage(n1, n2, lower, upper, truth)
    assert 0.94 <= cov.mean() <= 0.96
    assert cov.min() >= 0.92


def test_stratified_mn_exact_coverage_over_two_strata() -> None:
    # strata of 8 and 12 patients per arm, common difference delta: all 9^2 * 13^2 outcomes
    na, nb = 8, 12
    a, b = np.arange(na + 1), np.arange(nb + 1)
    a1, a2, b1, b2 = np.meshgrid(a, a, b, b, indexing="ij")
    x1 = np.stack([a1.ravel(), b1.ravel()], axis=-1)
    x2 = np.stack([a2.ravel(), b2.ravel()], axis=-1)
    sizes = np.array([na, nb])
    _, lower, upper = _mn_stratified_difference_limits(x1, sizes, x2, sizes, 0.95)
    coverages = []
    for base_a in (0.2, 0.5, 0.8):
        for base_b in (0.3, 0.6):
            for delta in (-0.1, 0.0, 0.1, 0.15):
                p1a, p2a = base_a + delta / 2, base_a - delta / 2
                p1b, p2b = base_b + delta / 2, base_b - delta / 2
                truth = p1a - p2a  # = p1b - p2b up to rounding
                prob = (
                    binom.pmf(a1, na, p1a)
                    * binom.pmf(a2, na, p2a)
                    * binom.pmf(b1, nb, p1b)
                    * binom.pmf(b2, nb, p2b)
                ).ravel()
                covered = (lower <= truth + 1e-12) & (truth - 1e-12 <= upper)
                coverages.append(prob[covered].sum())
    assert 0.94 <= np.mean(coverages) <= 0.96
    assert min(coverages) >= 0.92
