"""Zero cells, x = n and other boundaries: each method's documented behaviour."""

from __future__ import annotations

import dataclasses
import math

import pytest
from scipy.stats import norm

from equitrial.stats import _interval
from equitrial.stats.proportions import (
    Interval,
    binomial_ci,
    cmh_test,
    difference_ci,
    ratio_ci,
    stratified_difference_ci,
)

BINOMIAL = ["clopper-pearson", "wilson", "wilson-cc", "jeffreys", "agresti-coull"]
DIFFERENCE = ["miettinen-nurminen", "newcombe", "wald", "agresti-caffo"]


def test_interval_is_the_shared_result_type() -> None:
    assert Interval is _interval.Interval
    res = difference_ci(3, 10, 4, 10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.lower = 0.0  # type: ignore[misc]
    assert (res.level, res.method) == (0.95, "miettinen-nurminen")


@pytest.mark.parametrize("method", BINOMIAL)
def test_binomial_limit_is_0_at_x_0_and_1_at_x_n(method: str) -> None:
    zero = binomial_ci(0, 25, method=method)  # type: ignore[arg-type]
    full = binomial_ci(25, 25, method=method)  # type: ignore[arg-type]
    assert zero.lower == 0.0 and 0.0 < zero.upper < 1.0
    assert full.upper == 1.0 and 0.0 < full.lower < 1.0
    # the two are mirror images
    assert math.isclose(full.lower, 1.0 - zero.upper, rel_tol=1e-12)


def test_clopper_pearson_at_x_0_is_the_closed_form() -> None:
    # P(X = 0) = (1 - p)^n = alpha / 2 at the upper limit
    assert math.isclose(binomial_ci(0, 20).upper, 1 - 0.025 ** (1 / 20), rel_tol=1e-12)


def test_wilson_cc_keeps_the_correction_at_x_equal_n_over_2() -> None:
    # prop.test(5, 10, correct = TRUE) would drop it (|x - n p0| < 0.5); the correction widens
    plain = binomial_ci(5, 10, method="wilson")
    corrected = binomial_ci(5, 10, method="wilson-cc")
    assert corrected.lower < plain.lower and corrected.upper > plain.upper


@pytest.mark.parametrize("method", DIFFERENCE)
@pytest.mark.parametrize("x", [0, 12])
def test_difference_with_no_variation_in_either_arm(method: str, x: int) -> None:
    res = difference_ci(x, 12, x * 20 // 12, 20, method=method)  # type: ignore[arg-type]
    assert res.estimate == 0.0
    if method == "wald":
        assert (res.lower, res.upper) == (0.0, 0.0)  # zero variance: the known defect of Wald
    else:
        assert -1.0 < res.lower < 0.0 < res.upper < 1.0


def test_mn_difference_is_symmetric_for_0_of_n_in_both_arms() -> None:
    res = difference_ci(0, 15, 0, 15)
    assert math.isclose(res.lower, -res.upper, rel_tol=1e-12)


def test_mn_difference_all_vs_none_in_small_arms() -> None:
    res = difference_ci(1, 1, 0, 1)
    assert res.upper == 1.0 and -1.0 < res.lower < 1.0
    res = difference_ci(0, 1, 1, 1)
    assert res.lower == -1.0 and -1.0 < res.upper < 1.0


def test_agresti_caffo_can_miss_the_estimate_below_95_percent_as_documented() -> None:
    res = difference_ci(0, 1, 1, 1, level=0.9, method="agresti-caffo")
    assert res.estimate == -1.0 and res.lower > -1.0
    assert difference_ci(0, 1, 1, 1, level=0.95, method="agresti-caffo").lower == -1.0


def test_mn_ratio_zero_numerator_has_lower_limit_zero() -> None:
    res = ratio_ci(0, 40, 6, 40)
    assert (res.estimate, res.lower) == (0.0, 0.0)
    assert 0.0 < res.upper < math.inf


def test_mn_ratio_zero_denominator_has_infinite_upper_limit() -> None:
    res = ratio_ci(6, 40, 0, 40)
    assert res.estimate == math.inf and res.upper == math.inf
    assert 0.0 < res.lower < math.inf


@pytest.mark.parametrize("method", ["miettinen-nurminen", "log"])
def test_ratio_with_no_event_in_either_arm_is_nan_with_the_whole_half_line(method: str) -> None:
    res = ratio_ci(0, 40, 0, 30, method=method)  # type: ignore[arg-type]
    assert math.isnan(res.estimate)
    assert (res.lower, res.upper) == (0.0, math.inf)
    assert res.contains(1.0) and res.width == math.inf


def test_log_ratio_with_a_zero_cell_uses_the_half_corrected_table() -> None:
    # x1 = 0: estimate (0.5 / 41) / (6.5 / 41), variance 1/0.5 - 1/41 + 1/6.5 - 1/41
    res = ratio_ci(0, 40, 6, 40, method="log")
    assert math.isclose(res.estimate, 0.5 / 6.5, rel_tol=1e-12)
    se = math.sqrt(1 / 0.5 - 1 / 41 + 1 / 6.5 - 1 / 41)
    assert math.isclose(res.upper, res.estimate * math.exp(norm.ppf(0.975) * se), rel_tol=1e-12)


def test_log_ratio_with_all_events_in_both_arms_is_degenerate_as_documented() -> None:
    res = ratio_ci(10, 10, 20, 20, method="log")
    assert (res.estimate, res.lower, res.upper) == (1.0, 1.0, 1.0)
    mn = ratio_ci(10, 10, 20, 20)
    assert mn.lower < 1.0 < mn.upper


def test_stratified_all_responders_vs_none_has_upper_limit_one() -> None:
    res = stratified_difference_ci([5, 3], [5, 3], [0, 0], [4, 6])
    assert res.estimate == 1.0 and res.upper == 1.0 and res.lower < 1.0


def test_stratified_with_an_uninformative_stratum() -> None:
    # a stratum with no responder in either arm still counts (weight and restricted variance)
    with_zero = stratified_difference_ci([10, 0], [30, 10], [5, 0], [30, 10])
    without = stratified_difference_ci([10], [30], [5], [30])
    assert with_zero.estimate < without.estimate
    assert with_zero.lower <= with_zero.estimate <= with_zero.upper


def test_cmh_without_outcome_variation_is_statistic_0_pvalue_1() -> None:
    # every stratum all responders or all non-responders: sum of variances 0 (R gives NaN)
    res = cmh_test([5, 0], [5, 8], [7, 0], [7, 9], correct=True)
    assert (res.statistic, res.pvalue, res.df) == (0.0, 1.0, 1)
    assert math.isnan(res.odds_ratio)
    ci = res.confidence_interval()
    assert (ci.lower, ci.upper) == (0.0, math.inf)


def test_cmh_odds_ratio_zero_when_no_concordant_cell() -> None:
    # a * d = 0 in every stratum: MH odds ratio 0, RBG variance infinite
    res = cmh_test([0, 0], [5, 6], [2, 3], [5, 6])
    assert res.odds_ratio == 0.0 and res.log_odds_ratio_se == math.inf
    assert res.statistic > 0.0 and 0.0 < res.pvalue < 1.0
    ci = res.confidence_interval(0.9)
    assert (ci.estimate, ci.lower, ci.upper, ci.level) == (0.0, 0.0, math.inf, 0.9)


def test_cmh_result_is_frozen() -> None:
    res = cmh_test([3, 4], [10, 10], [4, 5], [10, 10])
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.pvalue = 0.5  # type: ignore[misc]
