"""clinical.dosing: exposure periods, the regimen on a date, a regimen given in weeks."""

from __future__ import annotations

import datetime as dt

import pytest

from equitrial.clinical.dosing import (
    DoseRecord,
    DosingRegimen,
    compute_exposure,
    exposure_periods,
    regimen_from_weeks,
    regimen_on,
)
from equitrial.errors import InvalidInputError

D = dt.date
REGIMENS = {"Q3W": DosingRegimen("Q3W", 200.0, 21), "Q6W": DosingRegimen("Q6W", 400.0, 42)}


def test_regimen_from_weeks() -> None:
    assert regimen_from_weeks("Q6W", 400, 6, 18) == DosingRegimen("Q6W", 400, 42, 18)
    assert regimen_from_weeks("Q3W", 200, 3).interval_days == 21


def test_regimen_on() -> None:
    history = [(D(2024, 1, 1), "Q3W"), (D(2024, 3, 11), "Q6W")]
    assert regimen_on(history, D(2024, 3, 10)) == "Q3W"
    assert regimen_on(history, D(2024, 3, 11)) == "Q6W"  # the switch day is the new regimen's
    assert regimen_on(history, D(2023, 12, 31)) == "Q3W"  # before any: the first
    with pytest.raises(InvalidInputError):
        regimen_on([], D(2024, 1, 1))


def test_periods_add_up_to_the_exposure() -> None:
    doses = [
        DoseRecord(D(2024, 1, 1), 200.0, "Q3W"),
        DoseRecord(D(2024, 1, 22), 200.0, "Q3W"),
        DoseRecord(D(2024, 3, 11), 400.0, "Q6W"),
        DoseRecord(D(2024, 4, 22), 400.0, "Q6W"),
        DoseRecord(D(2024, 5, 13), 200.0, "Q3W"),  # back to Q3W: a third period
        DoseRecord(D(2024, 2, 12), 0.0, "Q3W"),  # not given
    ]
    periods = exposure_periods(doses, REGIMENS)
    # Q3W 01-01 -> 03-11 (70 days, 400 mg), Q6W 03-11 -> 05-13 (63 days, 800 mg),
    # Q3W 05-13 -> 05-13 + 21 = 06-03 (21 days, 200 mg)
    assert [(p.regimen, p.duration_days, p.infusions, p.cumulative_dose_mg) for p in periods] == [
        ("Q3W", 70, 2, 400.0),
        ("Q6W", 63, 2, 800.0),
        ("Q3W", 21, 1, 200.0),
    ]
    assert [p.planned_dose_mg for p in periods] == pytest.approx([2000 / 3, 600.0, 200.0])
    assert periods[0].last_dose == D(2024, 1, 22) and periods[1].end == D(2024, 5, 13)
    total = compute_exposure(doses, REGIMENS)
    assert total.duration_days == sum(p.duration_days for p in periods) == 154
    assert total.planned_dose_mg == pytest.approx(sum(p.planned_dose_mg for p in periods))
    assert exposure_periods([DoseRecord(D(2024, 1, 1), 0.0, "Q3W")], REGIMENS) == []
