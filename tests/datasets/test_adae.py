"""ADAE on a hand-made study: TEAE window boundaries, occurrence flags, worst grade, steroids."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from adam2_support import adsl, check_dataset, row, source

from equitrial.datasets.adae import TEAE_DAYS_AFTER_LAST_DOSE, build_adae

D = dt.date
GEN = "General disorders and administration site conditions"
RESP = "Respiratory, thoracic and mediastinal disorders"
GI = "Gastrointestinal disorders"


def _ae(
    ae_id: int, subject: int, term: str, soc: str, grade: int, start: dt.date, **kw: Any
) -> dict[str, Any]:
    return {
        "id": ae_id,
        "subject_id": subject,
        "term": term,
        "decod": term,
        "soc": soc,
        "grade": grade,
        "start_date": start,
        "end_date": kw.get("end"),
        "serious": kw.get("serious", False),
        "related": kw.get("related", "NOT RELATED"),
        "action_taken": "DOSE NOT CHANGED",
        "outcome": "RECOVERED/RESOLVED",
        "immune_category": kw.get("immune"),
        "meddra_code": 10016256,
    }


# Subject 1: first dose 2024-01-10, last dose 2024-03-01, so the TEAE window ends
# 2024-03-01 + 90 days = 2024-05-30 (March 31 is +30, April 30 +60, May 30 +90).
# Subject 2: dosed from 2024-01-05, treatment ongoing (no TRTEDT). Subject 3: never dosed.
# Subject 4: not in ADSL.
EVENTS = [
    _ae(1, 1, "Nausea", GI, 1, D(2024, 1, 9)),  # the day before the first dose: not a TEAE
    _ae(2, 1, "Fatigue", GEN, 2, D(2024, 1, 10), end=D(2024, 1, 12)),  # first dose day: TEAE
    _ae(3, 1, "Fatigue", GEN, 3, D(2024, 5, 30)),  # last dose + 90: still a TEAE
    _ae(4, 1, "Diarrhea", GI, 2, D(2024, 5, 31)),  # last dose + 91: not a TEAE
    _ae(5, 1, "Fatigue", GEN, 3, D(2024, 2, 1), serious=True),  # worst grade, the earlier tie
    _ae(6, 1, "Pneumonitis", RESP, 2, D(2024, 2, 10), related="RELATED", immune="pneumonitis"),
    _ae(7, 2, "Fatigue", GEN, 1, D(2025, 6, 1)),  # ongoing treatment: no upper bound
    _ae(8, 3, "Fatigue", GEN, 1, D(2024, 2, 1)),  # never dosed: not a TEAE
    _ae(9, 4, "Fatigue", GEN, 1, D(2024, 2, 1)),  # not in ADSL: no record
]
CON_MEDS = [
    {"id": 1, "subject_id": 1, "name": "Prednisone", "route": "ORAL", "adverse_event_id": 6},
    {
        "id": 2,
        "subject_id": 1,
        "name": "Hydrocortisone cream",
        "route": "TOPICAL",
        "adverse_event_id": 2,
    },
]
ADSL = adsl(
    [
        {"subject": 1, "TRTSDT": D(2024, 1, 10), "TRTEDT": D(2024, 3, 1)},
        {"subject": 2, "TRTSDT": D(2024, 1, 5)},
        {"subject": 3, "SAFFL": "N"},
    ]
)


def _adae() -> Any:
    return build_adae(source({"adverse_event": EVENTS, "con_med": CON_MEDS}, 4), ADSL)


def test_structure_and_subjects() -> None:
    ds = _adae()
    check_dataset(ds, "ADAE", "OCCURRENCE DATA STRUCTURE")
    assert len(ds.frame) == 8  # event 9's subject is not in ADSL
    assert [v.name for v in ds.variables if v.key] == ["STUDYID", "USUBJID", "AESEQ"]


def test_aeseq_by_onset() -> None:
    ds = _adae()
    # Subject 1 by start date: events 1 (01-09), 2 (01-10), 5 (02-01), 6 (02-10), 3 (05-30),
    # 4 (05-31).
    s1 = ds.frame[ds.frame["USUBJID"] == "EQT-S01-0001"]
    assert list(s1["AESEQ"]) == [1, 2, 3, 4, 5, 6]
    assert list(s1["ASTDT"]) == [
        D(2024, 1, 9),
        D(2024, 1, 10),
        D(2024, 2, 1),
        D(2024, 2, 10),
        D(2024, 5, 30),
        D(2024, 5, 31),
    ]


def test_teae_window_boundaries() -> None:
    ds = _adae()
    assert TEAE_DAYS_AFTER_LAST_DOSE == 90
    s1 = "EQT-S01-0001"
    assert row(ds, USUBJID=s1, ASTDT=D(2024, 1, 9))["TRTEMFL"] is None
    assert row(ds, USUBJID=s1, ASTDT=D(2024, 1, 10))["TRTEMFL"] == "Y"
    assert row(ds, USUBJID=s1, ASTDT=D(2024, 5, 30))["TRTEMFL"] == "Y"
    assert row(ds, USUBJID=s1, ASTDT=D(2024, 5, 31))["TRTEMFL"] is None
    assert row(ds, USUBJID="EQT-S01-0002")["TRTEMFL"] == "Y"
    assert row(ds, USUBJID="EQT-S01-0003")["TRTEMFL"] is None


def test_study_days_and_duration() -> None:
    ds = _adae()
    before = row(ds, USUBJID="EQT-S01-0001", AESEQ=1)
    assert before["ASTDY"] == -1  # 2024-01-09 - 2024-01-10, no day 0
    first = row(ds, USUBJID="EQT-S01-0001", AESEQ=2)
    assert (first["ASTDY"], first["AENDY"], first["ADURN"]) == (1, 3, 3)  # 01-10 to 01-12
    assert first["ADURU"] == "DAYS"
    assert math.isnan(before["AENDY"]) and math.isnan(before["ADURN"])  # no end date


def test_occurrence_flags() -> None:
    ds = _adae()
    s1 = ds.frame[ds.frame["USUBJID"] == "EQT-S01-0001"].set_index("AESEQ")
    # TEAEs of subject 1: AESEQ 2 (Fatigue g2), 3 (Fatigue g3), 4 (Pneumonitis g2), 5 (Fatigue g3)
    assert s1["AOCCFL"].to_dict() == {1: None, 2: "Y", 3: None, 4: None, 5: None, 6: None}
    # first TEAE per SOC: General disorders -> 2, Respiratory -> 4 (GI events are not TEAEs)
    assert s1["AOCCSFL"].to_dict() == {1: None, 2: "Y", 3: None, 4: "Y", 5: None, 6: None}
    assert s1["AOCCPFL"].to_dict() == {1: None, 2: "Y", 3: None, 4: "Y", 5: None, 6: None}
    # worst grade per PT: Fatigue grade 3 on 02-01 (AESEQ 3) and 05-30 (AESEQ 5): the first
    assert s1["AOCCIFL"].to_dict() == {1: None, 2: None, 3: "Y", 4: "Y", 5: None, 6: None}
    assert s1["GR3FL"].to_dict() == {1: None, 2: None, 3: "Y", 4: None, 5: "Y", 6: None}


def test_grades_seriousness_and_special_interest() -> None:
    ds = _adae()
    fatigue = row(ds, USUBJID="EQT-S01-0001", AESEQ=3)
    assert (fatigue["AETOXGR"], fatigue["ATOXGR"], fatigue["ATOXGRN"]) == ("3", "3", 3.0)
    assert fatigue["AESER"] == "Y" and fatigue["RELFL"] is None
    pneumonitis = row(ds, USUBJID="EQT-S01-0001", AESEQ=4)
    assert pneumonitis["IRAECAT"] == "pneumonitis"
    assert (pneumonitis["AESIFL"], pneumonitis["RELFL"]) == ("Y", "Y")
    assert pneumonitis["AESER"] == "N"
    assert pneumonitis["TRTAN"] == 1 and pneumonitis["TRTA"] == "BIO"


def test_steroid_flag() -> None:
    ds = _adae()
    # prednisone by mouth for the pneumonitis; hydrocortisone cream (topical) is not systemic
    assert row(ds, USUBJID="EQT-S01-0001", AESEQ=4)["STEROFL"] == "Y"
    assert row(ds, USUBJID="EQT-S01-0001", AESEQ=2)["STEROFL"] is None


def test_no_events() -> None:
    ds = build_adae(source({}), ADSL)
    check_dataset(ds, "ADAE", "OCCURRENCE DATA STRUCTURE")
    assert ds.frame.empty
