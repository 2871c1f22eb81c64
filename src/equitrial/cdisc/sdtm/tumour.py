"""Oncology findings: TU (tumour identification), TR (tumour results), RS (disease response).

TU holds one record per lesion identified by one reader (``TULNKID`` its lesion code,
``TUSTRESC`` TARGET / NON-TARGET / NEW), TR one record per lesion measurement (``DIAMETER`` in
mm when a diameter is recorded, else the lesion's state, ``TUMSTATE``), linked to TU by
``TRLNKID = TULNKID``; RS the time-point responses derived under RECIST 1.1 (target,
non-target, new lesions, overall) and the iRECIST overall response (``RSCAT`` ``iRECIST``).
``--EVAL`` is ``INVESTIGATOR`` or ``INDEPENDENT ASSESSOR`` (the blinded central reader).

References
----------
.. [1] CDISC SDTMIG v3.4, sections 6.3.12 (TU), 6.3.13 (TR), 6.3.14 (RS): ``TULNKID``/``TRLNKID``,
   ``TUTESTCD`` ``TUMIDENT``, ``TRTESTCD`` ``DIAMETER``/``TUMSTATE``, ``RSTESTCD``
   ``TRGRESP``/``NTRGRESP``/``NEWLIND``/``OVRLRESP``, ``RSCAT`` ``RECIST 1.1``.
.. [2] Eisenhauer EA et al. New response evaluation criteria in solid tumours: revised RECIST
   guideline (version 1.1). Eur J Cancer 2009;45:228-247; Seymour L et al. iRECIST. Lancet
   Oncol 2017;18:e143-e152.
.. [3] CDISC CT: EVAL (C78735: INVESTIGATOR, INDEPENDENT ASSESSOR), TUTESTCD, TRTESTCD, RSTESTCD.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from equitrial.cdisc.sdtm._common import (
    Subjects,
    assemble,
    attach,
    char,
    dy_var,
    epoch,
    epoch_var,
    identifiers,
    iso_date,
    num,
    per_value,
    seq_var,
    sequence,
    study_day,
    table,
    to_day,
)
from equitrial.cdisc.sdtm._visits import VISIT_VARS, with_visit
from equitrial.datasets import Dataset, StudySource

__all__ = ["EVALUATORS", "build_rs", "build_tr", "build_tu"]

EVALUATORS: Final = {"investigator": "INVESTIGATOR", "central": "INDEPENDENT ASSESSOR"}
"""Reader -> ``--EVAL`` (CT EVAL, C78735)."""
_ROLES: Final = {"target": "TARGET", "non-target": "NON-TARGET", "new": "NEW"}
_EVAL_CT: Final = tuple(EVALUATORS.values())


def _dated(frame: pd.DataFrame, date: str, prefix: str, visits: pd.DataFrame) -> pd.DataFrame:
    frame = with_visit(frame, visits, date)
    frame["EPOCH"] = epoch(frame[date], frame["RFST"], frame["EOT"])
    frame[f"{prefix}DTC"] = iso_date(frame[date])
    frame[f"{prefix}DY"] = study_day(frame[date], frame["RFST"])
    return frame


def _baseline(frame: pd.DataFrame, date: str, keys: list[str]) -> pd.Series:
    """``Y`` on the last record on or before the first dose day per ``keys`` (``--LOBXFL``)."""
    day = to_day(frame[date])
    ok = frame["RFST"].notna() & (day <= frame["RFST"])
    last = frame[ok].assign(_d=day[ok]).sort_values([*keys, "_d"], kind="mergesort")
    index = last.drop_duplicates(keys, keep="last").index
    flag = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    flag[index] = "Y"
    return flag


def _lesions(source: StudySource) -> pd.DataFrame:
    columns = ["id", "subject_id", "lesion_code", "organ", "role", "reader"]
    return table(source, "lesion", columns)


def build_tu(source: StudySource, subjects: Subjects, visits: pd.DataFrame) -> Dataset:
    """TU: one record per lesion per reader, dated by the lesion's first measurement."""
    lesions = _lesions(source)
    measures = table(source, "lesion_measurement", ["lesion_id", "assessment_date"])
    first = to_day(measures["assessment_date"]).groupby(measures["lesion_id"]).min()
    frame = attach(lesions.assign(date=lesions["id"].map(first)), subjects)
    frame["DOMAIN"] = "TU"
    frame["TULNKID"] = frame["lesion_code"]
    frame["TUTESTCD"] = "TUMIDENT"
    frame["TUTEST"] = "Tumor Identification"
    frame["TUORRES"] = frame["role"].map(_ROLES)
    frame["TUSTRESC"] = frame["TUORRES"]
    frame["TULOC"] = frame["organ"].str.upper()
    frame["TUEVAL"] = frame["reader"].map(EVALUATORS)
    frame = _dated(frame, "date", "TU", visits)
    not_new = frame["role"].ne("new")
    frame["TULOBXFL"] = _baseline(frame, "date", ["id"]).where(not_new, None)
    order = ["TUEVAL", "TUDTC", "TULNKID", "id"]
    frame = sequence(frame, order).rename(columns={"SEQ": "TUSEQ"})
    return assemble(
        "TU",
        "Tumor/Lesion Identification",
        "FINDINGS",
        "One record per identified lesion per reader per subject",
        _TU_VARS,
        frame,
    )


