"""ADLB: laboratory analysis dataset (ADaM BDS), graded by CTCAE v5.0.

One record per lab result of a subject in ADSL: the parameter (one per CTCAE lab term),
value and unit, analysis date and day, the visit, the baseline (the last value on or before
the first dose), the change from baseline, the reference range indicator, the CTCAE grade of
the value and of the baseline, the on-treatment flag and the shift from the baseline grade to
the worst on-treatment grade.

The grade is derived again here against the ADaM baseline (``BASE``, ``BNRIND``) with
:func:`equitrial.clinical.ctcae.grade_lab`: the grade stored with a result is taken against
the subject's earliest earlier result, which need not be the ADaM baseline. A lab test that is
no CTCAE lab term keeps the stored grade (``lab_result.ctcae_grade``).

References
----------
.. [1] CDISC ADaM Implementation Guide v1.3 (2021), BDS: ``ABLFL``, ``BASE``, ``CHG``,
   ``ANRIND``, ``BNRIND``, ``ATOXGR``, ``BTOXGR``, ``SHIFTy``, ``ONTRTFL``, ``ANLzzFL``.
.. [2] National Cancer Institute. CTCAE Version 5.0, 27 November 2017.
.. [3] pharmaverse admiral, ``derive_var_atoxgr_dir`` (grading against ``BNRIND``/``BASE``).
"""

from __future__ import annotations

import re
from typing import Any, Final

import numpy as np
import pandas as pd

from equitrial.clinical.ctcae import grade_lab
from equitrial.datasets._bds import (
    SUBJECT_VARIABLES,
    YN,
    Y,
    carry_baseline,
    char,
    date_var,
    flag_baseline,
    make_dataset,
    num,
    study_day,
    to_date,
    to_datetime,
    trtan,
    with_subjects,
)
from equitrial.datasets._meta import Dataset, StudySource, Variable
from equitrial.errors import EquitrialError

__all__ = ["LAB_PARAMETERS", "ON_TREATMENT_DAYS", "build_adlb", "paramcd_of"]

ON_TREATMENT_DAYS: Final = 90
"""Days after the last dose that are still on treatment (the protocol's safety period)."""

LAB_PARAMETERS: Final = {
    "Alanine aminotransferase increased": ("ALT", "Alanine Aminotransferase"),
    "Aspartate aminotransferase increased": ("AST", "Aspartate Aminotransferase"),
    "Blood bilirubin increased": ("BILI", "Bilirubin"),
    "Creatinine increased": ("CREAT", "Creatinine"),
    "Alkaline phosphatase increased": ("ALP", "Alkaline Phosphatase"),
    "GGT increased": ("GGT", "Gamma Glutamyl Transferase"),
    "Neutrophil count decreased": ("NEUT", "Neutrophils"),
    "Platelet count decreased": ("PLAT", "Platelets"),
    "Lymphocyte count decreased": ("LYM", "Lymphocytes"),
    "White blood cell decreased": ("WBC", "Leukocytes"),
    "Anemia": ("HGB", "Hemoglobin"),
    "Hemoglobin increased": ("HGBH", "Hemoglobin"),
    "Hyponatremia": ("SODIUM", "Sodium"),
    "Hypernatremia": ("SODIUMH", "Sodium"),
    "Hypokalemia": ("K", "Potassium"),
    "Hyperkalemia": ("KH", "Potassium"),
    "Hypoglycemia": ("GLUC", "Glucose"),
    "Hypoalbuminemia": ("ALB", "Albumin"),
    "Lipase increased": ("LIPASE", "Lipase"),
    "Serum amylase increased": ("AMYLASE", "Amylase"),
    "CPK increased": ("CK", "Creatine Kinase"),
}
"""CTCAE lab term (``lab_result.test``) -> (PARAMCD, analyte); CDISC LBTESTCD where one exists.
A test not listed gets a code from its words (:func:`paramcd_of`)."""

_LABEL: Final = "Laboratory Results Analysis Dataset"

