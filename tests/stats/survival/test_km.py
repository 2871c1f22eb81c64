"""Kaplan–Meier against R's survfit (tests/reference/survival_km.R -> survival_km.json).

Tolerance: 1e-6 relative against R's output (written with 15 significant digits). Where R gives
NA or NaN (limits where S = 0, log-log limits where S = 1, a median not reached) we must give
nan, and nowhere else.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from equitrial.errors import InvalidInputError, UnknownOptionError
from equitrial.stats.survival import KaplanMeier, kaplan_meier

REF: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "reference" / "survival_km.json").read_text()
)
RTOL = 1e-6
_SPECIAL = {"NA": math.nan, "NaN": math.nan, "Inf": math.inf, "-Inf": -math.inf}


def r_array(x: Any) -> NDArray[np.float64]:
    """An R numeric vector from the JSON: "NA"/"NaN" -> nan; a length-1 vector may be unboxed."""
    items = x if isinstance(x, list) else [x]
    return np.array([_SPECIAL[v] if isinstance(v, str) else v for v in items], dtype=np.float64)


def assert_r_equal(ours: Any, expected: Any, what: str) -> None:
    """``ours`` equals R's ``expected`` to RTOL, with nan exactly where R has NA/NaN."""
    got = np.atleast_1d(np.asarray(ours, dtype=np.float64))
    want = r_array(expected)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != R's {want.shape}"
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NA positions")
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=RTOL, atol=0, err_msg=what)


def data(name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    d = REF["datasets"][name]
    return r_array(d["time"]), r_array(d["event"])


def case_id(case: dict[str, Any]) -> str:
    return f"{case['dataset']}-{case['conf_type']}-{case['level']}"


@pytest.mark.parametrize("case", REF["km"], ids=case_id)
def test_step_table_matches_r_survfit(case: dict[str, Any]) -> None:
    fit = kaplan_meier(*data(case["dataset"]), level=case["level"], conf_type=case["conf_type"])
    assert_r_equal(fit.time, case["time"], "time")
    assert_r_equal(fit.n_risk, case["n_risk"], "n.risk")
    assert_r_equal(fit.n_event, case["n_event"], "n.event")
    assert_r_equal(fit.n_censor, case["n_censor"], "n.censor")
    assert_r_equal(fit.survival, case["surv"], "surv")
    assert_r_equal(fit.std_err, case["std_err"], "summary(fit, censored = TRUE)$std.err")
    assert_r_equal(fit.lower, case["lower"], "lower")
    assert_r_equal(fit.upper, case["upper"], "upper")


@pytest.mark.parametrize("case", REF["km"], ids=case_id)
def test_median_and_its_interval_match_r_print_survfit(case: dict[str, Any]) -> None:
    fit = kaplan_meier(*data(case["dataset"]), level=case["level"], conf_type=case["conf_type"])
    assert_r_equal(fit.median, case["median"], "median")
    assert_r_equal(fit.median_ci[0], case["median_lower"], "median LCL")
    assert_r_equal(fit.median_ci[1], case["median_upper"], "median UCL")


@pytest.mark.parametrize("case", REF["km"], ids=case_id)
def test_quantiles_match_r_quantile_survfit(case: dict[str, Any]) -> None:
    fit = kaplan_meier(*data(case["dataset"]), level=case["level"], conf_type=case["conf_type"])
    probs = r_array(case["probs"])
    got = [fit.quantile(float(p)) for p in probs]
    assert_r_equal([q.estimate for q in got], case["quantile"], "quantile")
    assert_r_equal([q.lower for q in got], case["quantile_lower"], "quantile lower")
    assert_r_equal([q.upper for q in got], case["quantile_upper"], "quantile upper")
    assert all(q.level == case["level"] and q.method == case["conf_type"] for q in got)


def test_median_on_flat_half_is_the_midpoint_as_r() -> None:
    # R: survfit(Surv(c(1, 2, 3, 4), rep(1, 4)) ~ 1) prints median 2.5 (S = 0.5 on [2, 3)).
    fit = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert fit.median == 2.5


def test_print_and_quantile_rules_differ_on_a_curve_ending_at_half() -> None:
    # The R reference (flat_half_end): print(fit) reports median 2, quantile(fit, 0.5) gives 3.
    ref = next(c for c in REF["km"] if c["dataset"] == "flat_half_end")
    fit = kaplan_meier(*data("flat_half_end"), conf_type=ref["conf_type"])
    assert (ref["median"], r_array(ref["quantile"])[3]) == (2, 3)
    assert (fit.median, fit.quantile(0.5).estimate) == (2.0, 3.0)


def test_survival_at_is_the_right_continuous_step() -> None:
    # aml (Embury 1977): 23 subjects; 2 deaths at 5 and 2 at 8 (Nonmaintained), 1 at 9.
    fit = kaplan_meier(*data("aml"))
    grid = [-1.0, 0.0, 4.999, 5.0, 5.5, 8.0, 8.5, 9.0]
    expected = [1, 1, 1, 21 / 23, 21 / 23, 19 / 23, 19 / 23, 18 / 23]
    np.testing.assert_allclose(fit.survival_at(grid), expected, rtol=1e-14)
    assert fit.survival_at(1e9) == fit.survival[-1] > 0  # aml ends on a censoring at 161
    assert isinstance(fit.survival_at(5.0), float)
    assert fit.survival_at(np.array([[5.0, 9.0]])).shape == (1, 2)


def test_result_is_frozen_and_read_only() -> None:
    fit = kaplan_meier([1, 2, 3], [1, 0, 1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.median = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        fit.survival[0] = 0.5


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time": [1, 2], "event": [1]}, None),
        ({"time": [], "event": []}, "time"),
        ({"time": [1, -2], "event": [1, 1]}, "time"),
        ({"time": [1, math.nan], "event": [1, 1]}, "time"),
        ({"time": [1, math.inf], "event": [1, 1]}, "time"),
        ({"time": [1, 2], "event": [1, 2]}, "event"),
        ({"time": [1, 2], "event": [1, 0.5]}, "event"),
        ({"time": [1, 2], "event": ["yes", "no"]}, "event"),
        ({"time": [1, 2], "event": [1, 0], "level": 1.0}, "level"),
        ({"time": [1, 2], "event": [1, 0], "level": 0}, "level"),
    ],
)
def test_invalid_input_is_refused_naming_the_argument(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        kaplan_meier(**kwargs)
    assert err.value.field == field


def test_unknown_conf_type_is_refused() -> None:
    with pytest.raises(UnknownOptionError, match="conf_type"):
        kaplan_meier([1, 2], [1, 0], conf_type="logit")  # type: ignore[arg-type]


def test_boolean_events_and_time_zero_are_accepted() -> None:
    fit = kaplan_meier([0.0, 1.0, 2.0], [True, False, True])
    np.testing.assert_array_equal(fit.n_event, [1, 0, 1])
    assert fit.survival[0] == pytest.approx(2 / 3, rel=1e-15)


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan, "half"])
def test_quantile_refuses_a_probability_outside_0_1(p: Any) -> None:
    with pytest.raises(InvalidInputError):
        kaplan_meier([1, 2], [1, 0]).quantile(p)


