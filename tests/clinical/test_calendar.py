"""Study calendar: study days (CDISC SDTMIG), visit schedules, windows and overdue visits.

References used below:
- SDTMIG v3.4 section 4.4.4 (study day), CDISC SDTM Implementation Guide v3.4:
  "--DY = date - reference start date + 1 when on/after the reference date, date - reference
  date when before; there is no day 0".
- CDISC Pilot 01 SDTM datasets (cdisc-org/sdtm-adam-pilot-project @ 47dc0786, files
  dm.xpt sha1 9fd9e730..., ae.xpt sha1 2d28858b..., ex.xpt sha1 0c880554..., ds.xpt sha1
  6f951f36...): published --DY values next to their dates and DM.RFSTDTC, copied by hand.
- Calendar arithmetic done by hand in the comments (month lengths, 2024 a leap year).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitrial.clinical.calendar import (
    OneOffVisit,
    PiecewiseVisits,
    PlannedVisit,
    RepeatingVisits,
    Segment,
    VisitSchedule,
    Window,
    date_of_study_day,
    overdue_visits,
    planned_visits,
    study_day,
    visit_status,
    window_of,
)
from equitrial.errors import InvalidInputError

D = dt.date

# --- study day -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (D(2024, 3, 9), -1),  # "date - reference date when before": 9 - 10 = -1
        (D(2024, 3, 10), 1),  # "date - reference start date + 1 when on/after": 0 + 1
        (D(2024, 3, 11), 2),  # 1 + 1
        (D(2024, 3, 8), -2),
    ],
    ids=["day before reference is -1", "reference is day 1", "day after is 2", "two before"],
)
def test_study_day_around_reference_sdtmig(date: dt.date, expected: int) -> None:
    assert study_day(date, D(2024, 3, 10)) == expected


@pytest.mark.parametrize(
    ("date", "reference", "expected"),
    [
        # 2024 is a leap year: 2024-02-28 -> 02-29 -> 03-01 is 2 days, so day 3.
        (D(2024, 3, 1), D(2024, 2, 28), 3),
        # 2023 is not: 2023-02-28 -> 03-01 is 1 day, so day 2.
        (D(2023, 3, 1), D(2023, 2, 28), 2),
        # Before the reference across 29 Feb: 2024-02-29 is day -1, 2024-02-28 day -2.
        (D(2024, 2, 28), D(2024, 3, 1), -2),
        (D(2023, 2, 28), D(2023, 3, 1), -1),
        # A whole leap year: 2024-01-01 to 2024-12-31 is 365 days -> day 366 (2023: 365).
        (D(2024, 12, 31), D(2024, 1, 1), 366),
        (D(2023, 12, 31), D(2023, 1, 1), 365),
        # 2000 is a leap year (divisible by 400), 1900 is not (by 100, not 400).
        (D(2000, 3, 1), D(2000, 2, 28), 3),
        (D(1900, 3, 1), D(1900, 2, 28), 2),
    ],
)
def test_study_day_counts_leap_days(date: dt.date, reference: dt.date, expected: int) -> None:
    assert study_day(date, reference) == expected
    assert date_of_study_day(expected, reference) == date


@pytest.mark.parametrize(
    ("usubjid", "rfstdtc", "dtc", "published_dy"),
    [
        ("01-705-1393", "2012-09-07", "2011-12-05", -277),  # AE AESEQ 2 AESTDY; spans 2012-02-29
        ("01-705-1393", "2012-09-07", "2013-01-21", 137),  # AE AESEQ 3 AESTDY
        ("01-705-1431", "2013-06-23", "2013-06-22", -1),  # AE AESEQ 1 AESTDY
        ("01-701-1015", "2014-01-02", "2014-01-02", 1),  # EX EXSTDY
        ("01-701-1015", "2014-01-02", "2014-01-03", 2),  # AE AESTDY
        ("01-701-1047", "2013-02-12", "2013-03-10", 27),  # AE AESEQ 4 AESTDY, across February
        ("01-705-1292", "2013-10-14", "2014-05-13", 212),  # EX EXENDY
        ("01-703-1096", "2013-01-25", "2012-12-19", -37),  # DM DMDY
        ("01-703-1279", "2013-05-13", "2013-04-27", -16),  # DS DSSTDY
    ],
)
def test_study_day_matches_cdisc_pilot_01_published_dy(
    usubjid: str, rfstdtc: str, dtc: str, published_dy: int
) -> None:
    ref, date = D.fromisoformat(rfstdtc), D.fromisoformat(dtc)
    assert study_day(date, ref) == published_dy, usubjid
    assert date_of_study_day(published_dy, ref) == date, usubjid


dates = st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31))
days = st.integers(min_value=-100_000, max_value=100_000).filter(lambda d: d != 0)


@given(date=dates, reference=dates)
def test_study_day_round_trip_and_never_zero(date: dt.date, reference: dt.date) -> None:
    day = study_day(date, reference)
    assert day != 0
    assert date_of_study_day(day, reference) == date


@given(day=days, reference=st.dates(min_value=D(1950, 1, 1), max_value=D(2100, 12, 31)))
def test_date_of_study_day_round_trip(day: int, reference: dt.date) -> None:
    assert study_day(date_of_study_day(day, reference), reference) == day


@given(date=dates, reference=dates)
def test_next_date_is_next_study_day_skipping_zero(date: dt.date, reference: dt.date) -> None:
    # SDTMIG: consecutive dates are consecutive study days, except -1 is followed by 1.
    today = study_day(date, reference)
    tomorrow = study_day(date + dt.timedelta(days=1), reference)
    assert tomorrow == (1 if today == -1 else today + 1)


def test_study_day_zero_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match="no day 0"):
        date_of_study_day(0, D(2024, 1, 1))


@pytest.mark.parametrize("day", [True, 1.0, "1", None])
def test_study_day_must_be_an_integer(day: object) -> None:
    with pytest.raises(InvalidInputError, match="integer"):
        date_of_study_day(day, D(2024, 1, 1))  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [dt.datetime(2024, 1, 2, 8, 0), "2024-01-02", None])
def test_study_day_refuses_datetimes_and_strings(bad: object) -> None:
    with pytest.raises(InvalidInputError, match=r"date must be a datetime.date"):
        study_day(bad, D(2024, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"reference_date must be a datetime.date"):
        study_day(D(2024, 1, 1), bad)  # type: ignore[arg-type]


# --- the example schedule ------------------------------------------------------------------

REF = D(2024, 1, 15)

DOSING = RepeatingVisits(
    "Cycle", first_day=1, interval_days=21, window=Window(-3, 3), max_count=35,
    ends_with_treatment=True,
)  # fmt: skip
SCANS = PiecewiseVisits(
    "Scan", first_day=64, segments=(Segment(63, until_day=379), Segment(84)), window=Window(-7, 7)
)
SCREENING = OneOffVisit("Screening", day=-1, window=Window(-27, 0))
EOT = OneOffVisit("End of treatment", day=31, window=Window(-3, 7), anchor="end_of_treatment")
FOLLOW_UP = RepeatingVisits(
    "Follow-up", first_day=85, interval_days=84, window=Window(-7, 7), anchor="end_of_treatment"
)
SCHEDULE = VisitSchedule((SCREENING, DOSING, SCANS, EOT, FOLLOW_UP))


def by_name(visits: list[PlannedVisit]) -> dict[str, PlannedVisit]:
    return {v.name: v for v in visits}


def of(component: str, visits: list[PlannedVisit]) -> list[PlannedVisit]:
    return [v for v in visits if v.component == component]


def test_q3w_dosing_targets_and_windows() -> None:
    plan = of("Cycle", planned_visits(SCHEDULE, REF, until=D(2024, 3, 31)))
    # Jan 15 + 21 = Jan 36 = Feb 5; Feb 5 + 21 = Feb 26; Feb 26 + 21 = Feb 47 = Mar 18 (29-day
    # Feb 2024). Study days 1, 22, 43, 64. Windows -3/+3: Feb 26 -> Feb 23 .. Feb 29.
    assert [(v.name, v.target_date, v.study_day) for v in plan] == [
        ("Cycle 1", D(2024, 1, 15), 1),
        ("Cycle 2", D(2024, 2, 5), 22),
        ("Cycle 3", D(2024, 2, 26), 43),
        ("Cycle 4", D(2024, 3, 18), 64),
    ]
    assert [(v.window_start, v.window_end) for v in plan] == [
        (D(2024, 1, 12), D(2024, 1, 18)),
        (D(2024, 2, 2), D(2024, 2, 8)),
        (D(2024, 2, 23), D(2024, 2, 29)),
        (D(2024, 3, 15), D(2024, 3, 21)),
    ]


def test_q3w_dosing_stops_after_max_count() -> None:
    plan = of("Cycle", planned_visits(SCHEDULE, REF, until=D(2030, 1, 1)))
    assert len(plan) == 35
    # Cycle 35: day 1 + 34 * 21 = 715
    assert plan[-1].name == "Cycle 35"
    assert plan[-1].study_day == 715
    assert plan[-1].target_date == REF + dt.timedelta(days=714)


@pytest.mark.parametrize(("last_day", "n"), [(43, 3), (42, 2), (22, 2), (21, 1)])
def test_repeating_last_day_is_inclusive(last_day: int, n: int) -> None:
    # targets on days 1, 22, 43, 64, ...
    comp = RepeatingVisits("Cycle", first_day=1, interval_days=21, window=Window(0, 0),
                           last_day=last_day)  # fmt: skip
    plan = planned_visits(VisitSchedule((comp,)), REF, until=D(2030, 1, 1))
    assert len(plan) == n


def test_scans_switch_from_9_to_12_weekly_after_week_54() -> None:
    plan = of("Scan", planned_visits(SCHEDULE, REF, until=D(2026, 1, 1)))
    # every 63 days from day 64: 64, 127, 190, 253, 316, 379 (= day 1 + 54 weeks, inclusive),
    # then every 84 days from day 379: 463, 547, 631, 715
    assert [v.study_day for v in plan] == [64, 127, 190, 253, 316, 379, 463, 547, 631, 715]
    assert [v.name for v in plan][:7] == [f"Scan {k}" for k in range(1, 8)]
    scan7 = plan[6]
    # day 463 = REF + 462 days; window +/- 7 days
    assert scan7.target_date == REF + dt.timedelta(days=462)
    assert scan7.window_start == REF + dt.timedelta(days=455)
    assert scan7.window_end == REF + dt.timedelta(days=469)


def test_scan_segment_boundary_one_day_earlier_moves_the_switch() -> None:
    # until_day 378: 379 no longer fits the 9-weekly segment, so after 316 come 316 + 84 = 400...
    scans = PiecewiseVisits("Scan", first_day=64, segments=(Segment(63, 378), Segment(84)),
                            window=Window(-7, 7))  # fmt: skip
    plan = planned_visits(VisitSchedule((scans,)), REF, until=REF + dt.timedelta(days=500))
    assert [v.study_day for v in plan] == [64, 127, 190, 253, 316, 400, 484]


def test_piecewise_with_bounded_last_segment_ends() -> None:
    comp = PiecewiseVisits("V", first_day=1, segments=(Segment(7, 15), Segment(14, 50)),
                           window=Window(0, 0))  # fmt: skip
    plan = planned_visits(VisitSchedule((comp,)), REF, until=D(2030, 1, 1))
    # 1, 8, 15 (weekly to day 15), then 29, 43 (every 14 days up to day 50)
    assert [v.study_day for v in plan] == [1, 8, 15, 29, 43]


def test_screening_window_is_day_minus_28_to_minus_1() -> None:
    screening = by_name(planned_visits(SCHEDULE, REF, until=REF))["Screening"]
    assert screening.study_day == -1
    assert study_day(screening.window_start, REF) == -28
    assert study_day(screening.window_end, REF) == -1
    # 2024-01-15 - 28 days = 2023-12-18
    assert screening.window_start == D(2023, 12, 18)


def test_targets_cross_reference_without_day_0() -> None:
    # day -2, +3 calendar days -> -1, 1, 2 -> day 2; window end +3 days of day 2 -> day 5
    comp = RepeatingVisits("V", first_day=-2, interval_days=3, window=Window(-3, 3), max_count=2)
    plan = planned_visits(VisitSchedule((comp,)), REF, until=D(2030, 1, 1))
    assert [v.study_day for v in plan] == [-2, 2]
    # window of day -2: -5 .. day 2 (−2 + 3 calendar days = -1, 1, 2)
    assert study_day(plan[0].window_end, REF) == 2
    assert study_day(plan[0].window_start, REF) == -5


def test_horizon_includes_target_on_until() -> None:
    plan = of("Cycle", planned_visits(SCHEDULE, REF, until=D(2024, 2, 26)))
    assert [v.name for v in plan] == ["Cycle 1", "Cycle 2", "Cycle 3"]
    plan = of("Cycle", planned_visits(SCHEDULE, REF, until=D(2024, 2, 25)))
    assert [v.name for v in plan] == ["Cycle 1", "Cycle 2"]


def test_plan_sorted_by_target_date() -> None:
    plan = planned_visits(SCHEDULE, REF, until=D(2024, 3, 20))
    assert [v.name for v in plan] == [
        "Screening", "Cycle 1", "Cycle 2", "Cycle 3", "Cycle 4", "Scan 1",
    ]  # fmt: skip
    # Cycle 4 and Scan 1 share day 64: ties broken by name
    assert plan[-1].target_date == plan[-2].target_date


def test_end_of_treatment_visits_need_the_end_of_treatment_date() -> None:
    plan = planned_visits(SCHEDULE, REF, until=D(2025, 1, 1))
    assert not of("End of treatment", plan)
    assert not of("Follow-up", plan)


def test_end_of_treatment_and_follow_up_are_anchored_at_end_of_treatment() -> None:
    eot = D(2024, 6, 3)
    plan = planned_visits(SCHEDULE, REF, until=D(2024, 12, 31), end_of_treatment=eot)
    visits = by_name(plan)
    # EOT visit on day 31 after EOT: Jun 3 + 30 days = Jul 3; window -3/+7 = Jun 30 .. Jul 10
    assert visits["End of treatment"].target_date == D(2024, 7, 3)
    assert visits["End of treatment"].window_start == D(2024, 6, 30)
    assert visits["End of treatment"].window_end == D(2024, 7, 10)
    # Follow-up 1 on day 85: Jun 3 + 84 = Aug 26 (27 days to Jun 30, 31 in Jul, 26 in Aug);
    # Follow-up 2: Aug 26 + 84 = Nov 18 (5 to Aug 31, 30 Sep, 31 Oct, 18 Nov); 3rd is in 2025.
    assert [v.target_date for v in of("Follow-up", plan)] == [D(2024, 8, 26), D(2024, 11, 18)]
    # study_day stays relative to the reference date: Jan 15 -> Jul 3 2024 is 170 days -> 171
    # (16 + 29 + 31 + 30 + 31 + 30 + 3 = 170)
    assert visits["End of treatment"].study_day == 171


@pytest.mark.parametrize(
    ("eot", "cycles"),
    [(D(2024, 2, 26), 3), (D(2024, 2, 25), 2), (D(2024, 2, 27), 3)],
    ids=["EOT on cycle 3 target", "EOT the day before", "EOT the day after"],
)
def test_dosing_ends_with_treatment_but_scans_do_not(eot: dt.date, cycles: int) -> None:
    plan = planned_visits(SCHEDULE, REF, until=D(2024, 6, 1), end_of_treatment=eot)
    assert len(of("Cycle", plan)) == cycles
    assert len(of("Scan", plan)) == 2  # days 64 and 127 are before Jun 1 (day 139)


# --- window assignment -----------------------------------------------------------------------

CYCLES = of("Cycle", planned_visits(SCHEDULE, REF, until=D(2024, 3, 31)))


@pytest.mark.parametrize(
    ("actual", "name", "offset"),
    [
        (D(2024, 2, 1), None, None),  # between Cycle 1 (ends Jan 18) and Cycle 2 (from Feb 2)
        (D(2024, 2, 2), "Cycle 2", -3),  # window start, inclusive
        (D(2024, 2, 5), "Cycle 2", 0),
        (D(2024, 2, 8), "Cycle 2", 3),  # window end, inclusive
        (D(2024, 2, 9), None, None),
        (D(2024, 2, 29), "Cycle 3", 3),  # leap day is Cycle 3's last window day
        (D(2024, 3, 1), None, None),
    ],
)
def test_window_of_at_window_edges(actual: dt.date, name: str | None, offset: int | None) -> None:
    match = window_of(actual, CYCLES)
    if name is None:
        assert match is None
    else:
        assert match is not None
        assert match.visit.name == name
        assert match.days_from_target == offset


def overlapping(interval: int) -> list[PlannedVisit]:
    comp = RepeatingVisits("W", first_day=1, interval_days=interval, window=Window(-5, 5),
                           max_count=3)  # fmt: skip
    return planned_visits(VisitSchedule((comp,)), REF, until=D(2030, 1, 1))


@pytest.mark.parametrize(
    ("interval", "day", "name"),
    [
        (7, 4, "W 1"),  # targets days 1 and 8: 3 days from W 1, 4 from W 2
        (7, 5, "W 2"),  # 4 from W 1, 3 from W 2
        (8, 5, "W 1"),  # targets 1 and 9: 4 from each -> the earlier target wins
    ],
)
def test_overlapping_windows_nearest_target_wins(interval: int, day: int, name: str) -> None:
    match = window_of(date_of_study_day(day, REF), overlapping(interval))
    assert match is not None
    assert match.visit.name == name


def test_window_of_empty_plan_is_none() -> None:
    assert window_of(REF, []) is None


@pytest.mark.parametrize(
    ("actual", "status"),
    [
        (D(2024, 2, 1), "out of window"),
        (D(2024, 2, 2), "in window"),
        (D(2024, 2, 8), "in window"),
        (D(2024, 2, 9), "out of window"),
    ],
)
def test_visit_status_edges(actual: dt.date, status: str) -> None:
    assert visit_status(actual, by_name(CYCLES)["Cycle 2"]) == status


# --- overdue visits ---------------------------------------------------------------------------


def test_overdue_only_after_the_window_end() -> None:
    # Cycle 1 window ends Jan 18, Cycle 2 Feb 8
    assert overdue_visits(CYCLES, {"Cycle 1"}, D(2024, 2, 8)) == []
    assert [v.name for v in overdue_visits(CYCLES, {"Cycle 1"}, D(2024, 2, 9))] == ["Cycle 2"]
    assert overdue_visits(CYCLES, {"Cycle 1", "Cycle 2"}, D(2024, 2, 9)) == []


def test_overdue_lists_every_missed_visit_in_plan_order() -> None:
    late = overdue_visits(CYCLES, ["Cycle 2", "Unscheduled 1"], D(2024, 3, 1))
    assert [v.name for v in late] == ["Cycle 1", "Cycle 3"]


def test_overdue_done_from_window_of() -> None:
    actual = [D(2024, 1, 16), D(2024, 2, 7)]
    matches = [window_of(a, CYCLES) for a in actual]
    done = {m.visit.name for m in matches if m is not None}
    assert [v.name for v in overdue_visits(CYCLES, done, D(2024, 3, 22))] == [
        "Cycle 3",
        "Cycle 4",
    ]


def test_overdue_done_must_be_names() -> None:
    with pytest.raises(InvalidInputError, match="collection of visit names"):
        overdue_visits(CYCLES, "Cycle 1", D(2024, 3, 1))
    with pytest.raises(InvalidInputError, match="collection of visit names"):
        overdue_visits(CYCLES, [D(2024, 1, 15)], D(2024, 3, 1))  # type: ignore[list-item]


# --- bad schedules ---------------------------------------------------------------------------


def test_window_start_after_end_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match=r"window start \(3\) is after window end \(-3\)"):
        Window(3, -3)


@pytest.mark.parametrize(("start", "end"), [(1, 3), (-3, -1)])
def test_window_must_contain_its_target(start: int, end: int) -> None:
    with pytest.raises(InvalidInputError, match="must contain its target"):
        Window(start, end)


@pytest.mark.parametrize("interval", [0, -21])
def test_non_positive_interval_is_an_error(interval: int) -> None:
    with pytest.raises(InvalidInputError, match="interval_days must be at least 1"):
        RepeatingVisits("Cycle", first_day=1, interval_days=interval, window=Window(-3, 3))
    with pytest.raises(InvalidInputError, match="interval_days must be at least 1"):
        Segment(interval)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"first_day": 0}, "no day 0"),
        ({"max_count": 0}, "max_count must be at least 1"),
        ({"last_day": 0}, "no day 0"),
        ({"first_day": 22, "last_day": 1}, "before first_day"),
        ({"interval_days": 21.0}, "must be an integer"),
        ({"anchor": "randomization"}, "anchor must be one of"),
        ({"name": ""}, "non-empty string"),
    ],
)
def test_bad_repeating_component(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "name": "Cycle", "first_day": 1, "interval_days": 21, "window": Window(-3, 3),
    }  # fmt: skip
    with pytest.raises(InvalidInputError, match=message):
        RepeatingVisits(**{**args, **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("segments", "message"),
    [
        ((), "segments must not be empty"),
        ((Segment(63), Segment(84)), "only the last segment may have no until_day"),
        ((Segment(63, 379), Segment(84, 300)), "segment 1 ends on day 300"),
        ((Segment(63, 50), Segment(84)), "segment 0 ends on day 50"),
    ],
)
def test_bad_piecewise_segments(segments: tuple[Segment, ...], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        PiecewiseVisits("Scan", first_day=64, segments=segments, window=Window(-7, 7))


def test_one_off_day_0_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match="no day 0"):
        OneOffVisit("Baseline", day=0)


def test_duplicate_component_names_are_an_error() -> None:
    with pytest.raises(InvalidInputError, match="repeated: Cycle"):
        VisitSchedule((DOSING, DOSING))


def test_duplicate_planned_visit_names_are_an_error() -> None:
    clash = OneOffVisit("Cycle 2", day=5)
    with pytest.raises(InvalidInputError, match="planned visit names must be unique"):
        planned_visits(VisitSchedule((DOSING, clash)), REF, until=D(2024, 6, 1))


def test_planned_visits_argument_types() -> None:
    with pytest.raises(InvalidInputError, match="schedule must be a VisitSchedule"):
        planned_visits((DOSING,), REF, until=D(2024, 6, 1))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"until must be a datetime\.date"):
        planned_visits(SCHEDULE, REF, until="2024-06-01")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"end_of_treatment must be a datetime\.date"):
        planned_visits(SCHEDULE, REF, until=REF, end_of_treatment=dt.datetime(2024, 5, 1))
    with pytest.raises(InvalidInputError, match=r"actual_date must be a datetime\.date"):
        window_of("2024-02-05", CYCLES)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"today must be a datetime\.date"):
        overdue_visits(CYCLES, set(), None)  # type: ignore[arg-type]


def test_schedule_parts_are_frozen() -> None:
    with pytest.raises(AttributeError):
        DOSING.interval_days = 14  # type: ignore[misc]
