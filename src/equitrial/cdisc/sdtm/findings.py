"""Findings domains of samples and forms: LB (laboratory), PC (PK concentrations), IS
(immunogenicity: anti-drug antibodies) and QS (EORTC QLQ-C30 items).

References
----------
.. [1] CDISC SDTMIG v3.4: section 6.3 (Findings general: ``--ORRES``/``--STRESC``/``--STRESN``,
   ``--LOBXFL`` "last observation before exposure", ``--NRIND``, ``--TOXGR``), 6.3.5.4 (LB),
   6.3.5.7 (PC: ``PCLLOQ``, a result below it as text in ``PCORRES``/``PCSTRESC`` with
   ``PCSTRESN`` null, ``PCTPT``/``PCTPTNUM``/``PCELTM``/``PCTPTREF``/``PCRFTDTC``), 6.3.5.3
   (IS), 6.3.11 (QS).
.. [2] CDISC CT: LBTESTCD (C65047) / LBTEST (C67154) for the laboratory tests mapped below,
   NRIND (C78736), QS CT for the EORTC QLQ-C30 (``QSTESTCD`` ``EOR0101`` ... ``EOR0130``; the
   item texts of ``QSTEST`` are the EORTC's and are not held here: ``EOR01-Item n``).
"""

from __future__ import annotations

import json
import re
from typing import Final

import numpy as np
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
    iso_datetime,
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

__all__ = ["LAB_TESTS", "build_is", "build_lb", "build_pc", "build_qs"]

LAB_TESTS: Final = {
    "Alanine aminotransferase increased": ("ALT", "Alanine Aminotransferase", "CHEMISTRY"),
    "Aspartate aminotransferase increased": ("AST", "Aspartate Aminotransferase", "CHEMISTRY"),
    "Alkaline phosphatase increased": ("ALP", "Alkaline Phosphatase", "CHEMISTRY"),
    "Blood bilirubin increased": ("BILI", "Bilirubin", "CHEMISTRY"),
    "Creatinine increased": ("CREAT", "Creatinine", "CHEMISTRY"),
    "GGT increased": ("GGT", "Gamma Glutamyl Transferase", "CHEMISTRY"),
    "Hyponatremia": ("SODIUM", "Sodium", "CHEMISTRY"),
    "Hypernatremia": ("SODIUM", "Sodium", "CHEMISTRY"),
    "Hypokalemia": ("K", "Potassium", "CHEMISTRY"),
    "Hyperkalemia": ("K", "Potassium", "CHEMISTRY"),
    "Hypoglycemia": ("GLUC", "Glucose", "CHEMISTRY"),
    "Hyperglycemia": ("GLUC", "Glucose", "CHEMISTRY"),
    "Lipase increased": ("LIPASE", "Triacylglycerol Lipase", "CHEMISTRY"),
    "Serum amylase increased": ("AMYLASE", "Amylase", "CHEMISTRY"),
    "Anemia": ("HGB", "Hemoglobin", "HEMATOLOGY"),
    "Neutrophil count decreased": ("NEUT", "Neutrophils", "HEMATOLOGY"),
    "Platelet count decreased": ("PLAT", "Platelets", "HEMATOLOGY"),
    "White blood cell decreased": ("WBC", "Leukocytes", "HEMATOLOGY"),
    "Lymphocyte count decreased": ("LYM", "Lymphocytes", "HEMATOLOGY"),
}
"""CTCAE v5.0 laboratory term (as stored with a result) -> ``LBTESTCD``, ``LBTEST``, ``LBCAT``
(CDISC CT LBTESTCD/LBTEST). A test not listed gets a code made of its name's first eight
letters and digits (upper case) and its name as ``LBTEST``."""


def _code(name: str) -> str:
    letters = re.sub(r"[^A-Z0-9]", "", name.upper()) or "TEST"
    code = letters[:8]
    return code if not code[0].isdigit() else ("X" + code)[:8]


def _timing(frame: pd.DataFrame, date: str, prefix: str, with_time: bool = True) -> pd.DataFrame:
    frame["EPOCH"] = epoch(frame[date], frame["RFST"], frame["EOT"])
    frame[f"{prefix}DTC"] = iso_datetime(frame[date]) if with_time else iso_date(frame[date])
    frame[f"{prefix}DY"] = study_day(frame[date], frame["RFST"])
    return frame