_TU_VARS: Final = [
    *identifiers(),
    seq_var("TU", "TUEVAL, TUDTC, TULNKID, record id"),
    char("TULNKID", "Link ID", "Collected", "the lesion's code"),
    char("TUTESTCD", "Tumor/Lesion ID Short Name", "Assigned", None, ("TUMIDENT",)),
    char("TUTEST", "Tumor/Lesion ID Test Name", "Assigned", None, ("Tumor Identification",)),
    char("TUORRES", "Tumor/Lesion ID Result", "Collected", "lesion role", tuple(_ROLES.values())),
    char("TUSTRESC", "Tumor/Lesion ID Result Std. Format", "Derived", "TUORRES"),
    char("TULOC", "Location of the Tumor/Lesion", "Collected", "organ, upper case"),
    char("TUMETHOD", "Method of Identification", "Collected", "not collected"),
    char(
        "TULOBXFL",
        "Last Observation Before Exposure Flag",
        "Derived",
        "Y when identified on or before RFSTDTC (not a new lesion)",
        ("Y",),
    ),
    char("TUEVAL", "Evaluator", "Derived", "reader of the lesion", _EVAL_CT),
    *VISIT_VARS,
    epoch_var(),
    char(
        "TUDTC",
        "Date/Time of Tumor/Lesion Identification",
        "Derived",
        "first measurement date of the lesion",
    ),
    dy_var("TUDY", "Study Day of Tumor/Lesion Identification", "TUDTC"),
]


def build_tr(source: StudySource, subjects: Subjects, visits: pd.DataFrame) -> Dataset:
    """TR: one record per lesion measurement: ``DIAMETER`` (mm) when a diameter is recorded,
    else ``TUMSTATE`` (the lesion's state, e.g. PRESENT, ABSENT, UNEQUIVOCAL PROGRESSION); a
    lesion not assessed is ``TRSTAT`` ``NOT DONE`` (``DIAMETER`` for a target lesion)."""
    columns = ["id", "lesion_id", "assessment_date", "reader", "diameter_mm", "measurement_status"]
    measures = table(source, "lesion_measurement", columns)
    lesions = _lesions(source).rename(columns={"id": "lesion_id", "reader": "lesion_reader"})
    frame = attach(
        measures.merge(lesions, on="lesion_id", how="inner"), subjects, ["assessment_date"]
    )
    frame["DOMAIN"] = "TR"
    frame["TRLNKID"] = frame["lesion_code"]
    diameter = pd.to_numeric(frame["diameter_mm"])
    measured = diameter.notna()
    state = frame["measurement_status"].astype(str).str.upper()
    not_done = ~measured & state.eq("NOT ASSESSED")
    diameter_test = measured | (not_done & frame["role"].eq("target"))
    frame["TRTESTCD"] = diameter_test.map({True: "DIAMETER", False: "TUMSTATE"})
    frame["TRTEST"] = diameter_test.map({True: "Diameter", False: "Tumor State"})
    text = per_value(diameter, lambda d: f"{d:g}")
    frame["TRORRES"] = text.where(measured, state.where(~not_done, None))
    frame["TRORRESU"] = measured.map({True: "mm", False: None})
    frame["TRSTRESC"] = frame["TRORRES"]
    frame["TRSTRESN"] = diameter
    frame["TRSTRESU"] = frame["TRORRESU"]
    frame["TRSTAT"] = not_done.map({True: "NOT DONE", False: None})
    frame["TREVAL"] = frame["reader"].map(EVALUATORS)
    frame = _dated(frame, "assessment_date", "TR", visits)
    flag = _baseline(frame, "assessment_date", ["lesion_id", "reader", "TRTESTCD"])
    frame["TRLOBXFL"] = flag.where(frame["TRORRES"].notna(), None)
    order = ["TREVAL", "TRDTC", "TRLNKID", "id"]
    frame = sequence(frame, order).rename(columns={"SEQ": "TRSEQ"})
    return assemble(
        "TR",
        "Tumor/Lesion Results",
        "FINDINGS",
        "One record per lesion measurement per reader per visit per subject",
        _TR_VARS,
        frame,
    )


