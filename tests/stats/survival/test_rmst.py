"""RMST against R's survmean (tests/reference/survival_km.R -> survival_km.json).

R's ``rmean`` and ``se(rmean)`` are those of ``print(survfit(...), rmean = tau)``; the difference
between two arms is built in R from the two rows of ``summary(survfit(... ~ group),
rmean = tau)$table``. Tolerance: 1e-6 relative against R's output.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitrial.errors import InvalidInputError
from equitrial.stats.survival import RMSTDifference, RMSTResult, kaplan_meier, rmst, rmst_difference

REF: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "reference" / "survival_km.json").read_text()
)
RTOL = 1e-6


def r_list(x: Any) -> list[Any]:
    """An R vector from the JSON (a length-1 vector may come unboxed)."""
    return x if isinstance(x, list) else [x]


def data(name: str) -> tuple[np.ndarray, np.ndarray, list[Any] | None]:
    d = REF["datasets"][name]
    group = r_list(d["group"]) if "group" in d else None
    return np.asarray(r_list(d["time"]), dtype=float), np.asarray(r_list(d["event"])), group


@pytest.mark.parametrize("case", REF["rmst"], ids=lambda c: f"{c['dataset']}-tau={c['tau']}")
def test_rmst_matches_r_survmean(case: dict[str, Any]) -> None:
    time, event, _ = data(case["dataset"])
    res = rmst(time, event, case["tau"])
    assert isinstance(res, RMSTResult)
    assert res.tau == case["tau"]
    assert res.estimate == pytest.approx(case["rmean"], rel=RTOL)
    assert res.se == pytest.approx(case["se"], rel=RTOL, abs=0)


@pytest.mark.parametrize(
    "case", REF["rmst_difference"], ids=lambda c: f"{c['dataset']}-tau={c['tau']}-{c['level']}"
)
def test_rmst_difference_matches_two_r_survfit_arms(case: dict[str, Any]) -> None:
    time, event, group = data(case["dataset"])
    res = rmst_difference(time, event, group, case["tau"], level=case["level"])
    assert isinstance(res, RMSTDifference)
    assert [res.reference, res.comparator] == r_list(case["groups"])
    arms = (res.reference_rmst, res.comparator_rmst)
    assert [a.estimate for a in arms] == pytest.approx(case["rmean"], rel=RTOL)
    assert [a.se for a in arms] == pytest.approx(case["se"], rel=RTOL)
    assert res.estimate == pytest.approx(case["difference"], rel=RTOL)
    assert res.se == pytest.approx(case["se_difference"], rel=RTOL)
    assert res.lower == pytest.approx(case["lower"], rel=RTOL)
    assert res.upper == pytest.approx(case["upper"], rel=RTOL)
    assert res.pvalue == pytest.approx(case["pvalue"], rel=RTOL)
    assert res.interval.estimate == res.estimate and res.interval.level == case["level"]


def test_naming_the_reference_arm_flips_the_sign() -> None:
    case = next(c for c in REF["rmst_difference"] if c["dataset"] == "aml")
    time, event, group = data("aml")
    res = rmst_difference(time, event, group, case["tau"], reference="Nonmaintained")
    assert (res.reference, res.comparator) == ("Nonmaintained", "Maintained")
    assert res.estimate == pytest.approx(-case["difference"], rel=RTOL)
    assert (res.lower, res.upper) == pytest.approx((-case["upper"], -case["lower"]), rel=RTOL)


def test_rmst_of_a_hand_computed_curve() -> None:
    # S = 1 on [0, 1), 0.5 on [1, 3), 0 from 3: area to tau = 4 is 1 + 2 * 0.5 = 2.
    # Variance (survmean): the term at t = 1 is A^2 d/(n(n-d)) = 1^2 * 1/(2*1); at t = 3 n = d.
    res = rmst([1, 3], [1, 1], 4)
    assert res.estimate == 2.0
    assert res.se == pytest.approx(math.sqrt(0.5), rel=1e-15)


@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 1)), min_size=1, max_size=40),
    st.floats(0.5, 30),
)
def test_rmst_is_the_area_under_the_km_curve(rows: list[tuple[int, int]], tau: float) -> None:
    time, event = zip(*rows, strict=True)
    res = rmst(time, event, tau)
    fit = kaplan_meier(time, event)
    knots = np.concatenate(([0.0], fit.time[fit.time < tau], [tau]))
    area = float(np.sum(np.diff(knots) * fit.survival_at(knots[:-1])))
    assert res.estimate == pytest.approx(area, rel=1e-12)
    assert 0 <= res.estimate <= tau and res.se >= 0


@pytest.mark.parametrize("tau", [0, -1, math.nan, math.inf, "ten"])
def test_invalid_tau_is_refused(tau: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        rmst([1, 2], [1, 0], tau)
    assert err.value.field == "tau"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"group": ["a", "b", "c"]}, "group"),
        ({"group": ["a", "a", "a"]}, "group"),
        ({"group": ["a", "b", "a"], "reference": "z"}, "reference"),
        ({"group": ["a", "b", "a"], "level": 1.5}, "level"),
        ({"group": ["a", "b", "a"], "tau": 0}, "tau"),
    ],
)
def test_rmst_difference_refuses_bad_arguments(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"time": [1, 2, 3], "event": [1, 1, 0], "tau": 2, **kwargs}
    with pytest.raises(InvalidInputError) as err:
        rmst_difference(**args)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("reference", "comparator"),
    [
        # Both arms censored before tau: each RMST is tau, summed from different rectangles
        # (0.1 + 0.2 + 0.6 versus 0.5 + 0.4), which differ by one ulp; se is 0.
        ([0.1, 0.3], [0.5]),
        ([0.1, 0.2, 0.3], [0.6]),
    ],
)
def test_difference_zero_to_rounding_has_p_one(
    reference: list[float], comparator: list[float]
) -> None:
    n_ref, n_cmp = len(reference), len(comparator)
    res = rmst_difference(
        reference + comparator, [0] * (n_ref + n_cmp), ["A"] * n_ref + ["B"] * n_cmp, tau=0.9
    )
    assert res.estimate != 0 and abs(res.estimate) < 1e-12 * 0.9  # the rounding case itself
    assert res.se == 0
    assert res.statistic == 0
    assert res.pvalue == 1


def test_two_identical_arms_have_z_zero_and_p_one() -> None:
    time = [2.0, 3.5, 4.0, 6.5, 7.0, 9.0]
    event = [1, 0, 1, 1, 0, 1]
    res = rmst_difference(time + time, event + event, ["A"] * 6 + ["B"] * 6, tau=8.0)
    assert res.se > 0
    assert (res.estimate, res.statistic, res.pvalue) == (0.0, 0.0, 1.0)


def test_a_real_difference_with_zero_se_has_p_zero() -> None:
    # A: one subject censored at 0.3, S = 1 up to tau, RMST 0.9. B: one subject with an event
    # at 0.5, S drops to 0, RMST 0.5. Neither event is informative for the variance (n = d).
    res = rmst_difference([0.3, 0.5], [0, 1], ["A", "B"], tau=0.9)
    assert res.estimate == pytest.approx(0.5 - 0.9, rel=1e-15)
    assert res.se == 0
    assert res.statistic == -np.inf
    assert res.pvalue == 0