VARIABLES: Final[tuple[Variable, ...]] = (
    *SUBJECT_VARIABLES,
    char("PARAMCD", "Parameter Code", key=3, derivation="Code of the CTCAE lab term"),
    char("PARAM", "Parameter", derivation="Analyte (unit)"),
    char("LBTEST", "CTCAE Term Graded", origin="Collected"),
    num(
        "ASEQ",
        "Analysis Sequence Number",
        data_type="integer",
        key=4,
        derivation="1, 2, ... within subject by PARAMCD, collection time, record id",
    ),
    num("AVAL", "Analysis Value", origin="Collected"),
    char("AVALU", "Analysis Value Unit", origin="Collected"),
    date_var("ADT", "Analysis Date", derivation="Date of collection"),
    num(
        "ADY",
        "Analysis Relative Day",
        data_type="integer",
        derivation="ADT - TRTSDT + 1 if ADT >= TRTSDT, else ADT - TRTSDT",
    ),
    char(
        "AVISIT",
        "Analysis Visit",
        derivation="BASELINE on the baseline record; else the subject's visit on ADT "
        "(upper case), UNSCHEDULED without one",
    ),
    num(
        "AVISITN",
        "Analysis Visit (N)",
        data_type="integer",
        derivation="0 for BASELINE; else the planned day in the visit name (DAY 22: 22)",
    ),
    char(
        "ABLFL",
        "Baseline Record Flag",
        codelist=YN,
        derivation="Last non-missing value with ADT <= TRTSDT, by collection time",
    ),
    num("BASE", "Baseline Value", derivation="AVAL of the ABLFL record"),
    num("CHG", "Change from Baseline", derivation="AVAL - BASE, records after TRTSDT"),
    num("ANRLO", "Analysis Normal Range Lower Limit", origin="Collected"),
    num("ANRHI", "Analysis Normal Range Upper Limit", origin="Collected"),
    char(
        "ANRIND",
        "Analysis Reference Range Indicator",
        codelist=("HIGH", "LOW", "NORMAL"),
        derivation="LOW if AVAL < ANRLO, HIGH if AVAL > ANRHI, else NORMAL",
    ),
    char(
        "BNRIND",
        "Baseline Reference Range Indicator",
        codelist=("HIGH", "LOW", "NORMAL"),
        derivation="ANRIND of the ABLFL record",
    ),
    char(
        "ATOXGR",
        "Analysis Toxicity Grade",
        codelist=("0", "1", "2", "3", "4"),
        derivation="CTCAE v5.0 grade of AVAL against ANRLO/ANRHI and BASE (abnormal "
        "baseline if BNRIND = HIGH)",
    ),
    num(
        "ATOXGRN",
        "Analysis Toxicity Grade (N)",
        data_type="integer",
        derivation="ATOXGR as a number",
    ),
    char(
        "BTOXGR",
        "Baseline Toxicity Grade",
        codelist=("0", "1", "2", "3", "4"),
        derivation="ATOXGR of the ABLFL record",
    ),
    num(
        "BTOXGRN",
        "Baseline Toxicity Grade (N)",
        data_type="integer",
        derivation="BTOXGR as a number",
    ),
    char(
        "ONTRTFL",
        "On Treatment Record Flag",
        codelist=YN,
        derivation="Y if TRTSDT < ADT <= TRTEDT + 90 (no upper bound without TRTEDT)",
    ),
    char(
        "ANL01FL",
        "Worst On-Treatment Grade Record Flag",
        codelist=YN,
        derivation="The ONTRTFL record of the highest ATOXGRN per subject and PARAMCD, the "
        "first by ADT among ties",
    ),
    char(
        "SHIFT1",
        "Shift from Baseline to Worst Grade",
        derivation="BTOXGR || ' to ' || ATOXGR on the ANL01FL record ('MISSING' for no "
        "baseline grade)",
    ),
)


