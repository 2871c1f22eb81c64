"""DM, DS, EX, AE, CM, MH on the hand-made source (expected values worked out by hand from the
dates of ``sdtm_case``; RFSTDTC of subject 1 is 2024-01-10, its end of treatment 2024-03-01)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest
from sdtm_case import case, rows

from equitrial.cdisc.sdtm import build_sdtm
from equitrial.datasets import Dataset

D = dt.date
S1, S2, S3, S4 = (f"STUDY1-S01-000{i}" for i in range(1, 5))  # <STUDYID>-<subject code>


@pytest.fixture(scope="module")
def domains() -> dict[str, Dataset]:
    return {d.name: d for d in build_sdtm(case())}


def test_dm_treated_subject(domains: dict[str, Dataset]) -> None:
    (dm,) = rows(domains["DM"], USUBJID=S1)
    assert dm["STUDYID"] == "STUDY1" and dm["SUBJID"] == "S01-0001" and dm["SITEID"] == "S01"
    assert (dm["RFSTDTC"], dm["RFXSTDTC"], dm["RFXENDTC"]) == (
        "2024-01-10",  # first dose
        "2024-01-10",
        "2024-01-31",  # last dose
    )
    assert dm["RFICDTC"] == "2024-01-02"
    assert dm["RFPENDTC"] == "2024-04-01"  # the death is the subject's last date
    assert (dm["DTHDTC"], dm["DTHFL"]) == ("2024-04-01", "Y")
    assert (dm["AGE"], dm["AGEU"], dm["SEX"], dm["COUNTRY"]) == (61.0, "YEARS", "F", "AUS")
    assert (dm["ARMCD"], dm["ARM"]) == ("BIO", "Proposed pembrolizumab biosimilar")
    assert (dm["ACTARMCD"], dm["ACTARM"]) == ("BIO", "Proposed pembrolizumab biosimilar")
    assert dm["ARMNRS"] is None


def test_dm_screen_failure_not_treated_and_not_assigned(domains: dict[str, Dataset]) -> None:
    (failed,) = rows(domains["DM"], USUBJID=S2)
    # SDTMIG 3.4 DM: a screen failure has no arm, ARMNRS "SCREEN FAILURE", no RFSTDTC
    assert failed["ARMCD"] is None and failed["ARM"] is None and failed["ACTARMCD"] is None
    assert failed["ARMNRS"] == "SCREEN FAILURE" and failed["RFSTDTC"] is None
    assert failed["DTHFL"] is None
    (undosed,) = rows(domains["DM"], USUBJID=S3)
    assert (undosed["ARMCD"], undosed["ARM"]) == ("REF", "Keytruda (EU-sourced)")
    assert undosed["ACTARMCD"] is None and undosed["ARMNRS"] == "ASSIGNED, NOT TREATED"
    (screening,) = rows(domains["DM"], USUBJID=S4)
    assert screening["ARMNRS"] == "NOT ASSIGNED" and screening["RFICDTC"] == "2024-01-20"
    # no demographics form yet: SEX from the enrolment, COUNTRY from the site
    assert (screening["SEX"], screening["COUNTRY"], screening["AGEU"]) == ("M", "AUS", None)
    assert domains["DM"].frame["USUBJID"].tolist() == [S1, S2, S3, S4]


def test_ds_milestones_and_events_in_date_order(domains: dict[str, Dataset]) -> None:
    ds = rows(domains["DS"], USUBJID=S1)
    got = [
        (r["DSSEQ"], r["DSDECOD"], r["DSCAT"], r["EPOCH"], r["DSSTDTC"], r["DSSTDY"]) for r in ds
    ]
    assert got == [
        (1, "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE", "SCREENING", "2024-01-02", -8),
        (2, "RANDOMIZED", "PROTOCOL MILESTONE", "TREATMENT", "2024-01-10", 1),
        (3, "ADVERSE EVENT", "DISPOSITION EVENT", "TREATMENT", "2024-03-01", 52),
        (4, "DEATH", "OTHER EVENT", "FOLLOW-UP", "2024-04-01", 83),  # 21 + 29 + 31 + 1 = 82; +1
    ]
    assert ds[2]["DSSCAT"] == "END OF TREATMENT" and ds[2]["DSTERM"] == "ADVERSE EVENT"
    assert ds[3]["DSTERM"] == "DEATH DUE TO PROGRESSIVE DISEASE"
    (consent, failure) = rows(domains["DS"], USUBJID=S2)
    assert consent["DSDECOD"] == "INFORMED CONSENT OBTAINED"
    assert (
        failure["DSDECOD"] == "SCREEN FAILURE" and failure["DSTERM"] == "ECOG performance status 2"
    )
    assert failure["EPOCH"] == "SCREENING" and math.isnan(failure["DSSTDY"])  # no RFSTDTC


def test_ex_one_record_per_infusion(domains: dict[str, Dataset]) -> None:
    ex = rows(domains["EX"], USUBJID=S1)
    assert [r["EXSEQ"] for r in ex] == [1, 2]
    first, second = ex
    assert first["EXTRT"] == "Proposed pembrolizumab biosimilar"
    assert (first["EXDOSE"], first["EXDOSU"], first["EXDOSFRM"], first["EXROUTE"]) == (
        200.0,
        "mg",
        "SOLUTION",
        "INTRAVENOUS",
    )
    assert (first["EXDOSFRQ"], first["EXDOSRGM"]) == ("Q3W", "200 mg Q3W")
    assert (first["EXSTDTC"], first["EXENDTC"]) == ("2024-01-10T09:30", "2024-01-10T10:00")
    assert (first["EXSTDY"], first["EXLOT"], first["EXADJ"]) == (1, None, None)
    # no infusion times: the date; 2024-01-31 - 2024-01-10 + 1 = 22
    assert (second["EXSTDTC"], second["EXENDTC"], second["EXSTDY"]) == ("2024-01-31",) * 2 + (22,)
    assert (second["EXLOT"], second["EXADJ"]) == ("LOT-01", "neutropenia")
    assert rows(domains["EX"], USUBJID=S3) == []


def test_ae_seq_dates_epoch_and_flags(domains: dict[str, Dataset]) -> None:
    ae = rows(domains["AE"], USUBJID=S1)
    # stored Diarrhea (03-02), Nausea (01-09), Fatigue (03-01): AESEQ by start date
    assert [(r["AESEQ"], r["AETERM"]) for r in ae] == [
        (1, "Nausea"),
        (2, "Fatigue"),
        (3, "Diarrhea"),
    ]
    nausea, fatigue, diarrhea = ae
    assert (nausea["AESTDY"], nausea["AEENDY"], nausea["EPOCH"]) == (-1, 2, "SCREENING")
    assert (fatigue["AESTDY"], fatigue["EPOCH"]) == (52, "TREATMENT")  # the EOT day itself
    assert (diarrhea["AESTDY"], diarrhea["EPOCH"]) == (53, "FOLLOW-UP")
    assert diarrhea["AEENDTC"] is None and math.isnan(diarrhea["AEENDY"])
    assert (diarrhea["AEDECOD"], diarrhea["AEPTCD"], diarrhea["AELLTCD"]) == (
        "Diarrhea",
        10012727,
        10012727,
    )
    assert diarrhea["AEBODSYS"] == diarrhea["AESOC"] == "Gastrointestinal disorders"
    assert (diarrhea["AETOXGR"], nausea["AETOXGR"]) == ("3", "1")
    assert (diarrhea["AESER"], diarrhea["AESHOSP"], diarrhea["AESDTH"]) == ("Y", "Y", "N")
    assert (nausea["AESER"], nausea["AESHOSP"]) == ("N", None)  # not serious: no criteria
    assert (diarrhea["AECAT"], diarrhea["AESCAT"]) == ("IMMUNE-RELATED ADVERSE EVENT", "COLITIS")
    assert (diarrhea["AEREL"], diarrhea["AEACN"], diarrhea["AEOUT"]) == (
        "RELATED",
        "DOSE NOT CHANGED",
        "NOT RECOVERED/NOT RESOLVED",
    )


def test_cm_con_meds_then_subsequent_therapies(domains: dict[str, Dataset]) -> None:
    med, therapy = rows(domains["CM"], USUBJID=S1)
    assert (med["CMSEQ"], med["CMTRT"], med["CMCAT"]) == (1, "PREDNISONE", "CONCOMITANT MEDICATION")
    assert (med["CMINDC"], med["CMDOSE"], med["CMDOSU"], med["CMROUTE"]) == (
        "Colitis",
        1.0,
        "mg/kg",
        "ORAL",
    )
    assert med["CMSCAT"] == "CORTICOSTEROID FOR IMMUNE-RELATED AE"
    assert (med["CMSTDY"], med["EPOCH"], med["CMENRTPT"]) == (54, "FOLLOW-UP", "ONGOING")
    assert (therapy["CMSEQ"], therapy["CMCAT"], therapy["CMSCAT"]) == (
        2,
        "SUBSEQUENT ANTICANCER THERAPY",
        "TARGETED THERAPY",
    )


def test_mh_ongoing_condition(domains: dict[str, Dataset]) -> None:
    (mh,) = rows(domains["MH"], USUBJID=S1)
    assert (mh["MHSEQ"], mh["MHTERM"], mh["MHCAT"], mh["MHSTDTC"]) == (
        1,
        "HYPERTENSION",
        "GENERAL",
        "2015-06-01",
    )
    assert (mh["MHENDTC"], mh["MHENRTPT"], mh["MHENTPT"]) == (None, "ONGOING", "SCREENING")


def test_suppdm_site_type_and_region(domains: dict[str, Dataset]) -> None:
    supp = rows(domains["SUPPDM"], USUBJID=S1)
    # the demographics form has neither: the site's type; the site has no region: no record
    assert [(r["RDOMAIN"], r["QNAM"], r["QVAL"], r["IDVAR"]) for r in supp] == [
        ("DM", "SITETYPE", "METROPOLITAN", None)
    ]


def test_ds_death_told_once_when_the_end_of_study_records_it() -> None:
    source = case()
    eos = {
        "id": 3,
        "subject_id": 1,
        "scope": "END OF STUDY",
        "epoch": "FOLLOW-UP",
        "decod": "DEATH",
        "date": D(2024, 4, 1),
        "reason": None,
    }
    tables = {**source.tables, "disposition": [*source.tables["disposition"], eos]}
    ds = {d.name: d for d in build_sdtm(dataclasses.replace(source, tables=tables))}["DS"]
    deaths = rows(ds, USUBJID=S1, DSDECOD="DEATH")
    assert [(r["DSCAT"], r["DSSCAT"], r["EPOCH"]) for r in deaths] == [
        ("DISPOSITION EVENT", "END OF STUDY", "FOLLOW-UP")
    ]
