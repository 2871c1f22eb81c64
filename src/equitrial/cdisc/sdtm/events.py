"""Events domains: AE (adverse events), DS (disposition), MH (medical history).

References
----------
.. [1] CDISC SDTMIG v3.4, section 6.2: AE (6.2.1: ``AESER`` and the seriousness flags,
   ``AETOXGR`` "represent only the number"), DS (6.2.4: ``DSCAT`` ``PROTOCOL MILESTONE`` for
   informed consent and randomization, ``DISPOSITION EVENT`` for the epochs' ends,
   ``OTHER EVENT``), MH (6.2.7: ``MHENRTPT``/``MHENTPT`` for an ongoing condition).
.. [2] CDISC CT: NY (C66742), ACN (C66767), OUT (C66768), NCOMPLT (C66727), DSCAT (C74558),
   STENRF (C66728); MedDRA for ``AEDECOD``/``AEBODSYS``/``AESOC``; NCI CTCAE v5.0 for
   ``AETOXGR``.
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
)
from equitrial.clinical.ae_terms import AE_ACTIONS, AE_OUTCOMES, AE_RELATIONSHIPS, SERIOUS_CRITERIA
from equitrial.clinical.terminology import DISPOSITION_REASONS, MH_CATEGORIES, NO_YES
from equitrial.datasets import Dataset, StudySource

__all__ = ["build_ae", "build_ds", "build_mh"]

_GRADES: Final = ("1", "2", "3", "4", "5")


def _dates(frame: pd.DataFrame, start: str, end: str | None, prefix: str) -> pd.DataFrame:
    """``EPOCH``, ``--STDTC``/``--ENDTC`` and ``--STDY``/``--ENDY`` from the columns given."""
    frame["EPOCH"] = epoch(frame[start], frame["RFST"], frame["EOT"])
    frame[f"{prefix}STDTC"] = iso_date(frame[start])
    frame[f"{prefix}STDY"] = study_day(frame[start], frame["RFST"])
    if end is not None:
        frame[f"{prefix}ENDTC"] = iso_date(frame[end])
        frame[f"{prefix}ENDY"] = study_day(frame[end], frame["RFST"])
    return frame


def _serious_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """``AESER`` and one flag per criterion: ``Y`` when listed, ``N`` for the other criteria of
    a serious event, null for a non-serious event."""
    serious = frame["serious"].eq(True)
    frame["AESER"] = serious.map({True: "Y", False: "N"})
    criteria = frame["serious_criteria"].fillna("").astype(str).str.upper()
    for flag in SERIOUS_CRITERIA:
        listed = criteria.str.contains(rf"\b{flag}\b", regex=True)
        value = listed.map({True: "Y", False: "N"}).astype(object)
        frame[flag] = value.where(serious | listed, None)
    return frame


def build_ae(source: StudySource, subjects: Subjects) -> Dataset:
    """AE: one record per adverse event, ``AESEQ`` by start date, term and record id.

    ``AETOXGR`` is the CTCAE v5.0 grade as text (``"1"`` ... ``"5"``); the immune-related
    category of the event, when it has one, is ``AESCAT`` under ``AECAT``
    ``"IMMUNE-RELATED ADVERSE EVENT"``.
    """
    columns = [
        "id",
        "subject_id",
        "term",
        "soc",
        "grade",
        "start_date",
        "end_date",
        "serious",
        "serious_criteria",
        "related",
        "action_taken",
        "outcome",
        "immune_category",
        "meddra_code",
        "decod",
    ]
    frame = attach(table(source, "adverse_event", columns), subjects, ["start_date", "end_date"])
    frame["DOMAIN"] = "AE"
    frame["AETERM"] = frame["term"]
    frame["AELLT"] = frame["term"]
    frame["AELLTCD"] = frame["meddra_code"]
    frame["AEDECOD"] = frame["decod"].fillna(frame["term"])
    frame["AEPTCD"] = frame["meddra_code"]
    immune = frame["immune_category"]
    frame["AECAT"] = immune.map(lambda c: None if c is None else "IMMUNE-RELATED ADVERSE EVENT")
    frame["AESCAT"] = immune.map(lambda c: None if c is None else str(c).upper())
    frame["AEBODSYS"] = frame["soc"]
    frame["AESOC"] = frame["soc"]
    frame = _serious_flags(frame)
    frame["AEACN"] = frame["action_taken"]
    frame["AEREL"] = frame["related"]
    frame["AEOUT"] = frame["outcome"]
    frame["AETOXGR"] = per_value(frame["grade"], lambda g: str(int(g)))
    frame = _dates(frame, "start_date", "end_date", "AE")
    frame = sequence(frame, ["AESTDTC", "AETERM", "id"]).rename(columns={"SEQ": "AESEQ"})
    return assemble("AE", "Adverse Events", "EVENTS", _AE_STRUCTURE, _AE_VARS, frame)


_AE_STRUCTURE: Final = "One record per adverse event per subject"
_MEDDRA = "MedDRA code of the CTCAE v5.0 term (CTCAE terms are MedDRA LLTs)"
_YN = NO_YES
_AE_VARS: Final = [
    *identifiers(),
    seq_var("AE", "AESTDTC, AETERM, record id"),
    char("AETERM", "Reported Term for the Adverse Event"),
    char("AELLT", "Lowest Level Term", "Derived", "the CTCAE v5.0 term (a MedDRA LLT)"),
    num("AELLTCD", "Lowest Level Term Code", "Derived", _MEDDRA),
    char("AEDECOD", "Dictionary-Derived Term", "Derived", "CTCAE v5.0 term of AETERM"),
    num(
        "AEPTCD",
        "Preferred Term Code",
        "Derived",
        _MEDDRA + "; the PT code where the term is also a PT (not checked: no MedDRA held)",
    ),
    char("AEHLT", "High Level Term", "Derived", "not coded (no MedDRA hierarchy held)"),
    num("AEHLTCD", "High Level Term Code", "Derived", "not coded"),
    char("AEHLGT", "High Level Group Term", "Derived", "not coded"),
    num("AEHLGTCD", "High Level Group Term Code", "Derived", "not coded"),
    char("AECAT", "Category for Adverse Event", "Derived", "when an immune category is set"),
    char("AESCAT", "Subcategory for Adverse Event", "Derived", "immune category, upper case"),
    char("AEBODSYS", "Body System or Organ Class", "Derived", "CTCAE v5.0 SOC of the term"),
    num("AEBDSYCD", "Body System or Organ Class Code", "Derived", "not coded"),
    char("AESOC", "Primary System Organ Class", "Derived", "CTCAE v5.0 SOC of the term"),
    num("AESOCCD", "Primary System Organ Class Code", "Derived", "not coded"),
    char("AESER", "Serious Event", codelist=_YN),
    char("AEACN", "Action Taken with Study Treatment", codelist=AE_ACTIONS),
    char("AEREL", "Causality", codelist=AE_RELATIONSHIPS),
    char("AEOUT", "Outcome of Adverse Event", codelist=AE_OUTCOMES),
    char("AESCONG", "Congenital Anomaly or Birth Defect", codelist=_YN),
    char("AESDISAB", "Persist or Signif Disability/Incapacity", codelist=_YN),
    char("AESDTH", "Results in Death", codelist=_YN),
    char("AESHOSP", "Requires or Prolongs Hospitalization", codelist=_YN),
    char("AESLIFE", "Is Life Threatening", codelist=_YN),
    char("AESMIE", "Other Medically Important Serious Event", codelist=_YN),
    char("AETOXGR", "Standard Toxicity Grade", "Collected", "CTCAE v5.0 grade", _GRADES),
    epoch_var(),
    char("AESTDTC", "Start Date/Time of Adverse Event"),
    char("AEENDTC", "End Date/Time of Adverse Event"),
    dy_var("AESTDY", "Study Day of Start of Adverse Event", "AESTDTC"),
    dy_var("AEENDY", "Study Day of End of Adverse Event", "AEENDTC"),
]


def _ds_milestones(source: StudySource, subjects: Subjects) -> pd.DataFrame:
    """Informed consents (the consent forms; the enrolment's consent date for a subject
    without one) and randomizations (``PROTOCOL MILESTONE``)."""
    consent = table(source, "informed_consent", ["subject_id", "consent_date", "consent_type"])
    enrolled = table(source, "subject", ["id", "consent_date"])
    without = ~enrolled["id"].isin(consent["subject_id"]) & enrolled["consent_date"].notna()
    fallback = pd.DataFrame(
        {
            "subject_id": enrolled.loc[without, "id"],
            "consent_date": enrolled.loc[without, "consent_date"],
            "consent_type": None,
        }
    )
    consent = pd.concat([consent[list(fallback.columns)], fallback], ignore_index=True)
    consent = pd.DataFrame(
        {
            "subject_id": consent["subject_id"],
            "date": consent["consent_date"],
            "DSTERM": "INFORMED CONSENT OBTAINED",
            "DSSCAT": consent["consent_type"],
            "order": 0,
        }
    )
    periods = table(source, "regimen_period", ["id", "subject_id", "start_date", "reason"])
    first = periods.sort_values(["start_date", "id"], kind="mergesort")
    first = first.drop_duplicates("subject_id")
    first = first[first["subject_id"].isin(list(source.arms))]
    randomized = pd.DataFrame(
        {"subject_id": first["subject_id"], "date": first["start_date"], "DSTERM": "RANDOMIZED"}
    )
    randomized["order"] = 1
    out = pd.concat([consent, randomized], ignore_index=True)
    out["DSDECOD"] = out["DSTERM"]
    out["DSCAT"] = "PROTOCOL MILESTONE"
    return out


def _ds_events(source: StudySource) -> pd.DataFrame:
    """Disposition events (``DISPOSITION EVENT``) and the deaths no disposition event records
    (``OTHER EVENT``), so a death is not told twice."""
    columns = ["subject_id", "scope", "epoch", "decod", "date", "reason"]
    disp = table(source, "disposition", columns)
    events = pd.DataFrame(
        {
            "subject_id": disp["subject_id"],
            "date": disp["date"],
            "DSTERM": disp["reason"].where(disp["reason"].notna(), disp["decod"]),
            "DSDECOD": disp["decod"],
            "DSCAT": "DISPOSITION EVENT",
            "DSSCAT": disp["scope"],
            "stored_epoch": disp["epoch"],
            "order": 2,
        }
    )
    death = table(source, "death", ["subject_id", "date", "cause", "cause_text"])
    told = disp.loc[disp["decod"].eq("DEATH"), "subject_id"]
    death = death[~death["subject_id"].isin(told)]
    cause = death["cause_text"].where(death["cause_text"].notna(), death["cause"])
    deaths = pd.DataFrame(
        {
            "subject_id": death["subject_id"],
            "date": death["date"],
            "DSTERM": cause.map(lambda c: "DEATH" if c is None else f"DEATH DUE TO {c}".upper()),
            "DSDECOD": "DEATH",
            "DSCAT": "OTHER EVENT",
            "order": 3,
        }
    )
    return pd.concat([events, deaths], ignore_index=True)


def build_ds(source: StudySource, subjects: Subjects) -> Dataset:
    """DS: informed consents and randomization (protocol milestones), the disposition events
    as recorded (``DSSCAT`` their scope: END OF TREATMENT, END OF STUDY, SCREEN FAILURE;
    ``EPOCH`` the epoch recorded with them) and a death no disposition event records
    (``OTHER EVENT``, ``DSTERM`` with its cause)."""
    parts = [_ds_milestones(source, subjects), _ds_events(source)]
    frame = attach(pd.concat(parts, ignore_index=True), subjects, ["date"])
    frame["DOMAIN"] = "DS"
    frame = _dates(frame, "date", None, "DS")
    if "stored_epoch" in frame.columns:
        stored = frame["stored_epoch"]
        frame["EPOCH"] = stored.where(stored.notna(), frame["EPOCH"])
    frame = sequence(frame, ["DSSTDTC", "order", "DSSCAT"]).rename(columns={"SEQ": "DSSEQ"})
    return assemble(
        "DS",
        "Disposition",
        "EVENTS",
        "One record per disposition status or protocol milestone per subject",
        _DS_VARS,
        frame,
    )


_DS_VARS: Final = [
    *identifiers(),
    seq_var("DS", "DSSTDTC, milestones before events"),
    char("DSTERM", "Reported Term for the Disposition Event"),
    char(
        "DSDECOD",
        "Standardized Disposition Term",
        "Derived",
        "NCOMPLT term of the event; INFORMED CONSENT OBTAINED, RANDOMIZED for milestones",
        (*DISPOSITION_REASONS, "SCREEN FAILURE", "INFORMED CONSENT OBTAINED", "RANDOMIZED"),
    ),
    char(
        "DSCAT",
        "Category for Disposition Event",
        "Assigned",
        None,
        ("DISPOSITION EVENT", "PROTOCOL MILESTONE", "OTHER EVENT"),
    ),
    char("DSSCAT", "Subcategory for Disposition Event", "Assigned", "disposition scope"),
    epoch_var(),
    char("DSSTDTC", "Start Date/Time of Disposition Event"),
    dy_var("DSSTDY", "Study Day of Start of Disposition Event", "DSSTDTC"),
]


def build_mh(source: StudySource, subjects: Subjects) -> Dataset:
    """MH: one record per condition; an ongoing one has ``MHENRTPT`` ``ONGOING`` relative to
    ``MHENTPT`` ``SCREENING`` (the form is completed at screening)."""
    columns = ["id", "subject_id", "term", "category", "start_date", "ongoing", "end_date"]
    frame = attach(table(source, "medical_history", columns), subjects, ["start_date", "end_date"])
    frame["DOMAIN"] = "MH"
    frame["MHTERM"] = frame["term"]
    frame["MHCAT"] = frame["category"]
    frame = _dates(frame, "start_date", "end_date", "MH")
    ongoing = frame["ongoing"].eq(True)
    frame["MHENRTPT"] = ongoing.map({True: "ONGOING", False: None})
    frame["MHENTPT"] = ongoing.map({True: "SCREENING", False: None})
    frame = sequence(frame, ["MHSTDTC", "MHTERM", "id"]).rename(columns={"SEQ": "MHSEQ"})
    return assemble(
        "MH",
        "Medical History",
        "EVENTS",
        "One record per medical history event per subject",
        _MH_VARS,
        frame,
    )


_MH_VARS: Final = [
    *identifiers(),
    seq_var("MH", "MHSTDTC, MHTERM, record id"),
    char("MHTERM", "Reported Term for the Medical History"),
    char("MHCAT", "Category for Medical History", codelist=MH_CATEGORIES),
    char("MHSTDTC", "Start Date/Time of Medical History Event"),
    char("MHENDTC", "End Date/Time of Medical History Event"),
    char(
        "MHENRTPT",
        "End Relative to Reference Time Point",
        "Derived",
        "ONGOING if ongoing",
        ("ONGOING",),
    ),
    char("MHENTPT", "End Reference Time Point", "Assigned", "SCREENING when ongoing"),
]