def paramcd_of(test: str) -> tuple[str, str]:
    """(PARAMCD, analyte) of a lab test: :data:`LAB_PARAMETERS`, else the initials of its
    words (letters only, at most 8, a letter first)."""
    if test in LAB_PARAMETERS:
        return LAB_PARAMETERS[test]
    words = re.findall(r"[A-Za-z0-9]+", test)
    code = "".join(w[0] for w in words).upper()[:8] or "LAB"
    return (code if code[0].isalpha() else f"L{code}"[:8]), test


def _grade(row: tuple[str, float, str, float, float, float, bool, float]) -> float:
    test, value, unit, lln, uln, base, abnormal, stored = row
    try:
        grade = grade_lab(
            test,
            value,
            unit,
            lln=None if np.isnan(lln) else lln,
            uln=None if np.isnan(uln) else uln,
            baseline=None if np.isnan(base) else base,
            baseline_abnormal=abnormal,
        )
    except EquitrialError:
        return stored
    return np.nan if grade is None else float(grade)


def _grade_text(values: pd.Series) -> pd.Series:
    return values.map(lambda g: None if pd.isna(g) else str(int(g)))


def _visits(source: StudySource) -> pd.DataFrame:
    visits = source.frame("visit")
    if visits.empty or "actual_date" not in visits:
        return pd.DataFrame(columns=["subject_id", "ADT", "VISNAME"])
    visits = visits[visits["actual_date"].notna()]
    out = pd.DataFrame(
        {
            "subject_id": visits["subject_id"],
            "ADT": to_date(visits["actual_date"].astype(object)),
            "VISNAME": visits["name"].astype(str).str.upper(),
        }
    )
    return out.drop_duplicates(["subject_id", "ADT"])