_TR_VARS: Final = [
    *identifiers(),
    seq_var("TR", "TREVAL, TRDTC, TRLNKID, record id"),
    char("TRLNKID", "Link ID", "Collected", "the lesion's code (TU.TULNKID)"),
    char(
        "TRTESTCD",
        "Tumor/Lesion Assessment Short Name",
        "Derived",
        "DIAMETER when a diameter is recorded or a target lesion is not assessed, else TUMSTATE",
        ("DIAMETER", "TUMSTATE"),
    ),
    char("TRTEST", "Tumor/Lesion Assessment Test Name", "Derived", "name of TRTESTCD"),
    char("TRORRES", "Result or Finding in Original Units"),
    char("TRORRESU", "Original Units", "Assigned", None, ("mm",)),
    char("TRSTRESC", "Character Result/Finding in Std Format", "Derived", "TRORRES"),
    num("TRSTRESN", "Numeric Result/Finding in Standard Units", "Derived", "diameter", "float"),
    char("TRSTRESU", "Standard Units", "Assigned", None, ("mm",)),
    char("TRSTAT", "Completion Status", "Derived", "NOT DONE when not assessed", ("NOT DONE",)),
    char("TRMETHOD", "Method Used to Identify the Tumor/Lesion", "Collected", "not collected"),
    char(
        "TRLOBXFL",
        "Last Observation Before Exposure Flag",
        "Derived",
        "Y on the last result on or before RFSTDTC per lesion, reader and test",
        ("Y",),
    ),
    char("TREVAL", "Evaluator", "Derived", "reader of the measurement", _EVAL_CT),
    *VISIT_VARS,
    epoch_var(),
    char("TRDTC", "Date/Time of Tumor/Lesion Measurement"),
    dy_var("TRDY", "Study Day of Tumor/Lesion Measurement", "TRDTC"),
]

_RS_TESTS: Final = {
    "target_response": ("TRGRESP", "Target Response", "RECIST 1.1", 1),
    "non_target_response": ("NTRGRESP", "Non-target Response", "RECIST 1.1", 2),
    "new_lesion": ("NEWLIND", "New Lesion Indicator", "RECIST 1.1", 3),
    "overall_response": ("OVRLRESP", "Overall Response", "RECIST 1.1", 4),
    "irecist_response": ("OVRLRESP", "Overall Response", "iRECIST", 5),
}


def build_rs(source: StudySource, subjects: Subjects, visits: pd.DataFrame) -> Dataset:
    """RS: one record per time-point response per reader (baseline assessments, which have no
    response, give none); ``NEWLIND`` (``Y``/``N``) with every post-baseline assessment."""
    columns = ["id", "subject_id", "assessment_date", "reader", "new_lesions", *_RS_TESTS]
    assessments = table(source, "tumour_assessment", columns)
    assessed = assessments["overall_response"].notna()
    yes_no = assessments["new_lesions"].eq(True).map({True: "Y", False: "N"})
    assessments["new_lesion"] = yes_no.where(assessed, None)
    keys = ["id", "subject_id", "assessment_date", "reader"]
    long = assessments.melt(keys, list(_RS_TESTS), "test", "result")
    long = long[long["result"].notna()]
    frame = attach(long, subjects, ["assessment_date"])
    frame["DOMAIN"] = "RS"
    for i, name in enumerate(("RSTESTCD", "RSTEST", "RSCAT", "order")):
        frame[name] = frame["test"].map(lambda t, i=i: _RS_TESTS[t][i])
    frame["RSORRES"] = frame["result"]
    frame["RSSTRESC"] = frame["result"]
    frame["RSEVAL"] = frame["reader"].map(EVALUATORS)
    frame = _dated(frame, "assessment_date", "RS", visits)
    order = ["RSEVAL", "RSDTC", "order", "id"]
    frame = sequence(frame, order).rename(columns={"SEQ": "RSSEQ"})
    return assemble(
        "RS",
        "Disease Response and Clin Classification",
        "FINDINGS",
        "One record per response assessment per reader per visit per subject",
        _RS_VARS,
        frame,
    )


_RS_VARS: Final = [
    *identifiers(),
    seq_var("RS", "RSEVAL, RSDTC, test, record id"),
    char(
        "RSTESTCD",
        "Assessment Short Name",
        "Assigned",
        None,
        ("TRGRESP", "NTRGRESP", "NEWLIND", "OVRLRESP"),
    ),
    char("RSTEST", "Assessment Name", "Assigned"),
    char(
        "RSCAT",
        "Category for Assessment",
        "Assigned",
        "response criteria",
        ("RECIST 1.1", "iRECIST"),
    ),
    char(
        "RSORRES",
        "Result or Finding in Original Units",
        "Derived",
        "time-point response derived by equitrial.clinical (RECIST 1.1 / iRECIST)",
    ),
    char("RSSTRESC", "Character Result/Finding in Std Format", "Derived", "RSORRES"),
    char("RSEVAL", "Evaluator", "Derived", "reader of the assessment", _EVAL_CT),
    *VISIT_VARS,
    epoch_var(),
    char("RSDTC", "Date/Time of Assessment"),
    dy_var("RSDY", "Study Day of Assessment", "RSDTC"),
]
