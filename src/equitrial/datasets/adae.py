"""ADAE: adverse events analysis dataset (ADaM OCCDS, subclass ADVERSE EVENT).

One record per adverse event of a subject in ADSL, with the SDTM AE variables, the ADSL
treatment variables, analysis dates and study days, the treatment-emergent flag, the
occurrence flags for the incidence tables and the immune-related / steroid flags of a
checkpoint-inhibitor trial.

Treatment-emergent (``TRTEMFL``): an event whose onset is on or after the first dose
(``TRTSDT``) and at most 90 days after the last dose (``TRTEDT + 90``), or, while treatment
goes on (no ``TRTEDT``), any time after the first dose. The 90 days are the protocol's
safety-reporting period (endpoint ``teae``: "up to 90 days after the last dose"); the rule is
ICH E9's definition, "an event that emerges during treatment, having been absent pre-treatment,
or worsens relative to the pre-treatment state" [2]_. A worsening is recorded on the CRF as a
new event with the date it worsened (CTCAE practice: one record per grade change of a
pre-existing condition), so the onset rule covers it.

References
----------
.. [1] CDISC ADaM Occurrence Data Structure (OCCDS) v1.1 (2021): subclass ADVERSE EVENT,
   ``TRTEMFL``, ``AOCCFL``, ``AOCCSFL``, ``AOCCPFL``, ``AOCCIFL``.
.. [2] ICH E9 Statistical Principles for Clinical Trials (1998), Glossary, "Treatment
   emergent".
.. [3] National Cancer Institute. CTCAE Version 5.0, 27 November 2017 (grades).
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from equitrial.clinical.corticosteroids import is_systemic_corticosteroid
from equitrial.datasets._bds import (
    LAST_DOSE,
    SUBJECT_VARIABLES,
    YN,
    Y,
    char,
    date_var,
    flag_first,
    make_dataset,
    num,
    study_day,
    to_date,
    trtan,
    with_subjects,
)
from equitrial.datasets._meta import Dataset, StudySource, Variable

__all__ = ["TEAE_DAYS_AFTER_LAST_DOSE", "build_adae"]

TEAE_DAYS_AFTER_LAST_DOSE: Final = 90
"""Days after the last dose in which an event still counts as treatment-emergent (protocol)."""

_ADAE: Final = "Adverse Events Analysis Dataset"

VARIABLES: Final[tuple[Variable, ...]] = (
    *SUBJECT_VARIABLES,
    LAST_DOSE,
    num(
        "AESEQ",
        "Sequence Number",
        data_type="integer",
        key=3,
        derivation="1, 2, ... within subject by onset date, then record id",
    ),
    char("AETERM", "Reported Term for the Adverse Event", origin="Collected"),
    char(
        "AEDECOD",
        "Dictionary-Derived Term",
        origin="Derived",
        derivation="The CTCAE v5.0 term of the event (a MedDRA LLT)",
    ),
    num(
        "AEPTCD",
        "Preferred Term Code",
        data_type="integer",
        derivation="MedDRA code of the CTCAE v5.0 term (adverse_event.meddra_code)",
    ),
    char("AEBODSYS", "Body System or Organ Class", derivation="MedDRA SOC of the CTCAE term"),
    char("AESOC", "Primary System Organ Class", derivation="MedDRA SOC of the CTCAE term"),
    char("AESER", "Serious Event", origin="Collected", codelist=("N", "Y")),
    char("AEREL", "Causality", origin="Collected", codelist=("NOT RELATED", "RELATED")),
    char("AEACN", "Action Taken with Study Treatment", origin="Collected"),
    char("AEOUT", "Outcome of Adverse Event", origin="Collected"),
    char(
        "AETOXGR", "Standard Toxicity Grade", origin="Collected", codelist=("1", "2", "3", "4", "5")
    ),
    char(
        "ATOXGR",
        "Analysis Toxicity Grade",
        derivation="AETOXGR (CTCAE v5.0)",
        codelist=("1", "2", "3", "4", "5"),
    ),
    num(
        "ATOXGRN",
        "Analysis Toxicity Grade (N)",
        data_type="integer",
        derivation="ATOXGR as a number",
    ),
    date_var("ASTDT", "Analysis Start Date", derivation="AE start date (no imputation)"),
    date_var("AENDT", "Analysis End Date", derivation="AE end date (no imputation)"),
    num(
        "ASTDY",
        "Analysis Start Relative Day",
        data_type="integer",
        derivation="ASTDT - TRTSDT + 1 if ASTDT >= TRTSDT, else ASTDT - TRTSDT",
    ),
    num(
        "AENDY",
        "Analysis End Relative Day",
        data_type="integer",
        derivation="AENDT - TRTSDT + 1 if AENDT >= TRTSDT, else AENDT - TRTSDT",
    ),
    num("ADURN", "Analysis Duration (N)", data_type="integer", derivation="AENDT - ASTDT + 1"),
    char("ADURU", "Analysis Duration Units", codelist=("DAYS",)),
    char(
        "TRTEMFL",
        "Treatment Emergent Analysis Flag",
        codelist=YN,
        derivation="Y if TRTSDT <= ASTDT <= TRTEDT + 90 (no upper bound without TRTEDT)",
    ),
    char(
        "AOCCFL",
        "1st Occurrence within Subject Flag",
        codelist=YN,
        derivation="First TEAE of the subject by ASTDT, AESEQ",
    ),
    char(
        "AOCCSFL",
        "1st Occurrence of SOC Flag",
        codelist=YN,
        derivation="First TEAE of the subject within AEBODSYS by ASTDT, AESEQ",
    ),
    char(
        "AOCCPFL",
        "1st Occurrence of Preferred Term Flag",
        codelist=YN,
        derivation="First TEAE of the subject within AEBODSYS, AEDECOD by ASTDT, AESEQ",
    ),
    char(
        "AOCCIFL",
        "1st Max Grade Occurrence within PT Flag",
        codelist=YN,
        derivation="TEAE of the worst ATOXGRN of the subject within AEDECOD, first by "
        "ASTDT, AESEQ among ties",
    ),
    char(
        "IRAECAT",
        "Immune-Related AE Category",
        derivation="Immune-related category of the CTCAE term (ASCO 2018), as stored",
    ),
    char(
        "AESIFL",
        "AE of Special Interest Flag",
        codelist=YN,
        derivation="Y if IRAECAT is populated (immune-mediated AEs, infusion reactions)",
    ),
    char("RELFL", "Related to Treatment Flag", codelist=YN, derivation="Y if AEREL = RELATED"),
    char("GR3FL", "Grade 3 or Higher Flag", codelist=YN, derivation="Y if ATOXGRN >= 3"),
    char(
        "STEROFL",
        "Treated with Systemic Steroids Flag",
        codelist=YN,
        derivation="Y if a con-med linked to the AE is a systemic corticosteroid (WHO ATC "
        "H02AB, systemic route)",
    ),
)


def _steroid_events(source: StudySource) -> set[int]:
    """Ids of the AEs a systemic-corticosteroid con-med was given for."""
    meds = source.frame("con_med")
    if meds.empty or "adverse_event_id" not in meds:
        return set()
    linked = meds[meds["adverse_event_id"].notna()]
    return {
        int(event)
        for event, name, route in zip(
            linked["adverse_event_id"], linked["name"], linked["route"], strict=True
        )
        if is_systemic_corticosteroid(str(name), route if isinstance(route, str) else None)
    }


def _flag(condition: pd.Series) -> pd.Series:
    return condition.fillna(False).astype(bool).map({True: Y, False: None})


def build_adae(source: StudySource, adsl: Dataset) -> Dataset:
    """ADAE from the adverse events of the subjects in ADSL.

    Parameters
    ----------
    source : StudySource
        The study's records (table ``adverse_event``; ``con_med`` for ``STEROFL``).
    adsl : Dataset
        ADSL, with ``STUDYID USUBJID SUBJID SITEID TRT01A TRTSDT TRTEDT SAFFL``.

    Returns
    -------
    Dataset
        One record per adverse event, keys ``STUDYID, USUBJID, AESEQ``; class
        ``OCCURRENCE DATA STRUCTURE``.

    Raises
    ------
    InvalidInputError
        ADSL lacks a needed column.

    Notes
    -----
    Occurrence flags [1]_ are set among treatment-emergent events only, in the order ASTDT,
    AESEQ: ``AOCCFL`` first per subject, ``AOCCSFL`` first per subject and SOC, ``AOCCPFL``
    first per subject, SOC and term, ``AOCCIFL`` the first of the worst grade per subject and
    term (for "worst grade per subject" tables; OCCDS examples often flag the worst event per
    subject only, which the worst-per-term flag on the highest-grade record also gives with
    ``ATOXGRN``). ``TRTEMFL`` as in the module docstring [2]_. ``STEROFL`` (a corticosteroid
    con-med recorded against the event) is named within SAS V5's 8 characters. ``AESEQ`` is
    numbered here (by subject, onset date, record id): the store has no SDTM sequence number,
    so an SDTM AE built elsewhere must number the same way for the two to link.
    """
    frame = with_subjects(source, adsl, "adverse_event")
    if frame.empty:
        return make_dataset(
            "ADAE",
            _ADAE,
            "OCCURRENCE DATA STRUCTURE",
            "One record per adverse event per subject",
            VARIABLES,
            pd.DataFrame(columns=[v.name for v in VARIABLES]),
        )
    frame["ASTDT"] = to_date(frame["start_date"].astype(object))
    frame["AENDT"] = to_date(frame["end_date"].astype(object))
    frame = frame.sort_values(["USUBJID", "ASTDT", "id"], kind="mergesort").reset_index(drop=True)
    frame["AESEQ"] = frame.groupby("USUBJID").cumcount() + 1
    frame["TRTA"] = frame["TRT01A"]
    frame["TRTAN"] = trtan(source.protocol, frame["TRTA"])
    frame["AETERM"] = frame["term"]
    decod = frame["decod"] if "decod" in frame else frame["term"]
    frame["AEDECOD"] = decod.where(decod.notna(), frame["term"])
    frame["AEPTCD"] = frame.get("meddra_code")
    frame["AEBODSYS"] = frame["soc"]
    frame["AESOC"] = frame["soc"]
    frame["AESER"] = frame["serious"].map(lambda v: None if v is None else "Y" if bool(v) else "N")
    frame["AEREL"] = frame["related"]
    frame["AEACN"] = frame["action_taken"]
    frame["AEOUT"] = frame["outcome"]
    grade = pd.to_numeric(frame["grade"], errors="coerce")
    frame["AETOXGR"] = grade.map(lambda g: None if pd.isna(g) else str(int(g)))
    frame["ATOXGR"] = frame["AETOXGR"]
    frame["ATOXGRN"] = grade
    frame["ASTDY"] = study_day(frame["ASTDT"], frame["TRTSDT"])
    frame["AENDY"] = study_day(frame["AENDT"], frame["TRTSDT"])
    frame["ADURN"] = (frame["AENDT"] - frame["ASTDT"]).dt.days + 1
    frame["ADURU"] = frame["ADURN"].map(lambda d: None if pd.isna(d) else "DAYS")
    last = frame["TRTEDT"] + pd.Timedelta(days=TEAE_DAYS_AFTER_LAST_DOSE)
    emergent = (frame["ASTDT"] >= frame["TRTSDT"]) & (
        frame["TRTEDT"].isna() | (frame["ASTDT"] <= last)
    )
    frame["TRTEMFL"] = _flag(emergent & frame["TRTSDT"].notna())
    teae = frame["TRTEMFL"] == Y
    frame["AOCCFL"] = flag_first(frame, ["USUBJID"], teae)
    frame["AOCCSFL"] = flag_first(frame, ["USUBJID", "AEBODSYS"], teae)
    frame["AOCCPFL"] = flag_first(frame, ["USUBJID", "AEBODSYS", "AEDECOD"], teae)
    worst = frame.sort_values(
        ["USUBJID", "AEDECOD", "ATOXGRN", "ASTDT", "AESEQ"],
        ascending=[True, True, False, True, True],
        kind="mergesort",
    )
    frame["AOCCIFL"] = flag_first(worst, ["USUBJID", "AEDECOD"], teae.loc[worst.index])
    category = frame.get("immune_category", pd.Series(None, index=frame.index, dtype=object))
    frame["IRAECAT"] = category
    frame["AESIFL"] = _flag(category.notna())
    frame["RELFL"] = _flag(frame["AEREL"] == "RELATED")
    frame["GR3FL"] = _flag(grade >= 3)
    frame["STEROFL"] = _flag(frame["id"].isin(_steroid_events(source)))
    return make_dataset(
        "ADAE",
        _ADAE,
        "OCCURRENCE DATA STRUCTURE",
        "One record per adverse event per subject",
        VARIABLES,
        frame,
    )
