"""ADSL on hand-made subjects; expected values worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from adam_support import D0, day, source, tables

from equitrial.datasets.adsl import build_adsl

BIO = "Proposed pembrolizumab biosimilar"
REF = "Keytruda (EU-sourced)"


@pytest.fixture
def adsl() -> pd.DataFrame:
    rows = tables(5)
    # subject 1: a second 200 mg Q3W dose on day 21 -> TRTEDT = D0 + 21, TRTDURD = 22
    rows["dose"].append(
        {"subject_id": 1, "cycle": 2, "date": day(21), "dose_mg": 200.0, "regimen": "Q3W"}
    )
    # subject 2: 300 mg under Q3W (200 mg +- 10 % = 180..220): a dose deviation -> PPROTFL N
    rows["dose"].append(
        {"subject_id": 2, "cycle": 2, "date": day(21), "dose_mg": 300.0, "regimen": "Q3W"}
    )
    # subject 3: randomized, never dosed
    rows["dose"] = [d for d in rows["dose"] if d["subject_id"] != 3]
    # subject 4: eligibility not confirmed -> PPROTFL N although dosed
    rows["subject"][3]["eligible"] = False
    # subject 5: switched to Q6W on day 42, 400 mg then (within tolerance) -> REGSWFL Y, PP Y
    rows["regimen_period"].append({"subject_id": 5, "regimen": "Q6W", "start_date": day(42)})
    rows["dose"].append(
        {"subject_id": 5, "cycle": 2, "date": day(42), "dose_mg": 400.0, "regimen": None}
    )
    # subject 6: screen failure, never randomized -> not in ADSL
    rows["subject"].append(
        {
            "id": 6,
            "site_id": 1,
            "subject_code": "S01-0006",
            "eligible": False,
            "strata_json": None,
            "status": "screen failed",
        }
    )
    # central target lesion of subject 1 measured before day 1 -> RESPEVFL Y; subject 2 has
    # only an investigator lesion -> N
    rows["lesion"] = [
        {"id": 10, "subject_id": 1, "role": "target", "reader": "central"},
        {"id": 11, "subject_id": 2, "role": "target", "reader": "investigator"},
    ]
    rows["lesion_measurement"] = [
        {"lesion_id": 10, "assessment_date": day(-5), "reader": "central", "diameter_mm": 25.0},
        {
            "lesion_id": 11,
            "assessment_date": day(-5),
            "reader": "investigator",
            "diameter_mm": 30.0,
        },
    ]
    # PK: subject 1 has a concentration; subject 2 only a BLQ sample (no concentration)
    rows["pk_sample"] = [
        {"subject_id": 1, "collected_at": dt.datetime(2024, 1, 10, 9), "concentration": 12.5},
        {"subject_id": 2, "collected_at": dt.datetime(2024, 1, 10, 9), "concentration": None},
    ]
    rows["disposition"] = [
        {
            "subject_id": 2,
            "scope": "END OF TREATMENT",
            "decod": "ADVERSE EVENT",
            "disposition_status": "DISCONTINUED",
            "date": day(50),
        },
        {
            "subject_id": 2,
            "scope": "END OF STUDY",
            "decod": "DEATH",
            "disposition_status": "DISCONTINUED",
            "date": day(100),
        },
        {
            "subject_id": 5,
            "scope": "END OF TREATMENT",
            "decod": "COMPLETED",
            "disposition_status": "COMPLETED",
            "date": day(700),
        },
    ]
    rows["death"] = [{"subject_id": 2, "date": day(100), "cause": "OTHER", "cause_text": "Sepsis"}]
    # subject 1's latest record: an AE ending on day 60 (lab on day 30, dose on day 21)
    rows["adverse_event"] = [{"subject_id": 1, "start_date": day(10), "end_date": day(60)}]
    rows["lab_result"] = [{"subject_id": 1, "collected_at": dt.datetime(2024, 2, 9, 8)}]
    src = source(rows, {1: "BIO", 2: "REF", 3: "REF", 4: "BIO", 5: "BIO"})
    return build_adsl(src).frame.set_index("SUBJID")


def test_one_record_per_randomized_subject_screen_failure_excluded(adsl):
    assert list(adsl.index) == ["S01-0001", "S01-0002", "S01-0003", "S01-0004", "S01-0005"]
    assert adsl.loc["S01-0001", "USUBJID"] == "EQT-PEM-301-S01-0001"
    assert (adsl["ITTFL"] == "Y").all()


def test_identifiers_demographics_region_and_strata(adsl):
    s1 = adsl.loc["S01-0001"]
    assert (s1["STUDYID"], s1["SITEID"], s1["AGE"], s1["AGEU"]) == (
        "EQT-PEM-301",
        "S01",
        61,
        "YEARS",
    )
    assert (s1["REGION1"], s1["SITETYPE"], s1["COUNTRY"]) == (
        "North America",
        "METROPOLITAN",
        "USA",
    )
    # strata levels in the protocol's order: braf_v600, ecog_ps, m_stage_ldh
    assert s1["STRATAR"] == "mutant / 0 / M0-M1b, normal LDH"
    assert (s1["ECOG"], s1["BRAF"], s1["LDHELFL"], s1["BRMETFL"]) == (0, "MUTANT", "N", "N")


def test_arms_planned_and_actual(adsl):
    # BIO is the first arm of the protocol (1), REF the second (2)
    assert tuple(adsl.loc["S01-0001", ["ARM", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN"]]) == (
        BIO,
        BIO,
        1,
        BIO,
        1,
    )
    assert tuple(adsl.loc["S01-0002", ["TRT01P", "TRT01PN", "ACTARM"]]) == (REF, 2, REF)
    # never dosed: ACTARM Not Treated, no actual treatment
    s3 = adsl.loc["S01-0003"]
    assert s3["ACTARM"] == "Not Treated" and s3["TRT01A"] is None and pd.isna(s3["TRT01AN"])


def test_exposure_and_regimen(adsl):
    s1 = adsl.loc["S01-0001"]
    # first dose D0, last D0 + 21: 21 + 1 = 22 days
    assert (s1["RANDDT"], s1["TRTSDT"], s1["TRTEDT"], s1["TRTDURD"]) == (D0, D0, day(21), 22)
    assert (s1["REGIMEN"], s1["REGSWFL"]) == ("Q3W", "N")
    assert (adsl.loc["S01-0005", "REGIMEN"], adsl.loc["S01-0005", "REGSWFL"]) == ("Q3W", "Y")
    assert adsl.loc["S01-0003", "TRTSDT"] is None and pd.isna(adsl.loc["S01-0003", "TRTDURD"])


def test_population_flags(adsl):
    flags = adsl[["SAFFL", "PPROTFL", "RESPEVFL", "PKFL"]]
    assert tuple(flags.loc["S01-0001"]) == ("Y", "Y", "Y", "Y")
    assert tuple(flags.loc["S01-0002"]) == ("Y", "N", "N", "N")  # 300 mg dose; no central lesion
    assert tuple(flags.loc["S01-0003"]) == ("N", "N", "N", "N")  # never dosed
    assert flags.loc["S01-0004", "PPROTFL"] == "N"  # eligibility not confirmed
    assert flags.loc["S01-0005", "PPROTFL"] == "Y"  # 400 mg under Q6W fits its regimen


def test_disposition_death_and_last_known_alive(adsl):
    s2 = adsl.loc["S01-0002"]
    assert (s2["EOTSTT"], s2["DCTREAS"]) == ("DISCONTINUED", "ADVERSE EVENT")
    assert (s2["EOSSTT"], s2["DCSREAS"], s2["EOSDT"]) == ("DISCONTINUED", "DEATH", day(100))
    assert (s2["DTHFL"], s2["DTHDT"], s2["DTHCAUS"], s2["LSTALVDT"]) == (
        "Y",
        day(100),
        "Sepsis",
        day(100),
    )
    s5 = adsl.loc["S01-0005"]
    assert (s5["EOTSTT"], s5["DCTREAS"], s5["EOSSTT"]) == ("COMPLETED", None, "ONGOING")
    s1 = adsl.loc["S01-0001"]
    assert s1["DTHFL"] is None and s1["LSTALVDT"] == day(60)  # the AE end date is the latest


def test_metadata_follow_adamig():
    data = build_adsl(source(tables(2)))
    assert (data.name, data.standard, data.klass) == (
        "ADSL",
        "ADaMIG 1.3",
        "SUBJECT LEVEL ANALYSIS DATASET",
    )
    assert data.variable("USUBJID").key == 1
    for v in data.variables:
        values = data.frame[v.name]
        if v.type == "Char":
            assert v.length >= max((len(x) for x in values if x is not None), default=1)
        if v.data_type == "date":
            assert all(x is None or type(x) is dt.date for x in values), v.name
        if v.codelist is not None:
            assert all(x is None or x in v.codelist for x in values), v.name
    assert data.variable("SITETYPE").name == "SITETYPE" and len("SITETYPE") <= 8


def test_response_evaluable_needs_a_measurable_central_target_lesion():
    # RECIST 1.1: measurable if the longest diameter >= 10 mm (a node: short axis >= 15 mm).
    # 1: 10.0 mm -> Y; 2: 9.9 mm -> N; 3: node 14.9 mm -> N; 4: node 15.0 mm -> Y
    rows = tables(4)
    sizes = {1: (False, 10.0), 2: (False, 9.9), 3: (True, 14.9), 4: (True, 15.0)}
    rows["lesion"] = [
        {"id": 10 + s, "subject_id": s, "role": "target", "reader": "central", "nodal": n}
        for s, (n, _) in sizes.items()
    ]
    rows["lesion_measurement"] = [
        {"lesion_id": 10 + s, "assessment_date": day(-3), "diameter_mm": mm}
        for s, (_, mm) in sizes.items()
    ]
    frame = build_adsl(source(rows)).frame
    assert list(frame["RESPEVFL"]) == ["Y", "N", "N", "Y"]


def test_per_protocol_excludes_an_inconsistent_eligibility_checklist():
    # 1: all inclusions met, no exclusion -> Y; 2: an exclusion present although "eligible" -> N
    rows = tables(2)
    ok = {"inc-age": True, "exc-autoimmune": False}
    rows["subject"][0]["eligibility_json"] = json.dumps(ok)
    rows["subject"][1]["eligibility_json"] = json.dumps({"inc-age": True, "exc-autoimmune": True})
    frame = build_adsl(source(rows)).frame
    assert list(frame["PPROTFL"]) == ["Y", "N"]


def test_derive_exposure_on_a_hand_made_frame():
    # subject 7: doses on days 0 and 42 (a 0 mg record on day 63 is no exposure) -> TRTSDT D0,
    # TRTEDT day 42, TRTDURD 43; two regimen periods -> REGSWFL Y; subject 8: nothing
    from equitrial.datasets._adsl_derive import derive_exposure

    rows = {
        "regimen_period": [
            {"subject_id": 7, "regimen": "Q3W", "start_date": D0},
            {"subject_id": 7, "regimen": "Q6W", "start_date": day(42)},
        ],
        "dose": [
            {"subject_id": 7, "date": D0, "dose_mg": 200.0},
            {"subject_id": 7, "date": day(42), "dose_mg": 400.0},
            {"subject_id": 7, "date": day(63), "dose_mg": 0.0},
        ],
    }
    frame = pd.DataFrame(
        {"id": [7, 8], "ARM": [BIO, REF], "TRT01P": [BIO, REF], "TRT01PN": [1.0, 2.0]}
    )
    out = derive_exposure(frame, source({"subject": [], **rows}, {})).set_index("id")
    assert tuple(out.loc[7, ["RANDDT", "TRTSDT", "TRTEDT", "TRTDURD"]]) == (D0, D0, day(42), 43)
    assert tuple(out.loc[7, ["REGIMEN", "REGSWFL", "SAFFL"]]) == ("Q3W", "Y", "Y")
    assert tuple(out.loc[8, ["SAFFL", "ACTARM", "REGSWFL"]]) == ("N", "Not Treated", "N")
    assert "TRTSDT" not in frame  # a new frame, the input untouched
