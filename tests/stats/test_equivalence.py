"""equitrial.stats.equivalence: margins, interval-in-margin decisions, score TOST.

References and tolerances:
- tests/reference/equivalence.R -> equivalence.json: an independent R implementation of the
  Farrington & Manning (1990) score tests whose restricted MLEs are checked in R against numerical
  maximisation of the constrained likelihood (and rpact's); rtol=1e-6 against R.
- Newcombe (1998, Stat Med 17:873) Table II, Mee (= Farrington-Manning variance) and
  Miettinen-Nurminen 95% intervals for a difference, and the Miettinen-Nurminen ratio intervals
  of Fagerland & Newcombe (as tabulated in shared/reference/statistics.md): the score statistic
  inverted at z = 1.959964 must reproduce the printed limits; abs 5e-5 (4 decimals) and 5e-4
  (3 decimals).
- A slow, obviously correct oracle in this file (restricted MLE by bisection on the score of
  the constrained log-likelihood) on hypothesis-drawn data; rel 1e-7.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.stats import norm

from equitrial.errors import InvalidInputError, UnknownOptionError
from equitrial.stats._interval import Interval
from equitrial.stats._proportions_mn import diff_score, ratio_score
from equitrial.stats.equivalence import Margin, assess, tost_difference, tost_ratio

REF = json.loads((Path(__file__).parents[1] / "reference" / "equivalence.json").read_text())
RTOL = 1e-6
TOST = {"difference": tost_difference, "ratio": tost_ratio}


def _score_z_difference(x1: float, n1: float, x2: float, n2: float, delta: float, mn=False):  # type: ignore[no-untyped-def]
    """The score statistic the TOST uses at one bound (FM, or MN with ``mn``); 0/0 read as 0."""
    return np.nan_to_num(diff_score(*(np.asarray(float(v)) for v in (delta, x1, n1, x2, n2)), mn))


def _score_z_ratio(x1: float, n1: float, x2: float, n2: float, phi: float, mn=False):  # type: ignore[no-untyped-def]
    return np.nan_to_num(ratio_score(*(np.asarray(float(v)) for v in (phi, x1, n1, x2, n2)), mn))


# ---- Margin ------------------------------------------------------------------------------------


def test_margin_accepts_keywords_and_exposes_null_and_sidedness() -> None:
    m = Margin(scale="ratio", lower=0.73, upper=1.36)
    assert (m.scale, m.lower, m.upper, m.null_value, m.is_one_sided) == (
        "ratio",
        0.73,
        1.36,
        1.0,
        False,
    )
    d = Margin(scale="difference", lower=-0.12, upper=0.15)
    assert d.null_value == 0.0
    assert not d.is_one_sided
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.lower = -0.2  # type: ignore[misc]


def test_margin_classmethods() -> None:
    assert Margin.symmetric_ratio(0.8) == Margin(scale="ratio", lower=0.8, upper=1.25)
    ni = Margin.non_inferiority("ratio", 0.644)  # R-Pharm pembrolizumab margin (statistics.md)
    assert (ni.lower, ni.upper, ni.is_one_sided, ni.bounded_below, ni.bounded_above) == (
        0.644,
        math.inf,
        True,
        True,
        False,
    )
    assert Margin.non_inferiority("difference", -0.1) == Margin("difference", -0.1, math.inf)
    ns = Margin.non_superiority("difference", 0.1)
    assert (ns.lower, ns.upper, ns.is_one_sided, ns.bounded_below) == (-math.inf, 0.1, True, False)
    nsr = Margin.non_superiority("ratio", 1.5)
    assert (nsr.lower, nsr.upper, nsr.bounded_below, nsr.bounded_above) == (0.0, 1.5, False, True)


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"scale": "difference", "lower": 0.1, "upper": -0.1}, "lower", "less than upper"),
        ({"scale": "ratio", "lower": 1.25, "upper": 1.25}, "lower", "less than upper"),
        ({"scale": "difference", "lower": 0.05, "upper": 0.2}, "lower", "null value 0"),
        ({"scale": "difference", "lower": -0.2, "upper": 0.0}, "upper", "null value 0"),
        ({"scale": "ratio", "lower": 1.1, "upper": 1.5}, "lower", "null value 1"),
        ({"scale": "ratio", "lower": 0.5, "upper": 0.9}, "upper", "null value 1"),
        ({"scale": "ratio", "lower": -0.8, "upper": 1.25}, "lower", "positive"),
        ({"scale": "ratio", "lower": -math.inf, "upper": 1.25}, "lower", "positive"),
        ({"scale": "difference", "lower": math.nan, "upper": 0.1}, "lower", "NaN"),
        ({"scale": "difference", "lower": -0.1, "upper": "wide"}, "upper", "number"),
        ({"scale": "difference", "lower": -math.inf, "upper": math.inf}, "lower", "one bound"),
        ({"scale": "ratio", "lower": 0, "upper": math.inf}, "lower", "one bound"),
    ],
)
def test_margin_validation_names_the_field(kwargs: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(InvalidInputError, match=text) as info:
        Margin(**kwargs)
    assert info.value.field == field
    assert field in str(info.value)


def test_margin_unknown_scale() -> None:
    with pytest.raises(UnknownOptionError, match="scale") as info:
        Margin(scale="log-odds", lower=-0.1, upper=0.1)  # type: ignore[arg-type]
    assert info.value.field == "scale"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Margin.symmetric_ratio(1.25), "lower"),
        (lambda: Margin.symmetric_ratio(0), "lower"),
        (lambda: Margin.non_inferiority("difference", 0.1), "bound"),
        (lambda: Margin.non_inferiority("ratio", 1.0), "bound"),
        (lambda: Margin.non_superiority("ratio", 0.8), "bound"),
        (lambda: Margin.non_superiority("difference", math.inf), "bound"),
        (lambda: Margin.non_inferiority("odds", 0.5), "scale"),
    ],
)
def test_margin_classmethod_validation(make: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        make()
    assert info.value.field == field


# ---- assess ------------------------------------------------------------------------------------

RD = Margin(scale="difference", lower=-0.15, upper=0.15)
RR = Margin(scale="ratio", lower=0.8, upper=1.25)


def _iv(lower: float, upper: float, level: float = 0.9) -> Interval:
    est = lower if math.isinf(upper) else (lower + upper) / 2
    return Interval(estimate=est, lower=lower, upper=upper, level=level, method="test")


@pytest.mark.parametrize(
    ("margin", "lower", "upper", "failing"),
    [
        (RD, -0.04, 0.11, None),
        (RD, -0.16, 0.11, "lower"),
        (RD, -0.04, 0.151, "upper"),
        (RD, -0.2, 0.2, "both"),
        (RR, 0.94, 1.24, None),  # BAT1706 ratio 90% CI (statistics.md), here against 0.80-1.25
        (RR, 0.78, 1.10, "lower"),
        (RR, 0.975, 1.269, "upper"),  # SB8 FAS ratio 90% CI against 0.80-1.25 (statistics.md)
        (RR, 0.5, 2.0, "both"),
        # touching a bound exactly is failing on it (strict containment, see assess Notes)
        (RD, -0.15, 0.1, "lower"),
        (RD, -0.1, 0.15, "upper"),
        (RR, 0.8, 1.25, "both"),
        (RD, -0.1499999, 0.1499999, None),
    ],
)
def test_assess_failing_bound(
    margin: Margin, lower: float, upper: float, failing: str | None
) -> None:
    res = assess(_iv(lower, upper), margin)
    assert res.failing_bound == failing
    assert res.equivalent is (failing is None)
    assert res.margin is margin
    assert (res.interval.lower, res.interval.upper) == (lower, upper)
    assert res.conclusion.startswith("Equivalence shown" if failing is None else "Equivalence not")


def test_assess_conclusion_names_interval_and_margin() -> None:
    res = assess(_iv(-0.16, 0.11, level=0.95), RD)
    assert res.conclusion == (
        "Equivalence not shown: the 95% confidence interval (-0.16, 0.11) of the difference "
        "reaches or crosses the margin's lower bound -0.15."
    )
    ok = assess(_iv(0.94, 1.24), RR)
    assert ok.conclusion == (
        "Equivalence shown: the 90% confidence interval (0.94, 1.24) of the ratio lies within "
        "the margin (0.8, 1.25)."
    )


def test_assess_non_inferiority_with_infinite_bounds() -> None:
    # R-Pharm pembrolizumab: lower 95% limit of the risk ratio 0.755 above the margin 0.644.
    ni = Margin.non_inferiority("ratio", 0.644)
    res = assess(_iv(0.755, 1.6, level=0.95), ni)
    assert res.equivalent and res.failing_bound is None
    assert res.conclusion.startswith("Non-inferiority shown")
    # an infinite upper limit (zero reference count) does not fail an absent upper bound
    assert assess(_iv(0.7, math.inf), ni).equivalent
    bad = assess(_iv(0.6, math.inf), ni)
    assert (bad.equivalent, bad.failing_bound) == (False, "lower")
    assert bad.conclusion.startswith("Non-inferiority not shown")
    # on the difference scale the absent bound is +-inf
    assert assess(
        _iv(-0.09, 0.9), Margin(scale="difference", lower=-0.1, upper=math.inf)
    ).equivalent
    assert assess(_iv(-0.1, 0.9), Margin.non_inferiority("difference", -0.1)).failing_bound == (
        "lower"
    )


def test_assess_non_superiority() -> None:
    ns = Margin(scale="ratio", lower=0, upper=1.5)
    assert assess(_iv(0.0, 1.4), ns).equivalent  # a zero lower limit meets an absent lower bound
    res = assess(_iv(0.9, 1.5), ns)
    assert (res.equivalent, res.failing_bound) == (False, "upper")
    assert res.conclusion.startswith("Non-superiority not shown")
    assert assess(_iv(-math.inf, 0.09), Margin.non_superiority("difference", 0.1)).equivalent


@pytest.mark.parametrize(
    ("interval", "margin", "field"),
    [
        (_iv(0.2, 0.1), RD, "interval.lower"),
        (Interval(0.0, math.nan, 0.1, 0.9, "x"), RD, "interval.lower"),
        (Interval(0.0, -0.1, math.nan, 0.9, "x"), RD, "interval.upper"),
        (Interval(0.0, -0.1, 0.1, 90, "x"), RD, "interval.level"),
        (_iv(-0.05, 0.1), RR, "interval.lower"),  # a difference interval against a ratio margin
        ((-0.05, 0.1), RD, "interval"),
        (_iv(-0.05, 0.1), (-0.15, 0.15), "margin"),
    ],
)
def test_assess_validation_names_the_field(interval: Any, margin: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        assess(interval, margin)
    assert info.value.field == field
    assert field.split(".")[0] in str(info.value)


# ---- TOST against the R reference --------------------------------------------------------------


def _ref_cases(scale: str) -> list[dict[str, Any]]:
    return [dict(c, scale=scale) for c in REF[scale]]


@pytest.mark.parametrize(
    "case", _ref_cases("difference") + _ref_cases("ratio"), ids=lambda c: c["call"]
)
def test_tost_matches_r_farrington_manning(case: dict[str, Any]) -> None:
    margin = Margin(scale=case["scale"], lower=case["lower"], upper=case["upper"])
    res = TOST[case["scale"]](
        case["x1"], case["n1"], case["x2"], case["n2"], margin=margin, variance=case["variance"]
    )
    for key in ("z_lower", "z_upper", "pvalue_lower", "pvalue_upper", "pvalue"):
        assert getattr(res, key) == pytest.approx(case[key], rel=RTOL), key
    assert (res.scale, res.margin, res.variance, res.alpha) == (
        case["scale"],
        margin,
        case["variance"],
        0.05,
    )
    assert res.equivalent is (case["pvalue"] < 0.05)


def test_r_reference_checked_its_mles_and_covers_edge_cases() -> None:
    assert REF["checked_mles"] == 2 * (len(REF["difference"]) + len(REF["ratio"]))
    counts = {(c["x1"], c["n1"], c["x2"], c["n2"]) for c in REF["difference"]}
    assert {(0, 25, 0, 25), (20, 20, 20, 20), (10, 10, 0, 20), (3, 300, 2, 150)} <= counts


@pytest.mark.parametrize("scale", ["difference", "ratio"])
def test_one_sided_margin_uses_only_the_lower_test(scale: str) -> None:
    case = next(c for c in REF[scale] if c["variance"] == "miettinen-nurminen")
    margin = Margin.non_inferiority(scale, case["lower"])  # type: ignore[arg-type]
    args = (case["x1"], case["n1"], case["x2"], case["n2"])
    res = TOST[scale](*args, margin=margin, variance="miettinen-nurminen")
    assert res.z_lower == pytest.approx(case["z_lower"], rel=RTOL)
    assert (res.z_upper, res.pvalue_upper) == (-math.inf, 0.0)
    assert res.pvalue == pytest.approx(case["pvalue_lower"], rel=RTOL)
    ns = TOST[scale](*args, margin=Margin.non_superiority(scale, case["upper"]))  # type: ignore[arg-type]
    assert (ns.z_lower, ns.pvalue_lower) == (math.inf, 0.0)


# ---- the score statistic against published intervals ------------------------------------------

Z975 = norm.isf(0.025)


def _invert(z: Any, lo: float, est: float, hi: float) -> tuple[float, float | None]:
    lower = brentq(lambda t: z(t) - Z975, lo, est, xtol=1e-14)
    upper = brentq(lambda t: z(t) + Z975, est, hi, xtol=1e-14) if z(hi) < -Z975 else None
    return lower, upper


@pytest.mark.parametrize(
    ("counts", "mee", "mn"),
    [
        ((56, 70, 48, 80), (0.0533, 0.3377), (0.0528, 0.3382)),
        ((9, 10, 3, 10), (0.1821, 0.8370), (0.1700, 0.8406)),
        ((5, 56, 0, 29), (-0.0313, 0.1926), (-0.0326, 0.1933)),
        ((10, 10, 0, 20), (0.7225, None), (0.7156, None)),  # upper limit 1: outside (-1, 1)
    ],
)
def test_difference_score_inverts_to_newcombe_1998_table_ii(
    counts: tuple[int, int, int, int], mee: tuple[float, float | None], mn: Any
) -> None:
    x1, n1, x2, n2 = counts
    est = x1 / n1 - x2 / n2
    for expected, is_mn in ((mee, False), (mn, True)):
        lower, upper = _invert(
            lambda d, m=is_mn: float(_score_z_difference(x1, n1, x2, n2, d, m)),
            -1 + 1e-12,
            est,
            1 - 1e-12,
        )
        assert lower == pytest.approx(expected[0], abs=5e-5)
        if expected[1] is None:
            assert upper is None
        else:
            assert upper == pytest.approx(expected[1], abs=5e-5)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((24, 73, 53, 65), (0.280, 0.560)),
        ((29, 55, 11, 11), (0.397, 0.742)),
        ((7, 18, 1, 18), (1.296, 42.544)),
    ],
)
def test_ratio_score_inverts_to_fagerland_newcombe_mn_intervals(
    counts: tuple[int, int, int, int], expected: tuple[float, float]
) -> None:
    x1, n1, x2, n2 = counts
    est = math.log((x1 / n1) / (x2 / n2))
    lower, upper = _invert(
        lambda t: float(_score_z_ratio(x1, n1, x2, n2, math.exp(t), True)), -10, est, 10
    )
    assert math.exp(lower) == pytest.approx(expected[0], abs=5e-4)
    assert upper is not None
    assert math.exp(upper) == pytest.approx(expected[1], abs=5e-4)


# ---- edge cases, conventions, validation -------------------------------------------------------


@pytest.mark.parametrize("variance", ["farrington-manning", "miettinen-nurminen"])
def test_ratio_with_no_events_in_either_arm_has_z_zero(variance: str) -> None:
    res = tost_ratio(0, 25, 0, 40, margin=RR, variance=variance)  # type: ignore[arg-type]
    assert (res.z_lower, res.z_upper, res.pvalue_lower, res.pvalue_upper) == (0, 0, 0.5, 0.5)
    assert not res.equivalent
    # the convention is the limit: z -> 0 as both (continuous) counts shrink to 0
    small = [abs(float(_score_z_ratio(e, 25, e, 40, 0.8))) for e in (1e-2, 1e-4, 1e-6, 1e-8)]
    assert small == sorted(small, reverse=True)
    assert small[-1] < 1e-3


def test_no_nan_on_every_outcome_of_small_trials() -> None:
    margins = {
        "difference": [
            RD,
            Margin("difference", -0.99, 0.5),
            Margin.non_inferiority("difference", -0.01),
        ],
        "ratio": [RR, Margin("ratio", 0.01, 100.0), Margin.non_superiority("ratio", 1.01)],
    }
    variances = ("farrington-manning", "miettinen-nurminen")
    sizes = ((1, 1), (1, 4), (3, 2), (7, 7))
    for scale, fn in TOST.items():
        for margin, (n1, n2), variance in itertools.product(margins[scale], sizes, variances):
            for x1, x2 in itertools.product(range(n1 + 1), range(n2 + 1)):
                r = fn(x1, n1, x2, n2, margin=margin, variance=variance)  # type: ignore[arg-type]
                vals = (r.z_lower, r.z_upper, r.pvalue_lower, r.pvalue_upper)
                assert not any(math.isnan(v) for v in vals), (scale, x1, n1, x2, n2)
                assert 0 <= r.pvalue <= 1


@pytest.mark.parametrize(
    ("kwargs", "field", "error"),
    [
        ({"x1": 71}, "x1", InvalidInputError),
        ({"x1": 2.5}, "x1", InvalidInputError),
        ({"x1": True}, "x1", InvalidInputError),
        ({"n2": 0}, "n2", InvalidInputError),
        ({"x2": -1}, "x2", InvalidInputError),
        ({"alpha": 0}, "alpha", InvalidInputError),
        ({"alpha": 1.2}, "alpha", InvalidInputError),
        ({"variance": "wald"}, "variance", UnknownOptionError),
        ({"margin": RR}, "margin", InvalidInputError),
        ({"margin": (-0.15, 0.15)}, "margin", InvalidInputError),
        ({"margin": Margin("difference", -1.0, 0.2)}, "margin", InvalidInputError),
        ({"margin": Margin("difference", -0.2, 1.5)}, "margin", InvalidInputError),
    ],
)
def test_tost_difference_validation_names_the_argument(
    kwargs: dict[str, Any], field: str, error: type[Exception]
) -> None:
    args: dict[str, Any] = {"x1": 56, "n1": 70, "x2": 48, "n2": 80, "margin": RD} | kwargs
    with pytest.raises(error) as info:
        tost_difference(**args)
    assert getattr(info.value, "field", None) == field
    assert field in str(info.value)


def test_tost_ratio_rejects_a_difference_margin() -> None:
    with pytest.raises(InvalidInputError, match="ratio scale") as info:
        tost_ratio(56, 70, 48, 80, margin=RD)
    assert info.value.field == "margin"


# ---- properties --------------------------------------------------------------------------------


@st.composite
def arms(draw: Any) -> tuple[int, int, int, int]:
    n1 = draw(st.integers(1, 300))
    n2 = draw(st.integers(1, 300))
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


variances = st.sampled_from(["farrington-manning", "miettinen-nurminen"])
diff_margins = st.builds(
    lambda lo, hi: Margin("difference", lo, hi),
    st.floats(-0.95, -0.005),
    st.floats(0.005, 0.95),
)
ratio_margins = st.builds(
    lambda lo, hi: Margin("ratio", lo, hi), st.floats(0.05, 0.995), st.floats(1.005, 20.0)
)


def _mirrored(a: Any, b: Any) -> None:
    """Result ``b`` (arms swapped) is result ``a`` with the two one-sided tests exchanged."""
    assert b.z_lower == pytest.approx(-a.z_upper, rel=1e-9, abs=1e-9)
    assert b.z_upper == pytest.approx(-a.z_lower, rel=1e-9, abs=1e-9)
    assert b.pvalue_lower == pytest.approx(a.pvalue_upper, rel=1e-7, abs=1e-300)
    assert b.pvalue_upper == pytest.approx(a.pvalue_lower, rel=1e-7, abs=1e-300)
    assert b.pvalue == pytest.approx(a.pvalue, rel=1e-7, abs=1e-300)


@given(arms(), diff_margins, variances)
def test_swapping_arms_mirrors_the_difference_margin(arm: Any, margin: Margin, var: Any) -> None:
    x1, n1, x2, n2 = arm
    a = tost_difference(x1, n1, x2, n2, margin=margin, variance=var)
    mirrored = Margin("difference", -margin.upper, -margin.lower)
    _mirrored(a, tost_difference(x2, n2, x1, n1, margin=mirrored, variance=var))


@given(arms(), ratio_margins, variances)
def test_swapping_arms_inverts_the_ratio_margin(arm: Any, margin: Margin, var: Any) -> None:
    x1, n1, x2, n2 = arm
    a = tost_ratio(x1, n1, x2, n2, margin=margin, variance=var)
    reciprocal = Margin("ratio", 1 / margin.upper, 1 / margin.lower)
    _mirrored(a, tost_ratio(x2, n2, x1, n1, margin=reciprocal, variance=var))


@given(arms(), diff_margins, ratio_margins, st.floats(0.001, 0.499))
def test_decision_is_consistent_with_the_point_estimate(
    arm: Any, rd: Margin, rr: Margin, alpha: float
) -> None:
    # The score variance is positive, so sign(z) = sign(estimate - bound): p < 0.5 at both bounds
    # needs the estimate strictly inside the margin; and equivalent is exactly pvalue < alpha.
    x1, n1, x2, n2 = arm
    p1, p2 = x1 / n1, x2 / n2
    d = tost_difference(x1, n1, x2, n2, margin=rd, alpha=alpha)
    assert d.pvalue == max(d.pvalue_lower, d.pvalue_upper)
    assert d.equivalent is (d.pvalue < alpha)
    if d.equivalent:
        assert rd.lower < p1 - p2 < rd.upper
    r = tost_ratio(x1, n1, x2, n2, margin=rr, alpha=alpha)
    assert r.equivalent is (r.pvalue < alpha)
    if r.equivalent:
        assert rr.lower * p2 < p1 < rr.upper * p2


@given(arms(), diff_margins, ratio_margins)
def test_miettinen_nurminen_is_farrington_manning_shrunk_by_n_over_n_minus_1(
    arm: Any, rd: Margin, rr: Margin
) -> None:
    x1, n1, x2, n2 = arm
    shrink = math.sqrt((n1 + n2 - 1) / (n1 + n2))
    for fn, margin in ((tost_difference, rd), (tost_ratio, rr)):
        fm = fn(x1, n1, x2, n2, margin=margin)
        mn = fn(x1, n1, x2, n2, margin=margin, variance="miettinen-nurminen")
        assert mn.z_lower == pytest.approx(fm.z_lower * shrink, rel=1e-12, abs=1e-300)
        assert mn.z_upper == pytest.approx(fm.z_upper * shrink, rel=1e-12, abs=1e-300)
        assert mn.pvalue >= fm.pvalue or fm.pvalue > 0.5


# ---- a slow, obviously correct oracle ----------------------------------------------------------


def _ratio_or_inf(x: float, y: float) -> float:
    if x == 0:
        return 0.0
    return math.inf if y == 0 else x / y


def _oracle_z(x1: int, n1: int, x2: int, n2: int, theta: float, scale: str) -> float:
    """Score z with the restricted MLE by bisection on the score of the constrained likelihood."""
    if scale == "difference":
        g, dg, lo, hi = (lambda p: p + theta), 1.0, max(0.0, -theta), min(1.0, 1.0 - theta)
    else:
        g, dg, lo, hi = (lambda p: theta * p), theta, 0.0, min(1.0, 1.0 / theta)

    def score(p2: float) -> float:  # decreasing: the log-likelihood is concave in p2
        p1 = g(p2)
        return (
            dg * (_ratio_or_inf(x1, p1) - _ratio_or_inf(n1 - x1, 1 - p1))
            + _ratio_or_inf(x2, p2)
            - _ratio_or_inf(n2 - x2, 1 - p2)
        )

    a, b = lo, hi
    for _ in range(200):
        mid = (a + b) / 2
        a, b = (mid, b) if score(mid) > 0 else (a, mid)
    t2 = (a + b) / 2
    t1 = g(t2)
    if scale == "difference":
        num, var = x1 / n1 - x2 / n2 - theta, t1 * (1 - t1) / n1 + t2 * (1 - t2) / n2
    else:
        num, var = x1 / n1 - theta * x2 / n2, t1 * (1 - t1) / n1 + theta**2 * t2 * (1 - t2) / n2
    return num / math.sqrt(var)


@given(arms(), st.floats(-0.98, 0.98).filter(lambda d: abs(d) > 1e-3))
def test_difference_score_matches_bisection_oracle(arm: Any, delta: float) -> None:
    z = float(_score_z_difference(*arm, delta))
    assert z == pytest.approx(_oracle_z(*arm, delta, "difference"), rel=1e-7, abs=1e-9)


@given(
    arms().filter(lambda a: a[0] + a[2] > 0),
    st.floats(0.02, 50.0).filter(lambda r: abs(r - 1) > 1e-3),
)
def test_ratio_score_matches_bisection_oracle(arm: Any, phi: float) -> None:
    z = float(_score_z_ratio(*arm, phi))
    assert z == pytest.approx(_oracle_z(*arm, phi, "ratio"), rel=1e-7, abs=1e-9)


# ---- duality with the score intervals of equitrial.stats.proportions ---------------------------


@pytest.mark.parametrize(
    "counts", [(50, 150, 49, 150), (117, 230, 104, 228), (0, 30, 0, 25), (30, 30, 28, 30)]
)
def test_tost_at_the_limits_of_the_90pc_mn_interval_has_p_005(
    counts: tuple[int, int, int, int],
) -> None:
    # The 1 - 2 alpha Miettinen-Nurminen interval inverts the same score test, so a margin placed
    # exactly at its limits gives one-sided p-values equal to alpha.
    props = pytest.importorskip("equitrial.stats.proportions")
    ci = props.difference_ci(*counts, level=0.9, method="miettinen-nurminen")
    res = tost_difference(
        *counts, margin=Margin("difference", ci.lower, ci.upper), variance="miettinen-nurminen"
    )
    assert (res.pvalue_lower, res.pvalue_upper) == pytest.approx((0.05, 0.05), abs=1e-8)
    if counts[0] + counts[2] > 0:
        rci = props.ratio_ci(*counts, level=0.9, method="miettinen-nurminen")
        rres = tost_ratio(
            *counts, margin=Margin("ratio", rci.lower, rci.upper), variance="miettinen-nurminen"
        )
        assert (rres.pvalue_lower, rres.pvalue_upper) == pytest.approx((0.05, 0.05), abs=1e-8)
