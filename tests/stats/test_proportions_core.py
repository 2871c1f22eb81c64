"""The vectorized Miettinen–Nurminen core against slow, obviously correct oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from equitrial.stats._proportions_mn import (
    diff_restricted_mle,
    diff_score,
    ratio_restricted_mle,
    ratio_score,
)
from equitrial.stats.proportions import (
    _mn_difference_limits,
    _mn_ratio_limits,
    _mn_stratified_difference_limits,
    difference_ci,
    ratio_ci,
    stratified_difference_ci,
)


def _term(k: float, v: float) -> float:
    return 0.0 if k == 0 else k / v


def _oracle_diff_mle(delta: float, x1: int, n1: int, x2: int, n2: int) -> float:
    """p1 maximizing the binomial likelihood under p1 - p2 = delta, by brentq on its derivative.

    The parameter space [max(0, delta), min(1, 1 + delta)] is mapped to s in [0, 1] so that p1,
    1 - p1, p2 and 1 - p2 are formed without cancellation.
    """
    w = 1 - abs(delta)

    def point(s: float) -> tuple[float, float, float, float]:
        if delta >= 0:
            return delta + w * s, w * (1 - s), w * s, 1 - w * s
        return w * s, 1 - w * s, w * s - delta, w * (1 - s)

    def g(s: float) -> float:
        p1, q1, p2, q2 = point(s)
        return _term(x1, p1) - _term(n1 - x1, q1) + _term(x2, p2) - _term(n2 - x2, q2)

    edge = 1e-15
    if g(edge) <= 0:
        return point(0.0)[0]
    if g(1 - edge) >= 0:
        return point(1.0)[0]
    return point(brentq(g, edge, 1 - edge, xtol=1e-300, rtol=1e-15))[0]


def _oracle_ratio_mle(phi: float, x1: int, n1: int, x2: int, n2: int) -> float:
    """p2 maximizing the likelihood under p1 = phi * p2, by brentq on p2 * derivative in log p2."""
    if x1 + x2 == 0:
        return 0.0
    hi = min(1.0, 1.0 / phi)

    def h(t: float) -> float:
        p = math.exp(t)
        return (x1 + x2) - _term((n1 - x1) * phi * p, 1 - phi * p) - _term((n2 - x2) * p, 1 - p)

    top = math.log(hi) + math.log1p(-1e-15)
    if h(top) >= 0:
        return hi
    return math.exp(brentq(h, math.log(hi) - 80, top, xtol=1e-15, rtol=1e-15))


def _random_arms(rng: np.random.Generator, size: int) -> list[tuple[int, int, int, int]]:
    out = []
    for _ in range(size):
        n1, n2 = (int(v) for v in rng.integers(1, 300, 2))
        x1 = 0 if rng.random() < 0.2 else int(rng.integers(0, n1 + 1))
        x2 = n2 if rng.random() < 0.2 else int(rng.integers(0, n2 + 1))
        out.append((x1, n1, x2, n2))
    return out


def test_difference_restricted_mle_maximizes_the_constrained_likelihood() -> None:
    rng = np.random.default_rng(20240611)
    for x1, n1, x2, n2 in _random_arms(rng, 2000):
        delta = float(rng.uniform(-1, 1))
        got, got2 = diff_restricted_mle(*(np.array(float(v)) for v in (delta, x1, n1, x2, n2)))
        want = _oracle_diff_mle(delta, x1, n1, x2, n2)
        assert float(got) == pytest.approx(want, rel=1e-9, abs=1e-12), (x1, n1, x2, n2, delta)
        assert float(got2) == pytest.approx(want - delta, abs=1e-12)


def test_ratio_restricted_mle_maximizes_the_constrained_likelihood() -> None:
    rng = np.random.default_rng(1985)
    for x1, n1, x2, n2 in _random_arms(rng, 2000):
        phi = float(np.exp(rng.uniform(-5, 5)))
        got1, got2 = ratio_restricted_mle(*(np.array(float(v)) for v in (phi, x1, n1, x2, n2)))
        want = _oracle_ratio_mle(phi, x1, n1, x2, n2)
        assert float(got2) == pytest.approx(want, rel=1e-9, abs=1e-300), (x1, n1, x2, n2, phi)
        assert float(got1) == pytest.approx(phi * want, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_limits_are_roots_of_the_score_statistic(level: float) -> None:
    z = float(norm.ppf(0.5 + level / 2))
    rng = np.random.default_rng(7)
    cases = np.array(_random_arms(rng, 500), dtype=float)
    x1, n1, x2, n2 = cases.T
    lower, upper = _mn_difference_limits(x1, n1, x2, n2, level)
    inner = (lower > -1) & (upper < 1)
    np.testing.assert_allclose(diff_score(lower, x1, n1, x2, n2)[lower > -1], z, rtol=1e-8)
    np.testing.assert_allclose(diff_score(upper, x1, n1, x2, n2)[upper < 1], -z, rtol=1e-8)
    assert inner.sum() > 400
    rlo, rhi = _mn_ratio_limits(x1, n1, x2, n2, level)
    ok = rlo > 0
    np.testing.assert_allclose(ratio_score(rlo[ok], x1[ok], n1[ok], x2[ok], n2[ok]), z, rtol=1e-8)
    ok = np.isfinite(rhi)
    np.testing.assert_allclose(ratio_score(rhi[ok], x1[ok], n1[ok], x2[ok], n2[ok]), -z, rtol=1e-8)


def test_vectorized_core_broadcasts_and_keeps_the_shape() -> None:
    # every outcome of a 20-vs-25 trial at once, as exact power by enumeration needs it
    x1 = np.arange(21)[:, np.newaxis]
    x2 = np.arange(26)[np.newaxis, :]
    lower, upper = _mn_difference_limits(x1, 20, x2, 25, 0.9)
    assert lower.shape == upper.shape == (21, 26)
    assert lower.dtype == np.float64
    for i, j in [(0, 0), (20, 0), (0, 25), (7, 11), (20, 25)]:
        res = difference_ci(i, 20, j, 25, level=0.9)
        # the bisection runs until every element has converged: a batch may refine further
        assert (lower[i, j], upper[i, j]) == pytest.approx((res.lower, res.upper), rel=1e-12)
    rlo, rhi = _mn_ratio_limits(x1, 20, x2, 25, 0.9)
    assert rlo.shape == (21, 26)
    res = ratio_ci(7, 20, 11, 25, level=0.9)
    assert (rlo[7, 11], rhi[7, 11]) == pytest.approx((res.lower, res.upper), rel=1e-12)


def test_stratified_core_takes_many_datasets_with_strata_on_the_last_axis() -> None:
    rng = np.random.default_rng(3)
    n1 = np.array([10, 20, 15])
    n2 = np.array([12, 18, 15])
    x1 = rng.integers(0, n1 + 1, size=(50, 3))
    x2 = rng.integers(0, n2 + 1, size=(50, 3))
    est, lower, upper = _mn_stratified_difference_limits(x1, n1, x2, n2, 0.95)
    assert est.shape == lower.shape == upper.shape == (50,)
    for m in range(50):
        res = stratified_difference_ci(list(x1[m]), list(n1), list(x2[m]), list(n2))
        want = (res.estimate, res.lower, res.upper)
        assert (est[m], lower[m], upper[m]) == pytest.approx(want, rel=1e-12, abs=1e-15)
