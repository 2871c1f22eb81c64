"""Properties of equitrial.design.sequential and a slow, obviously correct oracle.

The oracle integrates the two- and three-look crossing probabilities with
``scipy.integrate.quad`` from the conditional normal laws of the canonical joint distribution
(Jennison & Turnbull 2000, section 3.1) — an independent route to the recursive Simpson
integration. Tolerance against it: 1e-8 absolute on probabilities.
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.stats import norm

from equitrial.design import _sequential_integration as integration
from equitrial.design.sequential import (
    Spending,
    boundaries,
    inflation_factor,
    stopping_probabilities,
)

FAMILIES: list[Spending] = [
    "obrien-fleming",
    "pocock",
    "hwang-shih-decani",
    "classical-obrien-fleming",
    "classical-pocock",
]
ORACLE_ATOL = 1e-8


@st.composite
def information_rates(draw: st.DrawFn, max_looks: int = 6) -> list[float]:
    k = draw(st.integers(1, max_looks))
    interior = draw(
        st.lists(st.floats(0.05, 0.95), min_size=k - 1, max_size=k - 1, unique=True).map(sorted)
    )
    rates = [*interior, 1.0]
    if any(b - a < 0.02 for a, b in zip([0.0, *rates[:-1]], rates, strict=True)):
        rates = list(np.arange(1, k + 1) / k)
    return rates


def _gamma(spending: Spending) -> float | None:
    return -2.0 if spending == "hwang-shih-decani" else None


@settings(max_examples=40)
@given(
    rates=information_rates(),
    alpha=st.floats(0.001, 0.2),
    spending=st.sampled_from(FAMILIES),
)
def test_alpha_spent_increases_to_alpha_and_matches_exit_probabilities(
    rates: list[float], alpha: float, spending: Spending
) -> None:
    design = boundaries(rates, alpha=alpha, spending=spending, gamma=_gamma(spending))
    assert np.all(np.diff(design.alpha_spent) >= 0.0)
    assert design.alpha_spent[-1] == alpha
    assert np.all(design.exit_probabilities >= 0.0)
    np.testing.assert_allclose(np.cumsum(design.exit_probabilities), design.alpha_spent, atol=1e-8)
    assert np.all(design.critical_values >= norm.isf(alpha) - 1e-9)


@pytest.mark.parametrize("spending", FAMILIES)
@pytest.mark.parametrize("alpha", [0.001, 0.025, 0.05, 0.2])
def test_one_look_gives_the_fixed_design_critical_value(spending: Spending, alpha: float) -> None:
    design = boundaries([1.0], alpha=alpha, spending=spending, gamma=_gamma(spending))
    assert design.critical_values[0] == pytest.approx(norm.isf(alpha), abs=1e-12)
    assert design.exit_probabilities[0] == pytest.approx(alpha, rel=1e-12)
    assert inflation_factor(design) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("spending", ["obrien-fleming", "classical-obrien-fleming"])
@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_obrien_fleming_boundaries_decrease_for_equal_spacing(spending: Spending, k: int) -> None:
    design = boundaries(np.arange(1, k + 1) / k, spending=spending)
    assert np.all(np.diff(design.critical_values) < 0.0)


def test_hwang_shih_decani_with_gamma_zero_spends_linearly() -> None:
    rates = [0.2, 0.55, 1.0]
    design = boundaries(rates, alpha=0.05, spending="hwang-shih-decani", gamma=0.0)
    np.testing.assert_allclose(design.alpha_spent, 0.05 * np.array(rates), rtol=1e-15)


@pytest.mark.parametrize("gamma", [-800.0, -60.0, -1e-3, 1e-3, 60.0, 800.0])
def test_hwang_shih_decani_extreme_gamma_matches_exact_decimal_arithmetic(gamma: float) -> None:
    design = boundaries([0.5, 1.0], spending="hwang-shih-decani", gamma=gamma)
    with localcontext() as ctx:
        ctx.prec = 60
        g = Decimal(gamma)
        exact = Decimal("0.025") * (1 - (-g / 2).exp()) / (1 - (-g).exp())
    assert design.alpha_spent[0] == pytest.approx(float(exact), rel=1e-13)
    # gamma = 800 spends all of alpha at look 1 (in double precision): look 2 cannot reject
    assert not np.any(np.isnan(design.critical_values))
    assert design.exit_probabilities.sum() == pytest.approx(0.025, rel=1e-9)


def test_look_that_spends_nothing_gets_an_infinite_boundary() -> None:
    # alpha(1e-4) = 2 - 2 Phi(2.2414 / 0.01) underflows to 0: nothing is spent at look 1
    design = boundaries([1e-4, 1.0])
    assert design.critical_values[0] == math.inf
    assert design.exit_probabilities[0] == 0.0
    assert design.critical_values[1] == pytest.approx(norm.isf(0.025), abs=1e-9)


def test_non_binding_futility_does_not_change_the_critical_values() -> None:
    plain = boundaries([1 / 3, 2 / 3, 1.0])
    with_futility = boundaries([1 / 3, 2 / 3, 1.0], futility_bounds=[0.0, 0.5])
    np.testing.assert_array_equal(plain.critical_values, with_futility.critical_values)
    assert inflation_factor(with_futility) > inflation_factor(plain)


def test_stopping_probabilities_under_h0_equal_the_design_exit_probabilities() -> None:
    design = boundaries([0.25, 0.6, 1.0], spending="pocock")
    res = stopping_probabilities(design.critical_values, design.information_rates)
    np.testing.assert_allclose(res.efficacy, design.exit_probabilities, rtol=1e-12)
    np.testing.assert_array_equal(res.futility, [0.0, 0.0])
    assert res.stopping.sum() == pytest.approx(1.0, abs=1e-12)


def test_results_are_frozen() -> None:
    design = boundaries([0.5, 1.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        design.alpha = 0.05  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        design.critical_values[0] = 0.0


def test_grid_r_60_is_converged_against_r_200(monkeypatch: pytest.MonkeyPatch) -> None:
    cases: list[tuple[list[float], Spending, float | None]] = [
        ([0.2, 0.4, 0.6, 0.8, 1.0], "obrien-fleming", None),
        ([0.3, 0.7, 1.0], "classical-pocock", None),
        ([1 / 3, 2 / 3, 1.0], "hwang-shih-decani", -10.0),
    ]
    coarse = [boundaries(r, spending=s, gamma=g).critical_values for r, s, g in cases]
    monkeypatch.setattr(integration, "_BASE", integration._base_grid(200))
    fine = [boundaries(r, spending=s, gamma=g).critical_values for r, s, g in cases]
    for a, b in zip(coarse, fine, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=5e-8)


# ---- oracle: adaptive quadrature of the conditional normal laws -------------------------------


def _conditional_upper(b: float, z: float, t0: float, t1: float, drift: float) -> float:
    """P(Z_{t1} >= b | Z_{t0} = z): the score increment is N(drift (t1 - t0), t1 - t0)."""
    mean = z * math.sqrt(t0) + drift * (t1 - t0)
    return float(norm.sf((b * math.sqrt(t1) - mean) / math.sqrt(t1 - t0)))


def _oracle_two_looks(
    t1: float, b: tuple[float, float], a1: float, drift: float
) -> tuple[float, float, float]:
    m1 = drift * math.sqrt(t1)
    first = float(norm.sf(b[0] - m1))
    futility = float(norm.cdf(a1 - m1))
    second, _ = integrate.quad(
        lambda z: norm.pdf(z - m1) * _conditional_upper(b[1], z, t1, 1.0, drift),
        max(a1, m1 - 12),
        b[0],
        epsabs=1e-13,
        epsrel=1e-12,
        limit=200,
    )
    return first, futility, second


@settings(max_examples=25)
@given(
    t1=st.floats(0.1, 0.9),
    b1=st.floats(1.5, 4.5),
    b2=st.floats(1.0, 3.0),
    a1=st.one_of(st.just(-math.inf), st.floats(-2.0, 1.0)),
    drift=st.floats(-1.0, 4.0),
)
def test_two_look_probabilities_match_quadrature_oracle(
    t1: float, b1: float, b2: float, a1: float, drift: float
) -> None:
    res = stopping_probabilities([b1, b2], [t1, 1.0], drift=drift, futility=[a1])
    first, futility, second = _oracle_two_looks(t1, (b1, b2), a1, drift)
    np.testing.assert_allclose(res.efficacy, [first, second], rtol=0, atol=ORACLE_ATOL)
    expected_futility = futility if a1 > -math.inf else 0.0
    assert res.futility[0] == pytest.approx(expected_futility, abs=ORACLE_ATOL)


def test_three_look_probability_matches_nested_quadrature_oracle() -> None:
    t = (0.3, 0.65, 1.0)
    b = (3.2, 2.4, 2.0)
    a = (-0.5, 0.4)
    drift = 2.5
    m1 = drift * math.sqrt(t[0])
    dt = t[1] - t[0]

    def density_2(z2: float, z1: float) -> float:
        mean = z1 * math.sqrt(t[0]) + drift * dt
        scale = math.sqrt(dt)
        return float(norm.pdf((z2 * math.sqrt(t[1]) - mean) / scale) * math.sqrt(t[1]) / scale)

    def inner(z1: float) -> float:
        value, _ = integrate.quad(
            lambda z2: density_2(z2, z1) * _conditional_upper(b[2], z2, t[1], 1.0, drift),
            a[1],
            b[1],
            epsabs=1e-13,
            epsrel=1e-12,
        )
        return float(norm.pdf(z1 - m1) * value)

    third, _ = integrate.quad(inner, a[0], b[0], epsabs=1e-12, epsrel=1e-11)
    res = stopping_probabilities(b, t, drift=drift, futility=a)
    assert res.efficacy[2] == pytest.approx(third, abs=ORACLE_ATOL)
