"""equitrial.design.sample_size: exact power, power curves, exact search, normal approximation.

References and tolerances:
- tests/reference/sample_size.R -> sample_size.json: rpact 3.3.4 ``getSampleSizeRates`` with
  ``thetaH0`` (Farrington-Manning non-inferiority sizes, difference and ratio, equal and unequal
  allocation), unrounded sizes, rtol=1e-6; and exact power of the closed-form intervals (Wald,
  Agresti-Caffo, Newcombe with prop.test's Wilson limits, Katz log) enumerated in R with outer()
  and dbinom(), rtol=1e-6.
- shared/reference/statistics.md: exact power with 150/arm at ORR 0.33 (0.192, 0.000, 0.584;
  recomputed by a previous author, 3 decimals -> abs 5e-4) and the normal-approximation "about
  367 per arm" for RR 0.73-1.36 (see the test for which formula gives it).
- Chow SC, Shao J, Wang H. Sample Size Calculations in Clinical Research, 2nd ed., 2008, §4.2:
  the equivalence example p1 = 0.75, p2 = 0.80, margin 0.2, alpha 0.05, power 80 % -> 133 per group.
- A seeded Monte-Carlo simulation through the real analysis (interval, then assess): within
  4 Monte-Carlo standard errors.
- Type I error: exact power at a margin bound stays below a documented bound.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import binom, norm

from equitrial.design.sample_size import (
    exact_power,
    normal_sample_size,
    power_curve,
    smallest_n,
)
from equitrial.errors import InvalidInputError, UnknownOptionError
from equitrial.stats._interval import Interval
from equitrial.stats.equivalence import Margin, assess
from equitrial.stats.proportions import _mn_difference_limits, _mn_ratio_limits

REF = json.loads((Path(__file__).parents[1] / "reference" / "sample_size.json").read_text())
RTOL = 1e-6
RR_FDA = Margin("ratio", 0.73, 1.36)
RR_80 = Margin.symmetric_ratio(0.8)
RD_15 = Margin("difference", -0.15, 0.15)


# ---- published and recomputed values ------------------------------------------------------------


@pytest.mark.parametrize(
    ("margin", "level", "expected"),
    [(RR_FDA, 0.90, 0.192), (RR_80, 0.90, 0.000), (RD_15, 0.95, 0.584)],
)
def test_exact_power_matches_statistics_md_150_per_arm(
    margin: Margin, level: float, expected: float
) -> None:
    # shared/reference/statistics.md: "Exact-enumeration power (recomputed, MN intervals) with
    # 150/arm and ORR 0.33 in both arms"; 3 decimals
    power = exact_power(0.33, 0.33, 150, 150, margin=margin, level=level)
    assert power == pytest.approx(expected, abs=5e-4)


def test_unrestricted_equivalence_matches_chow_shao_wang_2008_section_4_2() -> None:
    # Chow, Shao & Wang (2008) §4.2, two-sample equivalence: p1 = 0.75, p2 = 0.80, delta = 0.2,
    # alpha = 0.05, 80 % power: n = (z_a + z_{b/2})^2 (p1 q1 + p2 q2) / (delta - |eps|)^2 ~ 133
    res = normal_sample_size(
        0.75,
        0.80,
        margin=Margin("difference", -0.2, 0.2),
        target_power=0.8,
        level=0.90,
        formula="unrestricted",
        equivalence="half-beta",
    )
    assert (res.n1, res.n2) == (133, 133)
    # the closed form with the exact quantiles, written out (independent of the module)
    by_hand = (norm.ppf(0.95) + norm.ppf(0.9)) ** 2 * (0.75 * 0.25 + 0.8 * 0.2) / 0.15**2
    assert res.n1_exact == pytest.approx(by_hand, rel=1e-12)


def test_log_scale_half_beta_gives_the_367_per_arm_of_statistics_md() -> None:
    # statistics.md: "at ORR 0.33 with true RR = 1, 80% power for a 90% CI inside 0.73-1.36
    # needs ~367/arm" (normal approximation). Of the formulas here it is the log-scale one with
    # z_{beta/2} at the nearer bound log(1.36): 367.80 unrounded, 368 rounded up. The
    # Farrington-Manning TOST gives 366 (365.3), the exact search 365 (below).
    res = normal_sample_size(0.33, 0.33, margin=RR_FDA, formula="log", equivalence="half-beta")
    assert math.floor(res.n1_exact) == 367
    assert res.n1 == 368
    fm = normal_sample_size(0.33, 0.33, margin=RR_FDA)
    assert 360 < fm.n1_exact < 370


@pytest.mark.parametrize("case", REF["noninferiority"], ids=lambda c: c["call"][40:95])
def test_noninferiority_matches_rpact_getsamplesizerates(case: dict[str, Any]) -> None:
    ratio = case["ratio"]  # rpact's allocationRatioPlanned = n1 / n2
    allocation = {1: (1, 1), 2: (2, 1), 0.5: (1, 2), 1.5: (3, 2)}[ratio]
    res = normal_sample_size(
        case["pi1"],
        case["pi2"],
        margin=Margin.non_inferiority(case["scale"], case["bound"]),
        target_power=1 - case["beta"],
        level=1 - 2 * case["alpha"],
        allocation=allocation,
    )
    assert res.n1_exact == pytest.approx(case["n1"], rel=RTOL)
    assert res.n2_exact == pytest.approx(case["n2"], rel=RTOL)
    assert (res.n1, res.n2) == (math.ceil(case["n1"]), math.ceil(case["n2"]))


@pytest.mark.parametrize("case", REF["exact_power"], ids=lambda c: c["call"][:60])
def test_exact_power_matches_r_enumeration(case: dict[str, Any]) -> None:
    upper = math.inf if case["upper"] == "inf" else case["upper"]
    margin = Margin(case["scale"], case["lower"], upper)
    power = exact_power(
        case["p1"],
        case["p2"],
        case["n1"],
        case["n2"],
        margin=margin,
        method=case["method"],
        level=case["level"],
    )
    assert power == pytest.approx(case["power"], rel=RTOL)


# ---- simulation and type I error ----------------------------------------------------------------


def _simulated_power(p1: float, p2: float, n: int, margin: Margin, level: float) -> float:
    """Share of seeded trials whose Miettinen-Nurminen interval ``assess`` finds inside."""
    rng = np.random.default_rng(20240611)
    x1 = rng.binomial(n, p1, size=20_000)
    x2 = rng.binomial(n, p2, size=20_000)
    pairs, counts = np.unique(np.stack([x1, x2]), axis=1, return_counts=True)
    limits = _mn_difference_limits if margin.scale == "difference" else _mn_ratio_limits
    lower, upper = limits(pairs[0], n, pairs[1], n, level)
    inside = [
        assess(
            Interval(math.nan, float(lo), float(hi), level, "miettinen-nurminen"), margin
        ).equivalent
        for lo, hi in zip(lower, upper, strict=True)
    ]
    return float(np.sum(counts[np.array(inside)])) / 20_000


@pytest.mark.parametrize(
    ("p1", "p2", "n", "margin", "level"),
    [(0.40, 0.40, 120, RR_FDA, 0.90), (0.30, 0.36, 90, Margin("difference", -0.2, 0.15), 0.95)],
)
def test_exact_power_agrees_with_a_seeded_simulation(
    p1: float, p2: float, n: int, margin: Margin, level: float
) -> None:
    exact = exact_power(p1, p2, n, n, margin=margin, level=level)
    simulated = _simulated_power(p1, p2, n, margin, level)
    se = math.sqrt(exact * (1 - exact) / 20_000)
    assert 0.2 < exact < 0.9  # a power where the check has teeth
    assert abs(simulated - exact) < 4 * se


@pytest.mark.parametrize("n", [50, 150, 300, 500, 800])
@pytest.mark.parametrize("bound", [0.73, 1.36])
@pytest.mark.parametrize("method", ["miettinen-nurminen", "log"])
def test_type_one_error_at_a_margin_bound_stays_below_0_06(
    n: int, bound: float, method: str
) -> None:
    # true ratio on a bound: the probability of declaring equivalence is the size of the TOST,
    # nominally at most (1 - level) / 2 = 0.05. These intervals are approximate, so the exact
    # size is not 0.05: the documented bound is 0.06. Small trials are far below alpha (the
    # interval cannot fit inside both bounds); from 300 per arm the far bound hardly matters and
    # the size is close to alpha (above 0.04).
    size = exact_power(bound * 0.33, 0.33, n, n, margin=RR_FDA, method=method, level=0.90)  # type: ignore[arg-type]
    assert size < 0.06
    if n >= 300:
        assert size > 0.04


# ---- internal consistency -----------------------------------------------------------------------


def test_pruning_negligible_outcomes_changes_power_by_less_than_1e12() -> None:
    from equitrial.design._sample_size_grid import grid_power, pass_grid

    n1, n2 = 300, 250
    x1, x2 = np.arange(n1 + 1.0), np.arange(n2 + 1.0)
    grid = pass_grid(x1, n1, x2, n2, margin=RD_15, method="miettinen-nurminen", level=0.95)
    full = grid_power(binom.pmf(x1, n1, 0.3), grid, binom.pmf(x2, n2, 0.33))
    pruned = exact_power(0.3, 0.33, n1, n2, margin=RD_15, level=0.95)
    assert pruned == pytest.approx(full, abs=1e-12)


def test_power_curve_equals_exact_power_at_each_effect() -> None:
    effects = [0.6, 0.73, 0.9, 1.0, 1.1, 1.36, 1.5]
    curve = power_curve(0.33, effects, 150, 150, margin=RR_FDA, level=0.9)
    assert curve.effects == tuple(effects)
    assert curve.p1 == pytest.approx([e * 0.33 for e in effects], rel=1e-15)
    for p1, power in zip(curve.p1, curve.power, strict=True):
        assert power == pytest.approx(exact_power(p1, 0.33, 150, 150, margin=RR_FDA), abs=1e-12)
    # on the bounds the power is the type I error, far below the power at no difference
    assert curve.power[1] < 0.06 and curve.power[5] < 0.06 < curve.power[3]
    with pytest.raises(dataclasses.FrozenInstanceError):
        curve.n1 = 3  # type: ignore[misc]


def test_power_curve_on_the_difference_scale_and_p1_outside() -> None:
    curve = power_curve(0.4, [-0.1, 0.0, 0.1], 100, 100, margin=RD_15, level=0.95)
    assert curve.p1 == pytest.approx((0.3, 0.4, 0.5))
    with pytest.raises(InvalidInputError, match=r"effects\[1\]") as info:
        power_curve(0.4, [0.0, 0.7], 100, 100, margin=RD_15)
    assert info.value.field == "effects"


# ---- exact search -----------------------------------------------------------------------------


def test_smallest_n_reaches_target_and_no_smaller_size_does() -> None:
    res = smallest_n(0.33, 0.33, margin=RR_FDA, target_power=0.8)
    assert res.power >= 0.8
    assert res.power == exact_power(0.33, 0.33, res.n1, res.n2, margin=RR_FDA)
    below = [exact_power(0.33, 0.33, n, n, margin=RR_FDA) for n in range(res.n1 - 40, res.n1)]
    assert max(below) < 0.8
    assert res.sizes[0] == (1, 1) and len(res.sizes) == len(res.powers)
    assert res.powers[res.n1 - 1] == res.power


def test_smallest_n_separates_first_and_stable_size_on_a_saw_tooth() -> None:
    # Newcombe interval at p = 0.05, margin +-0.1: power 0.801 at 95 per arm, then 0.797, 0.793,
    # and 0.819 at 98 (computed independently below with exact_power)
    margin = Margin("difference", -0.1, 0.1)
    res = smallest_n(0.05, 0.05, margin=margin, method="newcombe", level=0.9, max_n1=130)
    powers = [
        exact_power(0.05, 0.05, n, n, margin=margin, method="newcombe") for n in range(1, 131)
    ]
    first = next(n for n, p in enumerate(powers, start=1) if p >= 0.8)
    stable = 1 + max(n for n, p in enumerate(powers, start=1) if p < 0.8)
    assert (res.n1, res.n1_stable) == (first, stable)
    assert res.n1 < res.n1_stable
    assert res.powers == pytest.approx(powers, abs=1e-15)


def test_smallest_n_scans_from_one_block_and_finds_walds_degenerate_small_trials() -> None:
    # Wald's interval for 0/1 - 0/1 and 1/1 - 1/1 is (0, 0): at p = 0.05 one patient per arm
    # "shows" equivalence with probability 0.95^2 + 0.05^2 = 0.905, far above 80 %; the power
    # then falls with n before it rises again
    res = smallest_n(0.05, 0.05, margin=Margin("difference", -0.1, 0.1), method="wald", level=0.9)
    assert (res.n1, res.n2) == (1, 1)
    assert res.power == pytest.approx(0.95**2 + 0.05**2, rel=1e-12)
    assert res.n1_stable is not None and res.n1_stable > 50


def test_smallest_n_with_allocation_and_dropout() -> None:
    res = smallest_n(0.33, 0.33, margin=RR_FDA, allocation=(3, 2), dropout=0.1)
    assert res.n1 % 3 == 0 and res.n2 == 2 * res.n1 // 3
    assert res.n1_enrolled == math.ceil(res.n1 / 0.9)
    assert res.n2_enrolled == math.ceil(res.n2 / 0.9)
    assert exact_power(0.33, 0.33, res.n1 - 3, res.n2 - 2, margin=RR_FDA) < 0.8 <= res.power


def test_smallest_n_window_too_small_raises() -> None:
    with pytest.raises(InvalidInputError, match="max_n1"):
        smallest_n(0.33, 0.33, margin=RR_FDA, max_n1=100)


# ---- normal approximation ---------------------------------------------------------------------


def test_tost_solves_the_two_sided_normal_power_equation() -> None:
    # unrestricted variance: power(n) = Phi(a_L) + Phi(a_U) - 1, a = D sqrt(n) / s - z_a
    res = normal_sample_size(0.30, 0.34, margin=RD_15, formula="unrestricted", level=0.9)
    s = math.sqrt(0.3 * 0.7 + 0.34 * 0.66)
    n = res.n1_exact
    power = sum(norm.cdf(d * math.sqrt(n) / s - norm.ppf(0.95)) for d in (0.11, 0.19)) - 1
    assert power == pytest.approx(0.8, abs=1e-9)
    half = normal_sample_size(
        0.30, 0.34, margin=RD_15, formula="unrestricted", level=0.9, equivalence="half-beta"
    )
    assert half.n1_exact > res.n1_exact


def test_tost_and_half_beta_agree_when_the_truth_is_midway() -> None:
    m = Margin("difference", -0.2, 0.2)
    tost = normal_sample_size(0.5, 0.5, margin=m, formula="unrestricted")
    half = normal_sample_size(0.5, 0.5, margin=m, formula="unrestricted", equivalence="half-beta")
    assert tost.n1_exact == pytest.approx(half.n1_exact, rel=1e-9)


def test_dropout_and_allocation_in_the_normal_approximation() -> None:
    base = normal_sample_size(0.33, 0.33, margin=RR_FDA)
    res = normal_sample_size(0.33, 0.33, margin=RR_FDA, dropout=0.15)
    assert (res.n1, res.n2) == (base.n1, base.n2)
    assert res.n1_enrolled == math.ceil(base.n1 / 0.85)
    two_to_one = normal_sample_size(0.33, 0.33, margin=RR_FDA, allocation=(2, 1))
    assert two_to_one.n2_exact == pytest.approx(two_to_one.n1_exact / 2, rel=1e-15)


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("margin", "method"),
    [(RR_FDA, "wald"), (RR_FDA, "newcombe"), (RD_15, "log"), (RD_15, "score")],
)
def test_method_must_fit_the_margin_scale(margin: Margin, method: str) -> None:
    with pytest.raises(UnknownOptionError, match=margin.scale) as info:
        exact_power(0.3, 0.3, 50, 50, margin=margin, method=method)  # type: ignore[arg-type]
    assert info.value.field == "method"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"p1": 1.2}, "p1"),
        ({"p2": -0.1}, "p2"),
        ({"p1": "x"}, "p1"),
        ({"n1": 0}, "n1"),
        ({"n2": 2.5}, "n2"),
        ({"level": 1.0}, "level"),
        ({"margin": (0.8, 1.25)}, "margin"),
        ({"margin": Margin("difference", -1.5, 0.2)}, "margin"),
    ],
)
def test_exact_power_bad_input_names_the_argument(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"p1": 0.3, "p2": 0.3, "n1": 50, "n2": 50, "margin": RR_FDA}
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        exact_power(**args)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"p1": 0.2}, InvalidInputError, "p1"),  # true ratio 0.61, outside 0.73-1.36
        ({"p1": 0.0}, InvalidInputError, "p1"),
        ({"formula": "unrestricted"}, UnknownOptionError, "formula"),
        ({"equivalence": "beta"}, UnknownOptionError, "equivalence"),
        ({"allocation": (1, 0)}, InvalidInputError, "allocation[1]"),
        ({"allocation": 2}, InvalidInputError, "allocation"),
        ({"dropout": 1.0}, InvalidInputError, "dropout"),
        ({"target_power": 0.0}, InvalidInputError, "target_power"),
    ],
)
def test_normal_sample_size_bad_input(kwargs: dict[str, Any], error: type, field: str) -> None:
    args: dict[str, Any] = {"p1": 0.33, "p2": 0.33, "margin": RR_FDA}
    args.update(kwargs)
    with pytest.raises(error) as info:
        normal_sample_size(**args)
    assert info.value.field == field


def test_noninferiority_true_effect_below_bound_is_refused_by_the_search() -> None:
    with pytest.raises(InvalidInputError, match="not strictly inside"):
        smallest_n(0.2, 0.33, margin=Margin.non_inferiority("ratio", 0.644))


def test_smallest_n_gives_up_at_20000_patients_instead_of_searching_forever() -> None:
    # true ratio 0.735 against a bound of 0.73: the normal approximation needs millions per arm
    with pytest.raises(InvalidInputError, match="more than the 20000") as info:
        smallest_n(0.735 * 0.4, 0.4, margin=Margin.non_inferiority("ratio", 0.73))
    assert info.value.field == "target_power"
