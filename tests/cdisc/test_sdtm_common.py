"""Shared SDTM rules: --DY, EPOCH, --SEQ, VISITNUM, ISO 8601 (SDTMIG v3.4 sections 4.1, 4.4)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from equitrial.cdisc.sdtm._common import (
    epoch,
    iso_date,
    iso_datetime,
    sequence,
    study_day,
    visit_number,
)

D = dt.date
RF = D(2024, 1, 10)  # RFSTDTC: day 1


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (D(2024, 1, 8), -2),  # 2024-01-08 - 2024-01-10 = -2 days: before day 1, no + 1
        (D(2024, 1, 9), -1),  # the day before RFSTDTC is day -1 (there is no day 0)
        (D(2024, 1, 10), 1),  # RFSTDTC itself is day 1
        (D(2024, 1, 11), 2),
        (D(2024, 3, 1), 52),  # 21 days left in January + 29 in February (leap) + 1 = 51; +1
        (dt.datetime(2024, 1, 10, 23, 59, tzinfo=dt.UTC), 1),  # a time on day 1 is day 1
    ],
)
def test_study_day_has_no_day_zero(date: dt.date, expected: int) -> None:
    got = study_day(pd.Series([date]), pd.Series([RF]))
    assert got.tolist() == [expected]


def test_study_day_missing_reference_or_date_is_missing() -> None:
    got = study_day(pd.Series([D(2024, 1, 10), None]), pd.Series([None, RF]))
    assert all(math.isnan(v) for v in got)


def test_epoch_at_its_boundaries() -> None:
    # first dose 2024-01-10, end of treatment 2024-03-01 (both in TREATMENT)
    dates = [D(2024, 1, 9), D(2024, 1, 10), D(2024, 3, 1), D(2024, 3, 2), None]
    got = epoch(pd.Series(dates), pd.Series([RF] * 5), pd.Series([D(2024, 3, 1)] * 5))
    assert got.tolist() == ["SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP", None]


def test_epoch_without_end_of_treatment_stays_in_treatment_and_undosed_in_screening() -> None:
    got = epoch(pd.Series([D(2030, 1, 1)]), pd.Series([RF]), pd.Series([None]))
    assert got.tolist() == ["TREATMENT"]
    got = epoch(pd.Series([D(2030, 1, 1)]), pd.Series([None]), pd.Series([None]))
    assert got.tolist() == ["SCREENING"]


def test_sequence_numbers_each_subject_from_one_in_a_stable_sort() -> None:
    frame = pd.DataFrame(
        {"USUBJID": ["B", "A", "B", "A", "A"], "DTC": ["2", "3", "1", "1", "1"], "id": range(5)}
    )
    out = sequence(frame, ["DTC"])
    # A: DTC 1 (id 3), 1 (id 4, after id 3: stable), 3 (id 1); B: 1 (id 2), 2 (id 0)
    assert out["id"].tolist() == [3, 4, 1, 2, 0]
    assert out["SEQ"].tolist() == [1, 2, 3, 1, 2]


def test_visit_number_is_the_planned_day_then_numbered_follow_up() -> None:
    names = pd.Series(["day 22", "day 1", "survival follow-up 2", "unscheduled", None])
    # "day N" -> N; "survival follow-up K" -> 10000 * 1 + K; other names 90000 + rank
    assert visit_number(names).tolist()[:4] == [22.0, 1.0, 10002.0, 90001.0]
    assert math.isnan(visit_number(names).iloc[4])


def test_iso_8601_text() -> None:
    assert iso_date(pd.Series([D(2024, 2, 29), None])).tolist() == ["2024-02-29", None]
    stamp = dt.datetime(2024, 1, 10, 9, 30, tzinfo=dt.UTC)
    assert iso_datetime(pd.Series([stamp, None])).tolist() == ["2024-01-10T09:30", None]
    # a time zone other than UTC is converted to UTC (the store's clock)
    cet = dt.datetime(2024, 1, 10, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert iso_datetime(pd.Series([cet])).tolist() == ["2024-01-10T09:30"]
