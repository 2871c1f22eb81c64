"""Dosing rules on hand-made cases, at every cut point (dates counted by hand from the label)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from equitrial.clinical.dosing import (
    DoseRecord,
    DosingRegimen,
    compute_exposure,
    dose_fits,
    fitting_regimens,
    planned_infusions,
)
from equitrial.errors import InvalidInputError

Q3W = DosingRegimen("Q3W", 200.0, 21, max_cycles=35)
Q6W = DosingRegimen("Q6W", 400.0, 42, max_cycles=18)
REGIMENS = {"Q3W": Q3W, "Q6W": Q6W}
DAY1 = dt.date(2025, 1, 6)
MAX_DAYS = 104 * 7  # 24 months


def _d(days: int) -> dt.date:
    return DAY1 + dt.timedelta(days=days)


def test_q3w_plans_35_infusions_to_week_102_with_windows():
    plan = planned_infusions(Q3W, DAY1, max_days=MAX_DAYS, window_days=3)
    assert len(plan) == 35
    assert [v.target_date for v in plan[:3]] == [DAY1, _d(21), _d(42)]
    assert plan[-1].target_date == _d(714)  # week 102
    assert plan[-1].name == "cycle 35"
    assert (plan[1].window_start, plan[1].window_end) == (_d(18), _d(24))
    assert plan[1].study_day == 22


def test_q6w_plans_18_infusions_to_week_102():
    plan = planned_infusions(Q6W, DAY1, max_days=MAX_DAYS, window_days=3)
    assert [v.target_date for v in plan] == [_d(42 * k) for k in range(18)]
    assert plan[-1].target_date == _d(714)


@pytest.mark.parametrize(
    ("max_days", "count"),
    [(714, 34), (715, 35), (716, 35)],  # the infusion of offset 714 is study day 715
)
def test_maximum_duration_cut_point(max_days, count):
    uncapped = DosingRegimen("Q3W", 200.0, 21)
    assert len(planned_infusions(uncapped, DAY1, max_days=max_days)) == count


def test_max_cycles_cut_point_and_first_cycle_after_a_switch():
    three = DosingRegimen("Q3W", 200.0, 21, max_cycles=3)
    assert len(planned_infusions(three, DAY1, max_days=MAX_DAYS)) == 3
    switched = planned_infusions(
        Q6W, _d(63), max_days=MAX_DAYS, reference_date=DAY1, first_cycle=4, window_days=3
    )
    # from day offset 63 every 42 days while the offset is < 728: 63, 105, ..., 693 -> 16
    assert [v.target_date for v in switched] == [_d(63 + 42 * k) for k in range(16)]
    assert switched[0].name == "cycle 4" and switched[0].study_day == 64
    renamed = planned_infusions(Q6W, DAY1, max_days=MAX_DAYS, first_cycle=19)
    assert (len(renamed), renamed[0].name, renamed[-1].name) == (18, "cycle 19", "cycle 36")
    assert planned_infusions(Q6W, _d(728), max_days=MAX_DAYS, reference_date=DAY1) == []


def test_planned_infusions_refuses_a_start_before_day_1():
    with pytest.raises(InvalidInputError, match="before reference_date"):
        planned_infusions(Q3W, _d(-1), max_days=MAX_DAYS, reference_date=DAY1)


@pytest.mark.parametrize(
    ("dose", "tolerance", "fits"),
    [
        (200.0, 0, True),
        (199.99, 0, False),
        (180.0, 10, True),  # 200 - 10 %
        (179.9, 10, False),
        (220.0, 10, True),
        (220.1, 10, False),
    ],
)
def test_dose_fits_at_the_tolerance_cut_points(dose, tolerance, fits):
    assert dose_fits(dose, Q3W, tolerance) is fits


def test_fitting_regimens():
    assert fitting_regimens(400.0, [Q3W, Q6W], 10) == (Q6W,)
    assert fitting_regimens(300.0, [Q3W, Q6W], 10) == ()
    with pytest.raises(InvalidInputError, match="tolerance"):
        dose_fits(200.0, Q3W, -1)


def test_exposure_of_a_perfect_q3w_history():
    doses = [DoseRecord(_d(21 * k), 200.0, "Q3W") for k in range(4)]
    e = compute_exposure(doses, REGIMENS)
    assert (e.infusions, e.cumulative_dose_mg) == (4, 800.0)
    assert (e.first_dose, e.last_dose) == (DAY1, _d(63))
    assert e.duration_days == 63 + 21
    assert e.planned_dose_mg == pytest.approx(800.0, rel=1e-15)
    assert e.relative_dose_intensity == pytest.approx(1.0, rel=1e-15)


def test_a_delay_lowers_dose_intensity():
    # doses on days 0, 28, 49, 70: duration 91 days, planned 91 / 21 * 200 = 866.67 mg
    doses = [DoseRecord(_d(k), 200.0, "Q3W") for k in (0, 28, 49, 70)]
    e = compute_exposure(doses, REGIMENS)
    assert e.duration_days == 91
    assert e.planned_dose_mg == pytest.approx(91 / 21 * 200, rel=1e-15)
    assert e.relative_dose_intensity == pytest.approx(800 / (91 / 21 * 200), rel=1e-15)


def test_a_switch_counts_each_period_under_its_own_regimen():
    # Q3W on days 0 and 21 (period 0-42: 2 cycles, 400 mg planned), Q6W on days 42 and 84
    # (period 42-126: 2 cycles, 800 mg planned); a partial 300 mg at day 84
    doses = [
        DoseRecord(_d(84), 300.0, "Q6W"),  # order does not matter
        DoseRecord(DAY1, 200.0, "Q3W"),
        DoseRecord(_d(21), 200.0, "Q3W"),
        DoseRecord(_d(42), 400.0, "Q6W"),
    ]
    e = compute_exposure(doses, REGIMENS)
    assert (e.infusions, e.cumulative_dose_mg, e.duration_days) == (4, 1100.0, 126)
    assert e.planned_dose_mg == pytest.approx(1200.0, rel=1e-15)
    assert e.relative_dose_intensity == pytest.approx(1100 / 1200, rel=1e-15)


def test_switch_with_a_late_first_dose_of_the_new_regimen():
    # Q3W day 0, Q6W from day 28 (7 days late): period 1 = 28 days -> 28/21*200 planned;
    # period 2 = day 28 to 28 + 42 -> 400 planned
    doses = [DoseRecord(DAY1, 200.0, "Q3W"), DoseRecord(_d(28), 400.0, "Q6W")]
    e = compute_exposure(doses, REGIMENS)
    assert e.duration_days == 70
    planned = 28 / 21 * 200 + 400
    assert e.planned_dose_mg == pytest.approx(planned, rel=1e-15)
    assert e.relative_dose_intensity == pytest.approx(600 / planned, rel=1e-15)


def test_single_dose_and_no_dose():
    one = compute_exposure([DoseRecord(DAY1, 400.0, "Q6W")], REGIMENS)
    assert (one.duration_days, one.relative_dose_intensity) == (42, 1.0)
    none = compute_exposure([DoseRecord(DAY1, 0.0, "Q3W")], REGIMENS)
    assert (none.infusions, none.duration_days, none.first_dose) == (0, 0, None)
    assert none.relative_dose_intensity is None


def test_exposure_refuses_unknown_regimen_and_bad_dose():
    with pytest.raises(InvalidInputError, match="unknown regimen 'Q2W'") as error:
        compute_exposure([DoseRecord(DAY1, 200.0, "Q2W")], REGIMENS)
    assert error.value.field == "regimen"
    with pytest.raises(InvalidInputError, match="dose_mg"):
        compute_exposure([DoseRecord(DAY1, math.nan, "Q3W")], REGIMENS)


def test_regimen_refuses_bad_values():
    with pytest.raises(InvalidInputError, match="interval_days"):
        DosingRegimen("X", 200.0, 0)
    with pytest.raises(InvalidInputError, match="dose_mg"):
        DosingRegimen("X", -1.0, 21)
