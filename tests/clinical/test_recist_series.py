"""The series form of the RECIST 1.1 target response is the one-call form, step by step.

``assess_patient`` and iRECIST's ``assess_series`` derive the target response of each follow-up
with :class:`~equitrial.clinical._recist_timepoint.TargetSeries`, which carries the nadir from
one assessment to the next instead of reading every earlier one again. The oracle is
:func:`~equitrial.clinical.recist.target_response` called with the whole history, as those
functions called it before: same response, same exact sum, and the same error (type and
message) at the same assessment for inputs it refuses.
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from equitrial.clinical._recist_timepoint import (
    TargetSeries,
    _exact_sum,
    exact_decimal,
    exact_sum_mm,
)
from equitrial.clinical.irecist import (
    IrecistAssessment,
    IrecistBaseline,
    TargetLesionMeasure,
    assess_series,
    target_category,
)
from equitrial.clinical.recist import target_response

DAY = dt.date(2024, 1, 1)
mm = st.integers(min_value=0, max_value=800).map(lambda x: x / 10)  # 0.1 mm steps
baseline_mm = st.integers(min_value=100, max_value=600).map(lambda x: x / 10)
# inputs target_response refuses (or takes as they are: an int), now and then
odd = st.sampled_from([-1.0, math.nan, math.inf, True, "12", 12, 0, -0.0, 1e308])


def _outcome(call):
    try:
        return ("value", call())
    except Exception as error:  # the oracle's error must be the series' error
        return ("error", type(error), str(error))


@st.composite
def series_cases(draw, *, refused: bool):
    n = draw(st.integers(min_value=1, max_value=5))
    value = st.one_of(mm, odd) if refused else mm
    first = st.one_of(baseline_mm, odd, st.none()) if refused else baseline_mm
    baseline = draw(st.lists(first, min_size=n, max_size=n))
    nodal = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    width = st.integers(min_value=n - 1, max_value=n + 1) if refused else st.just(n)
    currents = draw(
        st.lists(
            width.flatmap(lambda k: st.lists(st.one_of(st.none(), value), min_size=k, max_size=k)),
            min_size=1,
            max_size=8,
        )
    )
    return baseline, nodal, currents


def _check_series(baseline, nodal, currents):
    series = TargetSeries(baseline, nodal=nodal)
    for k, current in enumerate(currents):
        history = currents[:k]
        expected = _outcome(lambda: target_response(baseline, history, current, nodal=nodal))  # noqa: B023
        got = _outcome(lambda: series.next(current))  # noqa: B023
        if expected[0] == "error":
            assert got == expected
            return
        assert got[0] == "value"
        code, measured, complete = got[1]
        assert code == expected[1]
        measured_mm = [v for v in current if v is not None]
        assert complete == (len(measured_mm) == len(current))
        # assess_patient's target sum, exact_sum_mm before (an overflow raises in both)
        assert _outcome(lambda: float(measured)) == _outcome(lambda: exact_sum_mm(measured_mm))  # noqa: B023


@given(series_cases(refused=False))
def test_each_response_is_target_response_over_the_whole_history(case):
    _check_series(*case)


@given(series_cases(refused=True))
def test_a_refused_input_raises_the_same_error_at_the_same_assessment(case):
    _check_series(*case)


def test_the_nadir_is_the_smallest_complete_sum_so_far():
    # baseline 50; 40 complete (nadir 40); 30 with a lesion not assessed (not a nadir);
    # 48 = +20 % of 40 and +8 mm: PD against 40, not against the 30 of the incomplete one
    series = TargetSeries([30.0, 20.0], nodal=[False, False])
    assert series.next([25.0, 15.0])[0] == "SD"
    assert series.next([30.0, None])[0] == "NE"
    assert series.next([30.0, 18.0])[0] == "PD"
    assert (
        target_response(
            [30.0, 20.0], [[25.0, 15.0], [30.0, None]], [30.0, 18.0], nodal=[False, False]
        )
        == "PD"
    )


@given(st.lists(st.floats(min_value=0, max_value=1e6), max_size=6))
def test_the_exact_sum_is_the_sum_of_the_fractions(values):
    fractions = [Fraction(str(v)) for v in values]
    assert _exact_sum(fractions) == sum(fractions, Fraction(0))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_the_cached_decimal_is_the_decimal_written(value):
    assert exact_decimal(value) == Fraction(str(value))
    assert exact_decimal(-0.0) == exact_decimal(0.0) == 0


@st.composite
def irecist_cases(draw):
    n = draw(st.integers(min_value=1, max_value=5))
    base = tuple(
        TargetLesionMeasure(f"T{i}", draw(st.integers(15, 60).map(float)), draw(st.booleans()))
        for i in range(n)
    )
    visits = []
    for week in range(1, draw(st.integers(min_value=1, max_value=8)) + 1):
        order = draw(st.permutations(base))
        target = tuple(
            TargetLesionMeasure(t.lesion_id, draw(st.one_of(st.none(), mm)), t.nodal) for t in order
        )
        visits.append(IrecistAssessment(DAY + dt.timedelta(weeks=6 * week), target=target))
    return base, visits


@given(irecist_cases())
def test_irecist_target_categories_are_target_category_over_the_whole_history(case):
    base, visits = case
    results = assess_series(IrecistBaseline(target=base, non_target=False), visits)
    for k, (visit, result) in enumerate(zip(visits, results, strict=True)):
        history = [v.target for v in visits[:k]]
        category, total = target_category(base, history, visit.target)
        assert (result.target, result.target_sum) == (category, total)
