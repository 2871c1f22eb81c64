"""ADEX on a hand-made study: exposure and RDI over a Q3W -> Q6W switch with a delay."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from adam2_support import adsl, check_dataset, row, source

from equitrial.datasets.adex import build_adex
from equitrial.errors import InvalidInputError

D = dt.date
S1, S2 = "EQT-S01-0001", "EQT-S01-0002"


def _dose(
    dose_id: int, subject: int, cycle: int, day: dt.date, mg: float, regimen: str | None
) -> dict[str, Any]:
    return {
        "id": dose_id,
        "subject_id": subject,
        "cycle": cycle,
        "date": day,
        "dose_mg": mg,
        "regimen": regimen,
    }


DOSES = [
    # Subject 1: Q3W, cycle 3 delayed by 7 days (28 days after cycle 2), then Q6W.
    _dose(1, 1, 1, D(2024, 1, 1), 200.0, "Q3W"),
    _dose(2, 1, 2, D(2024, 1, 22), 200.0, "Q3W"),
    _dose(3, 1, 3, D(2024, 2, 19), 200.0, "Q3W"),
    _dose(4, 1, 4, D(2024, 3, 11), 400.0, "Q6W"),
    _dose(5, 1, 5, D(2024, 4, 22), 400.0, "Q6W"),
    # Subject 2: regimen not stored with the doses (regimen period Q6W); cycle 2 not given.
    _dose(6, 2, 1, D(2024, 1, 1), 400.0, None),
    _dose(7, 2, 2, D(2024, 2, 12), 0.0, None),
    _dose(8, 2, 3, D(2024, 3, 25), 400.0, None),
]
PERIODS = [
    {"id": 1, "subject_id": 1, "regimen": "Q3W", "start_date": D(2024, 1, 1)},
    {"id": 2, "subject_id": 1, "regimen": "Q6W", "start_date": D(2024, 3, 11)},
    {"id": 3, "subject_id": 2, "regimen": "Q6W", "start_date": D(2024, 1, 1)},
]
ADSL = adsl(
    [
        {"subject": 1, "TRTSDT": D(2024, 1, 1), "TRTEDT": D(2024, 4, 22)},
        {"subject": 2, "TRTSDT": D(2024, 1, 1), "TRTEDT": D(2024, 3, 25)},
        {"subject": 3, "SAFFL": "N"},
    ]
)


def _adex() -> Any:
    return build_adex(source({"dose": DOSES, "regimen_period": PERIODS}), ADSL)


def _summary(ds: Any, usubjid: str, regimen: str = "OVERALL") -> dict[str, float]:
    frame = ds.frame[(ds.frame["USUBJID"] == usubjid) & (ds.frame["PARCAT1"] == "SUMMARY")]
    if regimen == "OVERALL":
        frame = frame[frame["PARCAT2"] == "OVERALL"]
    else:
        frame = frame[(frame["PARCAT2"] == "BY REGIMEN") & (frame["REGIMEN"] == regimen)]
    return dict(zip(frame["PARAMCD"], frame["AVAL"], strict=True))


def test_structure() -> None:
    ds = _adex()
    check_dataset(ds, "ADEX", "BASIC DATA STRUCTURE")
    # 8 DOSE records; 5 overall summaries per dosed subject and 5 per regimen it was dosed
    # under (subject 1: Q3W and Q6W; subject 2: Q6W); subject 3 has none
    assert len(ds.frame) == 8 + 5 * 3 + 5 * 2
    assert "EQT-S01-0003" not in set(ds.frame["USUBJID"])


def test_switch_with_delay() -> None:
    ds = _adex()
    got = _summary(ds, S1)
    # TOTDOSE 3 x 200 + 2 x 400 = 1400 mg in 5 infusions.
    # DURD: 2024-01-01 to the last infusion 2024-04-22 is 112 days (31 + 29 + 31 + 21), plus
    # the Q6W interval 42 = 154 days.
    # Planned: Q3W from 01-01 to the first Q6W infusion 03-11 = 70 days -> 200 * 70 / 21;
    # Q6W from 03-11 to 04-22 + 42 = 84 days -> 400 * 84 / 42 = 800; total 4400 / 3 mg.
    # RDI = 100 * 1400 / (4400 / 3) = 1050 / 11 %; DI = 1400 / (154 / 7) = 1400 / 22 mg/week.
    assert got["TOTDOSE"] == 1400.0 and got["NINF"] == 5.0 and got["DURD"] == 154.0
    assert got["RDI"] == pytest.approx(1050 / 11, rel=1e-12)
    assert got["DI"] == pytest.approx(1400 / 22, rel=1e-12)
    rdi = row(ds, USUBJID=S1, PARAMCD="RDI", PARCAT2="OVERALL")
    assert rdi["PLANDOSE"] == pytest.approx(4400 / 3, rel=1e-12)
    assert (rdi["REGIMEN"], rdi["SWITCHFL"], rdi["AVALU"]) == ("Q3W>Q6W", "Y", "%")
    assert (rdi["ASTDT"], rdi["AENDT"]) == (D(2024, 1, 1), D(2024, 4, 22))


def test_by_regimen() -> None:
    ds = _adex()
    q3w, q6w = _summary(ds, S1, "Q3W"), _summary(ds, S1, "Q6W")
    # Q3W: 3 x 200 mg over 70 days (01-01 to the first Q6W infusion 03-11), planned
    # 200 * 70 / 21 = 2000 / 3 mg: RDI 90 %, DI 600 / 10 = 60 mg/week.
    assert (q3w["TOTDOSE"], q3w["NINF"], q3w["DURD"]) == (600.0, 3.0, 70.0)
    assert q3w["RDI"] == pytest.approx(90.0, rel=1e-12) and q3w["DI"] == pytest.approx(60.0)
    # Q6W: 2 x 400 mg over 84 days (03-11 to 04-22 + 42), planned 800 mg: RDI 100 %.
    assert (q6w["TOTDOSE"], q6w["NINF"], q6w["DURD"]) == (800.0, 2.0, 84.0)
    assert q6w["RDI"] == pytest.approx(100.0, rel=1e-12) and q6w["DI"] == pytest.approx(800 / 12)
    first = row(ds, USUBJID=S1, PARAMCD="TOTDOSE", PARCAT2="BY REGIMEN", REGIMEN="Q3W")
    assert (first["ASTDT"], first["AENDT"]) == (D(2024, 1, 1), D(2024, 2, 19))
    assert _summary(ds, S2, "Q6W") == _summary(ds, S2)  # one regimen: the same numbers


def test_dose_records() -> None:
    ds = _adex()
    doses = ds.frame[(ds.frame["USUBJID"] == S1) & (ds.frame["PARAMCD"] == "DOSE")]
    assert list(doses["AVAL"]) == [200.0, 200.0, 200.0, 400.0, 400.0]
    assert list(doses["REGIMEN"]) == ["Q3W", "Q3W", "Q3W", "Q6W", "Q6W"]
    assert list(doses["ADY"]) == [1, 22, 50, 71, 113]
    assert list(doses["AVISIT"]) == [f"CYCLE {k}" for k in range(1, 6)]
    assert list(ds.frame[ds.frame["USUBJID"] == S1]["ASEQ"]) == list(range(1, 21))


def test_regimen_from_periods_and_missed_dose() -> None:
    ds = _adex()
    got = _summary(ds, S2)
    # 0 mg on 02-12 is not counted: 800 mg in 2 infusions; DURD = 84 (01-01 to 03-25) + 42;
    # planned 400 * 126 / 42 = 1200 mg; RDI = 100 * 800 / 1200.
    assert got["TOTDOSE"] == 800.0 and got["NINF"] == 2.0 and got["DURD"] == 126.0
    assert got["RDI"] == pytest.approx(200 / 3, rel=1e-12)
    doses = ds.frame[(ds.frame["USUBJID"] == S2) & (ds.frame["PARAMCD"] == "DOSE")]
    assert list(doses["REGIMEN"]) == ["Q6W", "Q6W", "Q6W"]
    assert row(ds, USUBJID=S2, PARAMCD="NINF", PARCAT2="OVERALL")["SWITCHFL"] == "N"
    assert math.isnan(row(ds, USUBJID=S2, PARAMCD="NINF", PARCAT2="OVERALL")["PLANDOSE"])


def test_unknown_regimen() -> None:
    bad = [_dose(1, 1, 1, D(2024, 1, 1), 200.0, "Q2W")]
    with pytest.raises(InvalidInputError):
        build_adex(source({"dose": bad}), ADSL)