def _baseline(frame: pd.DataFrame, date: str, by: list[str], result: str) -> pd.Series:
    """``Y`` on the last record with a result on or before the first dose day, per subject and
    ``by``; null elsewhere (``--LOBXFL``)."""
    day = to_day(frame[date])
    eligible = frame[result].notna() & frame["RFST"].notna() & (day <= frame["RFST"])
    candidates = frame[eligible].assign(_t=frame.loc[eligible, date])
    candidates = candidates.sort_values(["USUBJID", *by, "_t"], kind="mergesort")
    last = candidates.drop_duplicates(["USUBJID", *by], keep="last").index
    flag = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    flag[last] = "Y"
    return flag


def _number_text(values: pd.Series) -> pd.Series:
    return per_value(values, lambda v: f"{float(v):g}")


def build_lb(source: StudySource, subjects: Subjects, visits: pd.DataFrame) -> Dataset:
    """LB: one record per laboratory result; standard units are the collected units (no
    conversion); ``LBNRIND`` LOW/HIGH/NORMAL against the collected range; ``LBTOXGR`` the
    CTCAE v5.0 grade derived when the result was saved."""
    columns = ["id", "subject_id", "test", "value", "unit", "lln", "uln", "collected_at"]
    frame = attach(
        table(source, "lab_result", [*columns, "ctcae_grade", "accession"]),
        subjects,
        ["collected_at"],
    )
    tests = {t: LAB_TESTS.get(t, (_code(t), t[:40], None)) for t in frame["test"].dropna().unique()}
    frame["DOMAIN"] = "LB"
    frame["LBREFID"] = frame["accession"]
    frame["LBTESTCD"] = frame["test"].map({t: v[0] for t, v in tests.items()})
    frame["LBTEST"] = frame["test"].map({t: v[1] for t, v in tests.items()})
    frame["LBCAT"] = frame["test"].map({t: v[2] for t, v in tests.items()})
    frame["LBORRES"] = _number_text(frame["value"])
    frame["LBORRESU"] = frame["unit"]
    frame["LBORNRLO"] = _number_text(frame["lln"])
    frame["LBORNRHI"] = _number_text(frame["uln"])
    frame["LBSTRESC"] = frame["LBORRES"]
    frame["LBSTRESN"] = frame["value"]
    frame["LBSTRESU"] = frame["unit"]
    frame["LBSTNRLO"] = frame["lln"]
    frame["LBSTNRHI"] = frame["uln"]
    value, low, high = (pd.to_numeric(frame[c]) for c in ("value", "lln", "uln"))
    ranged = low.notna() | high.notna()
    nrind = np.where(value < low, "LOW", np.where(value > high, "HIGH", "NORMAL"))
    frame["LBNRIND"] = pd.Series(nrind, index=frame.index, dtype=object).where(ranged, None)
    frame["LBTOX"] = frame["test"]
    grade = frame["ctcae_grade"]
    frame["LBTOXGR"] = per_value(grade, lambda g: str(int(g)))
    frame = with_visit(frame, visits, "collected_at")
    frame = _timing(frame, "collected_at", "LB")
    frame["LBLOBXFL"] = _baseline(frame, "collected_at", ["LBTESTCD"], "value")
    frame["LBBLFL"] = frame["LBLOBXFL"]
    frame = sequence(frame, ["LBDTC", "LBTESTCD", "id"]).rename(columns={"SEQ": "LBSEQ"})
    return assemble(
        "LB",
        "Laboratory Test Results",
        "FINDINGS",
        "One record per lab test per time point per subject",
        _LB_VARS,
        frame,
    )