def test_survival_at_refuses_nan() -> None:
    with pytest.raises(InvalidInputError):
        kaplan_meier([1, 2], [1, 0]).survival_at(math.nan)


# ---- an obviously correct oracle and properties ----------------------------------------------


def slow_km(time: NDArray[np.float64], event: NDArray[np.int64]) -> tuple[list[float], ...]:
    """Textbook Kaplan–Meier and Greenwood by a loop over the distinct times."""
    times, surv, se = [], [], []
    s, green = 1.0, 0.0
    for t in sorted(set(time.tolist())):
        n = int(np.sum(time >= t))
        d = int(np.sum((time == t) & (event == 1)))
        s *= 1 - d / n
        green = green + d / (n * (n - d)) if n > d else math.inf
        times.append(t)
        surv.append(s)
        se.append(s * math.sqrt(green) if s > 0 else math.nan)
    return times, surv, se


survival_data = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 12), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
    )
)


@given(survival_data)
def test_matches_a_textbook_loop_oracle(d: tuple[list[int], list[int]]) -> None:
    time, event = np.array(d[0], dtype=float), np.array(d[1])
    fit = kaplan_meier(time, event)
    times, surv, se = slow_km(time, event)
    np.testing.assert_array_equal(fit.time, times)
    np.testing.assert_allclose(fit.survival, surv, rtol=1e-12)
    np.testing.assert_allclose(fit.std_err, se, rtol=1e-12, equal_nan=True)


@given(survival_data, st.sampled_from(["log", "log-log", "plain"]))
def test_curve_properties(d: tuple[list[int], list[int]], conf_type: str) -> None:
    fit = kaplan_meier(d[0], d[1], conf_type=conf_type)  # type: ignore[arg-type]
    s = fit.survival
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 0)
    assert np.all(np.diff(fit.n_risk) < 0)
    assert fit.n_risk[0] == len(d[0])
    assert fit.n_event.sum() == sum(d[1])
    defined = ~np.isnan(fit.lower) & ~np.isnan(fit.upper)
    assert np.all(fit.lower[defined] <= s[defined] + 1e-12)
    assert np.all(s[defined] <= fit.upper[defined] + 1e-12)
    assert np.all((fit.lower[defined] >= 0) & (fit.upper[defined] <= 1))


@given(survival_data, st.randoms(use_true_random=False))
def test_invariant_to_the_order_of_rows(d: tuple[list[int], list[int]], rnd: Any) -> None:
    order = list(range(len(d[0])))
    rnd.shuffle(order)
    a = kaplan_meier(d[0], d[1])
    b = kaplan_meier([d[0][i] for i in order], [d[1][i] for i in order])
    for field in ("time", "n_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_array_equal([a.median, *a.median_ci], [b.median, *b.median_ci])


def test_result_type_is_exported() -> None:
    assert isinstance(kaplan_meier([1], [1]), KaplanMeier)
