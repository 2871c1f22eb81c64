"""Bad input to equitrial.design.sequential: each error names the argument at fault."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from equitrial.design.sequential import boundaries, inflation_factor, stopping_probabilities
from equitrial.errors import InvalidInputError, UnknownOptionError


@pytest.mark.parametrize(
    "rates",
    [
        [0.5, 0.5, 1.0],
        [0.7, 0.4, 1.0],
        [0.0, 1.0],
        [-0.2, 1.0],
        [0.5, 0.9],
        [0.5, 1.2],
        [],
        [[0.5, 1.0]],
        [math.nan, 1.0],
        ["a", 1.0],
    ],
)
def test_invalid_information_rates_are_refused(rates: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        boundaries(rates)
    assert err.value.field == "information_rates"


def test_last_rate_within_rounding_of_one_is_taken_as_one() -> None:
    rates = np.cumsum([0.1] * 10)  # ends at 0.9999999999999999
    design = boundaries(rates)
    assert design.information_rates[-1] == 1.0


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.7, -0.1, 1.0, math.nan, "x"])
def test_alpha_outside_zero_half_is_refused(alpha: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        boundaries([0.5, 1.0], alpha=alpha)
    assert err.value.field == "alpha"


def test_unknown_spending_is_refused_naming_the_choices() -> None:
    with pytest.raises(UnknownOptionError, match="classical-pocock") as err:
        boundaries([0.5, 1.0], spending="asOF")  # type: ignore[arg-type]
    assert err.value.field == "spending"


def test_hwang_shih_decani_needs_gamma() -> None:
    with pytest.raises(InvalidInputError, match="needs gamma") as err:
        boundaries([0.5, 1.0], spending="hwang-shih-decani")
    assert err.value.field == "gamma"


@pytest.mark.parametrize("gamma", [math.nan, math.inf, "x", True])
def test_non_finite_gamma_is_refused(gamma: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        boundaries([0.5, 1.0], spending="hwang-shih-decani", gamma=gamma)
    assert err.value.field == "gamma"


def test_gamma_for_another_family_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="only to spending='hwang-shih-decani'") as err:
        boundaries([0.5, 1.0], spending="pocock", gamma=1.0)
    assert err.value.field == "gamma"


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ([0.0], "one value per interim look"),
        ([0.0, 0.5, 1.0], "one value per interim look"),
        ([math.nan, 0.0], "NaN"),
        ([math.inf, 0.0], "NaN or \\+inf"),
        ([0.0, 2.6], r"futility_bounds\[1\] = 2.6 must lie below the critical value"),
    ],
)
def test_invalid_futility_bounds_are_refused(bounds: list[float], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as err:
        boundaries([1 / 3, 2 / 3, 1.0], futility_bounds=bounds)
    assert err.value.field == "futility_bounds"


def test_minus_infinity_means_no_futility_bound_at_that_look() -> None:
    design = boundaries([1 / 3, 2 / 3, 1.0], futility_bounds=[-math.inf, 0.0])
    assert design.futility_bounds is not None
    assert design.futility_bounds[0] == -math.inf


def test_stopping_probabilities_refuse_mismatched_lengths() -> None:
    with pytest.raises(InvalidInputError, match="same length"):
        stopping_probabilities([2.5, 2.0, 1.9], [0.5, 1.0])


@pytest.mark.parametrize("critical", [[math.nan, 2.0], [-math.inf, 2.0]])
def test_stopping_probabilities_refuse_nan_or_minus_infinite_boundaries(
    critical: list[float],
) -> None:
    with pytest.raises(InvalidInputError) as err:
        stopping_probabilities(critical, [0.5, 1.0])
    assert err.value.field == "critical_values"


@pytest.mark.parametrize("drift", [math.nan, math.inf, "x"])
def test_stopping_probabilities_refuse_non_finite_drift(drift: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        stopping_probabilities([2.5, 2.0], [0.5, 1.0], drift=drift)
    assert err.value.field == "drift"


def test_stopping_probabilities_refuse_futility_above_the_boundary() -> None:
    with pytest.raises(InvalidInputError) as err:
        stopping_probabilities([2.5, 2.0], [0.5, 1.0], futility=[2.5])
    assert err.value.field == "futility"


def test_stopping_probabilities_accept_an_infinite_efficacy_boundary() -> None:
    # no stop at look 1, so the final test alone has level 1 - Phi(b_2) (the whole of Z_1's
    # distribution is carried on the grid)
    res = stopping_probabilities([math.inf, norm.isf(0.025)], [0.5, 1.0])
    assert res.efficacy[0] == 0.0
    assert res.rejection == pytest.approx(0.025, abs=1e-9)


@pytest.mark.parametrize("power", [0.0, 0.025, 0.01, 1.0, 1.5, math.nan])
def test_inflation_factor_refuses_power_outside_alpha_one(power: float) -> None:
    design = boundaries([0.5, 1.0])
    with pytest.raises(InvalidInputError) as err:
        inflation_factor(design, power=power)
    assert err.value.field == "power"