_BL = "Y on the last non-missing result on or before RFSTDTC (day) per subject and test"
_LB_VARS: Final = [
    *identifiers(),
    seq_var("LB", "LBDTC, LBTESTCD, record id"),
    char("LBREFID", "Specimen ID"),
    char("LBTESTCD", "Lab Test or Examination Short Name", "Derived", "CT code of the test"),
    char("LBTEST", "Lab Test or Examination Name", "Derived", "CT name of the test"),
    char("LBCAT", "Category for Lab Test", "Assigned", None, ("CHEMISTRY", "HEMATOLOGY")),
    char("LBORRES", "Result or Finding in Original Units"),
    char("LBORRESU", "Original Units"),
    char("LBORNRLO", "Reference Range Lower Limit in Orig Unit"),
    char("LBORNRHI", "Reference Range Upper Limit in Orig Unit"),
    char("LBSTRESC", "Character Result/Finding in Std Format", "Derived", "LBORRES"),
    num("LBSTRESN", "Numeric Result/Finding in Standard Units", "Derived", "LBORRES", "float"),
    char("LBSTRESU", "Standard Units", "Derived", "LBORRESU (no conversion)"),
    num("LBSTNRLO", "Reference Range Lower Limit-Std Units", "Derived", "LBORNRLO", "float"),
    num("LBSTNRHI", "Reference Range Upper Limit-Std Units", "Derived", "LBORNRHI", "float"),
    char(
        "LBNRIND",
        "Reference Range Indicator",
        "Derived",
        "LOW below LBSTNRLO, HIGH above LBSTNRHI, else NORMAL",
        ("LOW", "NORMAL", "HIGH"),
    ),
    char("LBLOBXFL", "Last Observation Before Exposure Flag", "Derived", _BL, ("Y",)),
    char("LBBLFL", "Baseline Flag", "Derived", "LBLOBXFL", ("Y",)),
    char("LBTOX", "Toxicity", "Derived", "the CTCAE v5.0 term graded"),
    char(
        "LBTOXGR",
        "Standard Toxicity Grade",
        "Derived",
        "CTCAE v5.0 grade of the result",
        ("0", "1", "2", "3", "4"),
    ),
    *VISIT_VARS,
    epoch_var(),
    char("LBDTC", "Date/Time of Specimen Collection"),
    dy_var("LBDY", "Study Day of Specimen Collection", "LBDTC"),
]


def _eltm(hours: pd.Series) -> pd.Series:
    return per_value(hours, lambda h: f"PT{float(h):g}H")


def build_pc(source: StudySource, subjects: Subjects, visits: pd.DataFrame) -> Dataset:
    """PC: one record per PK sample. A result below the lower limit of quantification is
    ``PCORRES``/``PCSTRESC`` ``"<LLOQ"`` with ``PCSTRESN`` null and ``PCLLOQ`` its limit; the
    nominal time is relative to the start of that day's infusion (``PCRFTDTC``)."""
    columns = ["id", "subject_id", "collected_at", "timing", "nominal_hours", "concentration"]
    frame = attach(
        table(source, "pk_sample", [*columns, "blq", "lloq"]), subjects, ["collected_at"]
    )
    doses = table(source, "dose", ["subject_id", "date", "infusion_start"])
    doses = pd.DataFrame(
        {
            "subject_id": doses["subject_id"],
            "day": to_day(doses["date"]),
            "PCRFTDTC": iso_datetime(doses["infusion_start"]).fillna(iso_date(doses["date"])),
        }
    ).drop_duplicates(["subject_id", "day"])
    molecule = str(source.protocol.study.molecule)
    frame["DOMAIN"] = "PC"
    frame["PCTESTCD"] = _code(molecule)
    frame["PCTEST"] = molecule[:40].capitalize()
    blq = frame["blq"].eq(True)
    conc = _number_text(frame["concentration"])
    frame["PCORRES"] = conc.where(~blq, "<LLOQ")
    frame["PCORRESU"] = "ug/mL"
    frame["PCSTRESC"] = frame["PCORRES"]
    frame["PCSTRESN"] = pd.to_numeric(frame["concentration"]).where(~blq)
    frame["PCSTRESU"] = "ug/mL"
    frame["PCSPEC"] = "SERUM"
    frame["PCLLOQ"] = frame["lloq"]
    frame = with_visit(frame, visits, "collected_at")
    frame = frame.merge(doses, on=["subject_id", "day"], how="left")
    frame = _timing(frame, "collected_at", "PC")
    frame["PCTPT"] = frame["timing"]
    frame["PCTPTNUM"] = frame["nominal_hours"]
    frame["PCELTM"] = _eltm(frame["nominal_hours"])
    frame["PCTPTREF"] = frame["PCRFTDTC"].map(lambda d: None if d is None else "INFUSION START")
    frame = sequence(frame, ["PCDTC", "PCTPTNUM", "id"]).rename(columns={"SEQ": "PCSEQ"})
    return assemble(
        "PC",
        "Pharmacokinetics Concentrations",
        "FINDINGS",
        "One record per sample per analyte per subject",
        _PC_VARS,
        frame,
    )