def build_adlb(source: StudySource, adsl: Dataset) -> Dataset:
    """ADLB from the lab results of the subjects in ADSL.

    Parameters
    ----------
    source : StudySource
        The study's records (tables ``lab_result`` and ``visit``).
    adsl : Dataset
        ADSL, with ``STUDYID USUBJID SUBJID SITEID TRT01A TRTSDT TRTEDT SAFFL``.

    Returns
    -------
    Dataset
        One record per lab result, keys ``STUDYID, USUBJID, PARAMCD, ASEQ``; class
        ``BASIC DATA STRUCTURE``.

    Raises
    ------
    InvalidInputError
        ADSL lacks a needed column.

    Notes
    -----
    Baseline [1]_: the last result of the parameter dated on or before ``TRTSDT`` (date only:
    the day-1 sample is drawn before the infusion); no baseline for a subject never dosed.
    ``CHG`` is populated after ``TRTSDT``. The grade [2]_ [3]_ is computed against ``BASE``
    with the baseline abnormal when ``BNRIND`` is ``HIGH`` (for the terms whose criteria
    depend on it; a baseline record with an abnormal baseline then grades against itself,
    admiral's conservative convention). ``SHIFT1`` (e.g. ``"0 to 3"``) sits on the one
    ``ANL01FL`` record per subject and parameter: the worst on-treatment grade, so a shift
    table counts each subject once.
    """
    frame = with_subjects(source, adsl, "lab_result")
    if frame.empty:
        return make_dataset(
            "ADLB",
            _LABEL,
            "BASIC DATA STRUCTURE",
            "One record per subject per parameter per analysis date",
            VARIABLES,
            pd.DataFrame(columns=[v.name for v in VARIABLES]),
        )
    codes = {t: paramcd_of(t) for t in frame["test"].unique()}
    frame["PARAMCD"] = frame["test"].map(lambda t: codes[t][0])
    frame["LBTEST"] = frame["test"]
    frame["AVALU"] = frame["unit"]
    units = frame.groupby("PARAMCD")["unit"].agg(lambda u: u.mode().iloc[0])
    frame["PARAM"] = (
        frame["test"].map(lambda t: codes[t][1]) + " (" + frame["PARAMCD"].map(units) + ")"
    )
    frame["collected"] = to_datetime(frame["collected_at"].astype(object))
    frame["ADT"] = frame["collected"].dt.normalize()
    frame = frame.sort_values(["USUBJID", "PARAMCD", "collected", "id"], kind="mergesort")
    frame = frame.reset_index(drop=True)
    frame["ASEQ"] = frame.groupby("USUBJID").cumcount() + 1
    frame["AVAL"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["ANRLO"] = pd.to_numeric(frame["lln"], errors="coerce")
    frame["ANRHI"] = pd.to_numeric(frame["uln"], errors="coerce")
    frame["ADY"] = study_day(frame["ADT"], frame["TRTSDT"])
    by = ["USUBJID", "PARAMCD"]
    frame["ABLFL"] = flag_baseline(frame, by, "ADT", "TRTSDT", ["collected", "id"])
    frame["BASE"] = carry_baseline(frame, by, "AVAL", frame["ABLFL"]).astype("float64")
    after = frame["ADT"] > frame["TRTSDT"]
    frame["CHG"] = (frame["AVAL"] - frame["BASE"]).where(after)
    low, high = frame["AVAL"] < frame["ANRLO"], frame["AVAL"] > frame["ANRHI"]
    has_range = frame["ANRLO"].notna() | frame["ANRHI"].notna()
    frame["ANRIND"] = np.where(low, "LOW", np.where(high, "HIGH", "NORMAL"))
    frame["ANRIND"] = frame["ANRIND"].where(has_range & frame["AVAL"].notna(), None)
    frame["BNRIND"] = carry_baseline(frame, by, "ANRIND", frame["ABLFL"])
    abnormal = frame["BNRIND"] == "HIGH"
    stored = pd.to_numeric(
        frame["ctcae_grade"] if "ctcae_grade" in frame else pd.Series(np.nan, frame.index),
        errors="coerce",
    ).astype("float64")
    rows = zip(
        frame["test"],
        frame["AVAL"],
        frame["unit"],
        frame["ANRLO"],
        frame["ANRHI"],
        frame["BASE"],
        abnormal,
        stored,
        strict=True,
    )
    grades: dict[tuple[Any, ...], float] = {}  # results repeat: grade each distinct input once
    frame["ATOXGRN"] = [grades[r] if r in grades else grades.setdefault(r, _grade(r)) for r in rows]
    frame["ATOXGR"] = _grade_text(frame["ATOXGRN"])
    frame["BTOXGRN"] = carry_baseline(frame, by, "ATOXGRN", frame["ABLFL"]).astype("float64")
    frame["BTOXGR"] = _grade_text(frame["BTOXGRN"])
    last = frame["TRTEDT"] + pd.Timedelta(days=ON_TREATMENT_DAYS)
    on = after & (frame["TRTEDT"].isna() | (frame["ADT"] <= last))
    frame["ONTRTFL"] = on.map({True: Y, False: None})
    graded = on & frame["ATOXGRN"].notna()
    worst = frame[graded].sort_values(
        [*by, "ATOXGRN", "collected", "id"],
        ascending=[True, True, False, True, True],
        kind="mergesort",
    )
    frame["ANL01FL"] = None
    frame.loc[worst.groupby(by, sort=False).head(1).index, "ANL01FL"] = Y
    baseline_text = frame["BTOXGR"].fillna("MISSING")
    frame["SHIFT1"] = (baseline_text + " to " + frame["ATOXGR"].fillna("")).where(
        frame["ANL01FL"] == Y, None
    )
    visits = _visits(source)
    frame = frame.merge(visits, on=["subject_id", "ADT"], how="left")
    frame["AVISIT"] = frame["VISNAME"].where(frame["VISNAME"].notna(), "UNSCHEDULED")
    number = frame["VISNAME"].str.extract(r"(\d+)$", expand=False)
    frame["AVISITN"] = pd.to_numeric(number, errors="coerce")
    frame.loc[frame["ABLFL"] == Y, "AVISIT"] = "BASELINE"
    frame.loc[frame["ABLFL"] == Y, "AVISITN"] = 0
    frame["TRTA"] = frame["TRT01A"]
    frame["TRTAN"] = trtan(source.protocol, frame["TRTA"])
    return make_dataset(
        "ADLB",
        _LABEL,
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per analysis date",
        VARIABLES,
        frame,
    )
