"""ADPC and ADPP on a hand-made study: relative times, BLQ, Ctrough from the pre-dose sample."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from adam2_support import adsl, check_dataset, row, source

from equitrial.datasets.adpc import build_adpc, build_adpp

D = dt.date
S1, S2 = "EQT-S01-0001", "EQT-S01-0002"


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def _dose(
    dose_id: int,
    subject: int,
    cycle: int,
    day: dt.date,
    regimen: str,
    start: dt.datetime | None,
    visit: int | None,
) -> dict[str, Any]:
    return {
        "id": dose_id,
        "subject_id": subject,
        "cycle": cycle,
        "date": day,
        "dose_mg": 200.0 if regimen == "Q3W" else 400.0,
        "regimen": regimen,
        "infusion_start": start,
        "visit_id": visit,
    }


def _pk(
    pk_id: int,
    subject: int,
    at: dt.datetime,
    timing: str,
    conc: float | None,
    dose: int | None = None,
) -> dict[str, Any]:
    return {
        "id": pk_id,
        "subject_id": subject,
        "collected_at": at,
        "timing": timing,
        "nominal_hours": 0.0 if timing == "PRE-DOSE" else 0.5,
        "concentration": conc,
        "blq": conc is None,
        "lloq": 0.5,
        "dose_id": dose,
        "visit_id": None,
    }


# Subject 1: cycle 1 on 2024-01-01 09:30 (Q3W); cycle 2 planned 2024-01-22, given 3 days late
# on 2024-01-25 10:00 (Q3W); cycle 3 on 2024-02-15 09:00 under Q6W (switch).
# Subject 2: Q6W doses without an infusion time.
DOSES = [
    _dose(1, 1, 1, D(2024, 1, 1), "Q3W", _at(D(2024, 1, 1), 9, 30), 1),
    _dose(2, 1, 2, D(2024, 1, 25), "Q3W", _at(D(2024, 1, 25), 10), 2),
    _dose(3, 1, 3, D(2024, 2, 15), "Q6W", _at(D(2024, 2, 15), 9), 3),
    _dose(10, 2, 1, D(2024, 1, 1), "Q6W", None, None),
    _dose(11, 2, 2, D(2024, 2, 12), "Q6W", None, None),
]
VISITS = [
    {
        "id": 1,
        "subject_id": 1,
        "name": "day 1",
        "planned_date": D(2024, 1, 1),
        "actual_date": D(2024, 1, 1),
    },
    {
        "id": 2,
        "subject_id": 1,
        "name": "day 22",
        "planned_date": D(2024, 1, 22),
        "actual_date": D(2024, 1, 25),
    },
    {
        "id": 3,
        "subject_id": 1,
        "name": "day 46",
        "planned_date": D(2024, 2, 15),
        "actual_date": D(2024, 2, 15),
    },
]
SAMPLES = [
    _pk(1, 1, _at(D(2024, 1, 1), 8, 45), "PRE-DOSE", None),  # before any dose: BLQ
    _pk(2, 1, _at(D(2024, 1, 1), 10, 15), "END OF INFUSION", 60.0, dose=1),
    _pk(3, 1, _at(D(2024, 1, 25), 9), "PRE-DOSE", 15.0),  # trough of cycle 2
    _pk(4, 1, _at(D(2024, 1, 25), 10, 45), "END OF INFUSION", 70.0, dose=2),  # not a trough
    _pk(5, 1, _at(D(2024, 2, 14), 8), "PRE-DOSE", 22.0, dose=3),  # drawn again next day
    _pk(6, 1, _at(D(2024, 2, 15), 8), "PRE-DOSE", 20.0, dose=3),  # the last pre-dose: trough
    _pk(7, 2, _at(D(2024, 2, 12), 8), "PRE-DOSE", None),  # untimed dose of the same day
]
ADSL = adsl(
    [
        {"subject": 1, "TRTSDT": D(2024, 1, 1), "TRTEDT": D(2024, 2, 15)},
        {"subject": 2, "TRTSDT": D(2024, 1, 1), "TRTEDT": D(2024, 2, 12)},
    ]
)


def _study() -> Any:
    return source({"dose": DOSES, "visit": VISITS, "pk_sample": SAMPLES}, 2)


def test_adpc_structure_and_blq() -> None:
    ds = build_adpc(_study(), ADSL)
    check_dataset(ds, "ADPC", "BASIC DATA STRUCTURE")
    assert len(ds.frame) == 7 and set(ds.frame["PARAMCD"]) == {"PEMBRO"}
    blq = row(ds, USUBJID=S1, ASEQ=1)
    assert math.isnan(blq["AVAL"]) and blq["AVALC"] == "<LLOQ" and blq["BLQFL"] == "Y"
    assert blq["LLOQ"] == 0.5
    eoi = row(ds, USUBJID=S1, ASEQ=2)
    assert (eoi["AVAL"], eoi["AVALC"], eoi["BLQFL"], eoi["AVALU"]) == (60.0, "60", None, "ug/mL")


def test_adpc_relative_times() -> None:
    ds = build_adpc(_study(), ADSL)
    first = row(ds, USUBJID=S1, ASEQ=1)  # 08:45, the first infusion starts at 09:30
    assert (first["NFRLT"], first["AFRLT"], first["ARRLT"], first["NRRLT"]) == (0, -0.75, -0.75, 0)
    eoi = row(ds, USUBJID=S1, ASEQ=2)  # 10:15
    assert (eoi["NFRLT"], eoi["AFRLT"], eoi["ARRLT"]) == (0.5, 0.75, 0.75)
    late = row(ds, USUBJID=S1, ASEQ=3)
    # nominal: the planned day of cycle 2, 2024-01-22, is 21 days after day 1 -> 504 h;
    # actual: 2024-01-01 09:30 to 2024-01-25 09:00 = 24 days - 0.5 h = 575.5 h;
    # from the cycle-2 infusion (10:00 that day): -1 h
    assert (late["NFRLT"], late["AFRLT"], late["ARRLT"]) == (504.0, 575.5, -1.0)
    assert (late["ACYCLE"], late["AVISIT"], late["REGIMEN"]) == (2, "CYCLE 2", "Q3W")
    redraw = row(ds, USUBJID=S1, ASEQ=5)  # 2024-02-14 08:00 against the 02-15 09:00 dose
    assert redraw["ARRLT"] == -25.0 and redraw["REGIMEN"] == "Q6W"


def test_adpp_trough_is_the_pre_dose_sample() -> None:
    ds = build_adpp(_study(), ADSL)
    check_dataset(ds, "ADPP", "BASIC DATA STRUCTURE")
    s1 = ds.frame[ds.frame["USUBJID"] == S1]
    # cycle 1 has no trough; cycle 2: the pre-dose 15.0 (not the end-of-infusion 70.0);
    # cycle 3: the last pre-dose sample (20.0 on 02-15, not the redraw 22.0 on 02-14)
    assert list(s1["ACYCLE"]) == [2.0, 3.0]
    assert list(s1["AVAL"]) == [15.0, 20.0]
    assert list(s1["PARAMCD"]) == ["CTROUGH", "CTROUGH"]
    # the interval a trough closes: both follow a Q3W infusion (cycle 3 is the first Q6W one)
    assert list(s1["REGIMEN"]) == ["Q3W", "Q3W"]
    # hours since the previous infusion: 01-01 09:30 -> 01-25 09:00; 01-25 10:00 -> 02-15 08:00
    assert list(s1["ARRLT"]) == pytest.approx([575.5, 502.0])


def test_adpp_untimed_dose_and_blq_trough() -> None:
    ds = build_adpp(_study(), ADSL)
    trough = row(ds, USUBJID=S2)
    assert trough["ACYCLE"] == 2 and trough["REGIMEN"] == "Q6W"
    assert math.isnan(trough["AVAL"]) and trough["BLQFL"] == "Y" and trough["AVALC"] == "<LLOQ"


def test_no_samples() -> None:
    ds = build_adpp(source({"dose": DOSES}, 2), ADSL)
    check_dataset(ds, "ADPP", "BASIC DATA STRUCTURE")
    assert ds.frame.empty