_PC_VARS: Final = [
    *identifiers(),
    seq_var("PC", "PCDTC, PCTPTNUM, record id"),
    char("PCTESTCD", "Pharmacokinetic Test Short Name", "Protocol", "the study's molecule"),
    char("PCTEST", "Pharmacokinetic Test Name", "Protocol", "the study's molecule"),
    char("PCORRES", "Result or Finding in Original Units", "Collected", "<LLOQ when BLQ"),
    char("PCORRESU", "Original Units", "Assigned", None, ("ug/mL",)),
    char("PCSTRESC", "Character Result/Finding in Std Format", "Derived", "PCORRES"),
    num(
        "PCSTRESN",
        "Numeric Result/Finding in Standard Units",
        "Derived",
        "concentration; null when BLQ",
        "float",
    ),
    char("PCSTRESU", "Standard Units", "Assigned", None, ("ug/mL",)),
    char("PCSPEC", "Specimen Material Type", "Assigned", None, ("SERUM",)),
    num("PCLLOQ", "Lower Limit of Quantitation", "Collected", None, "float"),
    *VISIT_VARS,
    epoch_var(),
    char("PCDTC", "Date/Time of Specimen Collection"),
    dy_var("PCDY", "Study Day of Specimen Collection", "PCDTC"),
    char("PCTPT", "Planned Time Point Name"),
    num("PCTPTNUM", "Planned Time Point Number", "Collected", "nominal hours", "float"),
    char(
        "PCELTM",
        "Planned Elapsed Time from Time Point Ref",
        "Derived",
        "ISO 8601 duration of PCTPTNUM hours",
    ),
    char("PCTPTREF", "Time Point Reference", "Assigned", "INFUSION START of the day's dose"),
    char(
        "PCRFTDTC",
        "Date/Time of Reference Time Point",
        "Derived",
        "start of the infusion given on the sample's day",
    ),
]

_IS_TESTS: Final = {
    "screening_result": ("ADASCRN", "Anti-Drug Antibody Screening Assay", 1),
    "confirmatory_result": ("ADACONF", "Anti-Drug Antibody Confirmatory Assay", 2),
    "titre": ("ADATITER", "Anti-Drug Antibody Titer", 3),
    "neutralizing": ("ADANAB", "Neutralizing Anti-Drug Antibody", 4),
}


def build_is(source: StudySource, subjects: Subjects, visits: pd.DataFrame) -> Dataset:
    """IS: one record per ADA sample and tier assayed (screening, confirmatory, titre,
    neutralizing; sponsor-defined test codes); a neutralizing assay ``NOT DONE`` is
    ``ISSTAT``."""
    samples = table(source, "ada_sample", ["id", "subject_id", "collected_at", *_IS_TESTS])
    long = samples.melt(["id", "subject_id", "collected_at"], list(_IS_TESTS), "tier", "result")
    long = long[long["result"].notna()]
    frame = attach(long, subjects, ["collected_at"])
    frame["DOMAIN"] = "IS"
    frame["ISTESTCD"] = frame["tier"].map(lambda t: _IS_TESTS[t][0])
    frame["ISTEST"] = frame["tier"].map(lambda t: _IS_TESTS[t][1])
    frame["order"] = frame["tier"].map(lambda t: _IS_TESTS[t][2])
    frame["ISCAT"] = "ANTI-DRUG ANTIBODY"
    not_done = frame["result"].eq("NOT DONE")
    titre = frame["tier"].eq("titre")
    text = per_value(frame["result"], lambda r: f"{r:g}" if isinstance(r, float) else str(r))
    frame["ISORRES"] = text.where(~not_done, None)
    frame["ISORRESU"] = titre.map({True: "titer", False: None})
    frame["ISSTRESC"] = frame["ISORRES"]
    frame["ISSTRESN"] = pd.to_numeric(frame["result"].where(titre), errors="coerce")
    frame["ISSTRESU"] = frame["ISORRESU"]
    frame["ISSTAT"] = not_done.map({True: "NOT DONE", False: None})
    frame["ISSPEC"] = "SERUM"
    frame = with_visit(frame, visits, "collected_at")
    frame = _timing(frame, "collected_at", "IS")
    frame = sequence(frame, ["ISDTC", "order", "id"]).rename(columns={"SEQ": "ISSEQ"})
    return assemble(
        "IS",
        "Immunogenicity Specimen Assessments",
        "FINDINGS",
        "One record per test per specimen per subject",
        _IS_VARS,
        frame,
    )


