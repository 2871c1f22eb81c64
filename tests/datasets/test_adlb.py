"""ADLB on a hand-made study: baseline, change, CTCAE grades against BASE, shift, windows."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from adam2_support import adsl, check_dataset, row, source

from equitrial.datasets.adlb import build_adlb, paramcd_of

D = dt.date
ALT = "Alanine aminotransferase increased"
NEUT = "Neutrophil count decreased"
_ids = iter(range(1, 1000))


def _lab(subject: int, test: str, value: float, day: dt.date, **kw: Any) -> dict[str, Any]:
    unit, lln, uln = {ALT: ("U/L", None, 40.0), NEUT: ("10^9/L", 2.0, 7.5)}.get(
        test, ("mIU/L", 0.4, 4.0)
    )
    return {
        "id": next(_ids),
        "subject_id": subject,
        "test": test,
        "value": value,
        "unit": unit,
        "lln": lln,
        "uln": uln,
        "collected_at": dt.datetime(day.year, day.month, day.day, 8, 0, tzinfo=dt.UTC),
        "ctcae_grade": kw.get("stored"),
    }


# Subject 1: first dose 2024-01-10, last 2024-03-01 (on treatment to 2024-05-30).
# Subject 2: first dose 2024-01-05, abnormal ALT baseline. Subject 3: never dosed.
LABS = [
    _lab(1, ALT, 30.0, D(2024, 1, 3)),  # screening: before baseline
    _lab(1, ALT, 35.0, D(2024, 1, 10)),  # day 1, pre-dose: the baseline (last on/before)
    _lab(1, ALT, 130.0, D(2024, 1, 31)),  # > 3 x ULN (120), <= 5 x ULN: grade 2
    _lab(1, ALT, 210.0, D(2024, 2, 21)),  # > 5 x ULN (200): grade 3, the worst on treatment
    _lab(1, ALT, 900.0, D(2024, 6, 15)),  # > 20 x ULN: grade 4, but after last dose + 90
    _lab(1, NEUT, 1.8, D(2024, 1, 10)),  # < LLN 2.0, >= 1.5: grade 1 at baseline
    _lab(1, NEUT, 0.9, D(2024, 2, 1)),  # < 1.0: grade 3
    _lab(2, ALT, 60.0, D(2024, 1, 5)),  # > ULN: abnormal baseline
    # abnormal baseline: grade 1 is >= 1.5 x BASE (90), grade 2 > 3 x BASE (180): grade 1
    # (against the ULN it would be grade 2: 130 > 3 x 40)
    _lab(2, ALT, 130.0, D(2024, 1, 26), stored=2),
    _lab(3, ALT, 20.0, D(2024, 1, 7)),  # never dosed: no baseline
    _lab(1, "Thyroid stimulating hormone", 6.0, D(2024, 1, 31), stored=None),
]
VISITS = [
    {"id": 1, "subject_id": 1, "name": "day 1", "actual_date": D(2024, 1, 10)},
    {"id": 2, "subject_id": 1, "name": "day 22", "actual_date": D(2024, 1, 31)},
]
ADSL = adsl(
    [
        {"subject": 1, "TRTSDT": D(2024, 1, 10), "TRTEDT": D(2024, 3, 1)},
        {"subject": 2, "TRTSDT": D(2024, 1, 5), "TRTEDT": D(2024, 6, 1)},
        {"subject": 3, "SAFFL": "N"},
    ]
)
S1, S2, S3 = "EQT-S01-0001", "EQT-S01-0002", "EQT-S01-0003"


def _adlb() -> Any:
    return build_adlb(source({"lab_result": LABS, "visit": VISITS}), ADSL)


def test_structure() -> None:
    ds = _adlb()
    check_dataset(ds, "ADLB", "BASIC DATA STRUCTURE")
    assert len(ds.frame) == len(LABS)
    assert set(ds.frame["PARAMCD"]) == {"ALT", "NEUT", "TSH"}
    assert row(ds, USUBJID=S1, PARAMCD="ALT", ADT=D(2024, 1, 3))["PARAM"] == (
        "Alanine Aminotransferase (U/L)"
    )


def test_baseline_is_last_value_on_or_before_first_dose() -> None:
    ds = _adlb()
    alt = ds.frame[(ds.frame["USUBJID"] == S1) & (ds.frame["PARAMCD"] == "ALT")]
    assert list(alt["ABLFL"]) == [None, "Y", None, None, None]
    assert set(alt["BASE"]) == {35.0}
    # CHG only after the first dose date: 130 - 35, 210 - 35, 900 - 35
    assert [None if math.isnan(c) else c for c in alt["CHG"]] == [None, None, 95.0, 175.0, 865.0]
    assert list(alt["ADY"]) == [-7, 1, 22, 43, 158]
    never = row(ds, USUBJID=S3)
    assert never["ABLFL"] is None and math.isnan(never["BASE"]) and never["ONTRTFL"] is None


def test_grades_and_reference_range() -> None:
    ds = _adlb()
    assert row(ds, USUBJID=S1, PARAMCD="ALT", ADT=D(2024, 1, 31))["ATOXGRN"] == 2
    high = row(ds, USUBJID=S1, PARAMCD="ALT", ADT=D(2024, 2, 21))
    assert (high["ATOXGR"], high["BTOXGR"], high["ANRIND"], high["BNRIND"]) == (
        "3",
        "0",
        "HIGH",
        "NORMAL",
    )
    neut = row(ds, USUBJID=S1, PARAMCD="NEUT", ADT=D(2024, 2, 1))
    assert (neut["ATOXGR"], neut["BTOXGR"], neut["ANRIND"], neut["BNRIND"]) == (
        "3",
        "1",
        "LOW",
        "LOW",
    )


def test_abnormal_baseline_grades_against_base() -> None:
    ds = _adlb()
    base = row(ds, USUBJID=S2, ABLFL="Y")
    assert (base["BNRIND"], base["ATOXGR"]) == ("HIGH", "0")  # 60 < 1.5 x 60
    post = row(ds, USUBJID=S2, ADT=D(2024, 1, 26))
    assert post["ATOXGR"] == "1"  # not the stored grade 2 (taken against the ULN)


def test_not_gradable_test_keeps_stored_grade() -> None:
    ds = _adlb()
    tsh = row(ds, PARAMCD="TSH")
    assert tsh["ATOXGR"] is None and paramcd_of("Thyroid stimulating hormone")[0] == "TSH"


def test_on_treatment_worst_grade_and_shift() -> None:
    ds = _adlb()
    late = row(ds, USUBJID=S1, PARAMCD="ALT", ADT=D(2024, 6, 15))
    assert late["ONTRTFL"] is None and late["ATOXGR"] == "4"  # 2024-06-15 > 2024-05-30
    assert row(ds, USUBJID=S1, PARAMCD="ALT", ADT=D(2024, 1, 10))["ONTRTFL"] is None
    # shift table: one record per subject and parameter, baseline grade to worst on treatment
    worst = ds.frame[ds.frame["ANL01FL"] == "Y"]
    cells = sorted(zip(worst["USUBJID"], worst["PARAMCD"], worst["SHIFT1"], strict=True))
    assert cells == [(S1, "ALT", "0 to 3"), (S1, "NEUT", "1 to 3"), (S2, "ALT", "0 to 1")]
    assert row(ds, USUBJID=S1, PARAMCD="ALT", ANL01FL="Y")["ADT"] == D(2024, 2, 21)


def test_visits() -> None:
    ds = _adlb()
    assert row(ds, USUBJID=S1, PARAMCD="ALT", ADT=D(2024, 1, 10))["AVISIT"] == "BASELINE"
    day22 = row(ds, USUBJID=S1, PARAMCD="ALT", ADT=D(2024, 1, 31))
    assert (day22["AVISIT"], day22["AVISITN"]) == ("DAY 22", 22)
    assert row(ds, USUBJID=S1, PARAMCD="ALT", ADT=D(2024, 2, 21))["AVISIT"] == "UNSCHEDULED"
