"""Log-rank test against R's survdiff (tests/reference/survival_km.R -> survival_km.json).

Tolerance: 1e-6 relative against R's output (written with 15 significant digits); expected
counts R reports as exactly 0 must be exactly 0.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.typing import NDArray

from equitrial.errors import InvalidInputError
from equitrial.stats.survival import LogRankResult, logrank

REF: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "reference" / "survival_km.json").read_text()
)
RTOL = 1e-6


def r_list(x: Any) -> list[Any]:
    """An R vector from the JSON (a length-1 vector may come unboxed)."""
    return x if isinstance(x, list) else [x]


def assert_r_close(ours: Any, expected: Any, what: str) -> None:
    np.testing.assert_allclose(
        np.atleast_1d(np.asarray(ours, dtype=float)),
        np.asarray(r_list(expected), dtype=float),
        rtol=RTOL,
        atol=0,
        err_msg=what,
    )


def run(case: dict[str, Any]) -> LogRankResult:
    d = REF["datasets"][case["dataset"]]
    strata = None if case["strata"] == "NA" else r_list(d[case["strata"]])
    return logrank(
        np.asarray(r_list(d["time"]), dtype=float),
        np.asarray(r_list(d["event"])),
        r_list(d[case["group"]]),
        strata=strata,
    )


@pytest.mark.parametrize("case", REF["logrank"], ids=lambda c: c["call"])
def test_matches_r_survdiff(case: dict[str, Any]) -> None:
    res = run(case)
    assert list(res.groups) == r_list(case["groups"])
    np.testing.assert_array_equal(res.n, r_list(case["n"]))
    assert res.df == case["df"]
    assert_r_close(res.statistic, case["chisq"], "chisq")
    assert_r_close(res.pvalue, case["pvalue"], "pvalue")
    assert_r_close(res.observed, case["observed"], "obs")
    assert_r_close(res.expected, case["expected"], "exp")
    assert_r_close(res.variance, case["var"], "var")


def test_group_never_at_risk_at_an_event_is_dropped_as_r() -> None:
    # zero_expected: group B is censored before the first event; R's survdiff gives E_B = 0
    # and df = 1 with three groups.
    case = next(c for c in REF["logrank"] if c["dataset"] == "zero_expected")
    res = run(case)
    assert res.groups == ("A", "B", "C")
    assert res.expected[1] == 0.0 and r_list(case["expected"])[1] == 0
    assert res.df == 1 == case["df"]


def test_one_group_with_expected_events_gives_zero_as_r() -> None:
    # Every event in group a; b is censored before the first: R gives chisq 0, df 0, p 1.
    res = logrank([2, 3, 1, 1.5], [1, 1, 0, 0], ["a", "a", "b", "b"])
    assert (res.statistic, res.df, res.pvalue) == (0.0, 0, 1.0)


def test_no_events_at_all_gives_statistic_zero_and_p_one() -> None:
    res = logrank([1, 2, 3, 4], [0, 0, 0, 0], [0, 1, 0, 1])
    assert (res.statistic, res.df, res.pvalue) == (0.0, 0, 1.0)
    np.testing.assert_array_equal(res.expected, [0.0, 0.0])


def test_singular_variance_uses_a_generalized_inverse() -> None:
    # One event time at which everyone at risk dies: V = 0 (R's solve() stops here).
    res = logrank([1, 1], [1, 1], ["a", "b"])
    np.testing.assert_array_equal(res.variance, np.zeros((2, 2)))
    assert (res.statistic, res.df, res.pvalue) == (0.0, 0, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time": [1, 2, 3], "event": [1, 0, 1], "group": [1, 1, 1]}, "group"),
        ({"time": [1, 2, 3], "event": [1, 0, 1], "group": [1, 2]}, "group"),
        ({"time": [1, 2, 3], "event": [1, 0, 1], "group": [1.0, math.nan, 2.0]}, "group"),
        ({"time": [1, 2, 3], "event": [1, 0, 1], "group": ["a", None, "b"]}, "group"),
        ({"time": [1, 2, 3], "event": [1, 0, 1], "group": [1, 2, 1], "strata": [1]}, "strata"),
        ({"time": [1, -2, 3], "event": [1, 0, 1], "group": [1, 2, 1]}, "time"),
        ({"time": [1, 2, 3], "event": [1, 3, 1], "group": [1, 2, 1]}, "event"),
    ],
)
def test_invalid_input_is_refused_naming_the_argument(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        logrank(**kwargs)
    assert err.value.field == field


# ---- properties ------------------------------------------------------------------------------

labelled_data = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 10), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
    )
)


def slow_logrank(
    time: NDArray[np.float64], event: NDArray[np.int64], group: NDArray[np.int64], k: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """O, E, V by a loop over the distinct event times (Mantel 1966; Peto & Peto 1972)."""
    o, e, v = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for t in np.unique(time[event == 1]):
        at_risk = np.array([np.sum((time >= t) & (group == j)) for j in range(k)], dtype=float)
        deaths = np.array([np.sum((time == t) & (event == 1) & (group == j)) for j in range(k)])
        n, d = at_risk.sum(), deaths.sum()
        o += deaths
        e += d * at_risk / n
        if n > 1:
            p = at_risk / n
            v += d * (n - d) / (n - 1) * (np.diag(p) - np.outer(p, p))
    return o, e, v


@given(labelled_data)
def test_matches_a_textbook_loop_oracle(d: tuple[list[int], list[int], list[int]]) -> None:
    time, event, group = (np.array(x) for x in d)
    assume(len(set(d[2])) >= 2)
    res = logrank(time.astype(float), event, group)
    codes = np.searchsorted(np.array(res.groups), group)
    o, e, v = slow_logrank(time.astype(float), event, codes, len(res.groups))
    np.testing.assert_allclose(res.observed, o, rtol=1e-12)
    np.testing.assert_allclose(res.expected, e, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.variance, v, rtol=1e-10, atol=1e-12)


@given(labelled_data, st.permutations(["x", "y", "z"]))
def test_statistic_is_invariant_to_relabelling_the_groups(
    d: tuple[list[int], list[int], list[int]], names: list[str]
) -> None:
    assume(len(set(d[2])) >= 2)
    a = logrank(d[0], d[1], d[2])
    b = logrank(d[0], d[1], [names[g] for g in d[2]])
    assert b.df == a.df
    assert b.statistic == pytest.approx(a.statistic, rel=1e-9, abs=1e-12)
    assert b.pvalue == pytest.approx(a.pvalue, rel=1e-9, abs=1e-12)
    assert sorted(b.observed.tolist()) == pytest.approx(sorted(a.observed.tolist()))


@given(labelled_data, st.randoms(use_true_random=False))
def test_invariant_to_the_order_of_rows(
    d: tuple[list[int], list[int], list[int]], rnd: Any
) -> None:
    assume(len(set(d[2])) >= 2)
    order = list(range(len(d[0])))
    rnd.shuffle(order)
    a = logrank(d[0], d[1], d[2])
    b = logrank(*([x[i] for i in order] for x in d))
    assert b.statistic == pytest.approx(a.statistic, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(b.variance, a.variance, rtol=1e-12, atol=1e-12)


@given(labelled_data, st.lists(st.integers(0, 1), min_size=40, max_size=40))
def test_stratified_sums_the_per_stratum_oracle(
    d: tuple[list[int], list[int], list[int]], strata_pool: list[int]
) -> None:
    assume(len(set(d[2])) >= 2)
    time, event, group = (np.array(x) for x in d)
    strata = np.array(strata_pool[: len(time)])
    res = logrank(time, event, group, strata=strata)
    codes = np.searchsorted(np.array(res.groups), group)
    k = len(res.groups)
    parts = [
        slow_logrank(time[strata == s].astype(float), event[strata == s], codes[strata == s], k)
        for s in np.unique(strata)
    ]
    np.testing.assert_allclose(res.expected, sum(p[1] for p in parts), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.variance, sum(p[2] for p in parts), rtol=1e-10, atol=1e-12)