_IS_VARS: Final = [
    *identifiers(),
    seq_var("IS", "ISDTC, tier, record id"),
    char("ISTESTCD", "Immunogenicity Test/Exam Short Name", "Assigned", "assay tier"),
    char("ISTEST", "Immunogenicity Test or Examination Name", "Assigned", "assay tier"),
    char("ISCAT", "Category for Immunogenicity Test", "Assigned", None, ("ANTI-DRUG ANTIBODY",)),
    char("ISORRES", "Results or Findings in Original Units"),
    char("ISORRESU", "Original Units", "Assigned", None, ("titer",)),
    char("ISSTRESC", "Character Result/Finding in Std Format", "Derived", "ISORRES"),
    num("ISSTRESN", "Numeric Result/Finding in Standard Units", "Derived", "titre", "float"),
    char("ISSTRESU", "Standard Units", "Assigned", None, ("titer",)),
    char("ISSTAT", "Completion Status", "Collected", None, ("NOT DONE",)),
    char("ISSPEC", "Specimen Material Type", "Assigned", None, ("SERUM",)),
    *VISIT_VARS,
    epoch_var(),
    char("ISDTC", "Date/Time of Collection"),
    dy_var("ISDY", "Study Day of Visit/Collection/Exam", "ISDTC"),
]


def build_qs(source: StudySource, subjects: Subjects, visits: pd.DataFrame) -> Dataset:
    """QS: one record per QLQ-C30 item answered (items 1-30; the answer code as the result).
    Scale scores are analysis values (ADQS), not tabulated here."""
    responses = table(source, "questionnaire_response", ["id", "subject_id", "date", "items_json"])
    items = [json.loads(text) if text else {} for text in responses["items_json"]]
    wide = pd.DataFrame(items, index=responses.index)
    wide[["id", "subject_id", "date"]] = responses[["id", "subject_id", "date"]]
    answer_cols = [c for c in wide.columns if c not in ("id", "subject_id", "date")]
    long = wide.melt(["id", "subject_id", "date"], answer_cols, "item", "answer")
    long = long[long["answer"].notna()]
    long["item"] = long["item"].astype(int)
    frame = attach(long, subjects, ["date"])
    frame["DOMAIN"] = "QS"
    frame["QSTESTCD"] = per_value(frame["item"], lambda i: f"EOR01{i:02d}")
    frame["QSTEST"] = per_value(frame["item"], lambda i: f"EOR01-Item {i}")
    frame["QSCAT"] = "EORTC QLQ-C30"
    frame["QSORRES"] = per_value(frame["answer"], lambda a: str(int(a)))
    frame["QSSTRESC"] = frame["QSORRES"]
    frame["QSSTRESN"] = frame["answer"].astype(float)
    frame = with_visit(frame, visits, "date")
    frame = _timing(frame, "date", "QS", with_time=False)
    frame = sequence(frame, ["QSDTC", "item", "id"]).rename(columns={"SEQ": "QSSEQ"})
    return assemble(
        "QS",
        "Questionnaires",
        "FINDINGS",
        "One record per questionnaire item per time point per subject",
        _QS_VARS,
        frame,
    )


_QS_VARS: Final = [
    *identifiers(),
    seq_var("QS", "QSDTC, item number, record id"),
    char("QSTESTCD", "Question Short Name", "Assigned", "EOR01 + item number (01-30)"),
    char("QSTEST", "Question Name", "Assigned", "EOR01-Item + item number"),
    char("QSCAT", "Category of Question", "Assigned", None, ("EORTC QLQ-C30",)),
    char("QSORRES", "Finding in Original Units", "Collected", "answer code"),
    char("QSSTRESC", "Character Result/Finding in Std Format", "Derived", "QSORRES"),
    num("QSSTRESN", "Numeric Finding in Standard Units", "Derived", "QSORRES as a number"),
    *VISIT_VARS,
    epoch_var(),
    char("QSDTC", "Date/Time of Finding"),
    dy_var("QSDY", "Study Day of Finding", "QSDTC"),
]
