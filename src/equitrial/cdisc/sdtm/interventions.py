"""Interventions domains: EX (exposure to study treatment) and CM (concomitant and subsequent
anticancer medications).

References
----------
.. [1] CDISC SDTMIG v3.4, section 6.1: EX (6.1.3: one record per constant-dosing interval,
   here one per infusion; ``EXTRT`` the name of the treatment, ``EXDOSRGM`` the intended
   regimen, ``EXLOT``, ``EXADJ``) and CM (6.1.2: ``CMINDC``, ``CMCAT``/``CMSCAT``,
   ``CMENRTPT``/``CMENTPT`` for an ongoing medication).
.. [2] CDISC CT: UNIT (C71620), FRM (C66726, ``SOLUTION``), ROUTE (C66729, ``INTRAVENOUS``),
   FREQ (C71113), STENRF (C66728).
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
    iso_datetime,
    num,
    per_value,
    seq_var,
    sequence,
    study_day,
    table,
)
from equitrial.clinical.terminology import FREQUENCIES, ROUTES, UNITS
from equitrial.datasets import Dataset, StudySource

__all__ = ["build_cm", "build_ex"]


def _dtc(times: pd.Series, dates: pd.Series) -> pd.Series:
    """ISO 8601 date-time where a time is known, else the date."""
    with_time = iso_datetime(times)
    return with_time.where(with_time.notna(), iso_date(dates))


def build_ex(source: StudySource, subjects: Subjects) -> Dataset:
    """EX: one record per infusion given.

    ``EXTRT`` is the name of the subject's randomized arm in the protocol (the blinded
    product is one of the two arms' products); ``EXDOSRGM`` the regimen's label
    (``200 mg Q3W``) and ``EXDOSFRQ`` its code; ``EXSTDTC``/``EXENDTC`` the infusion's start
    and stop (the dose date when not recorded); ``EXADJ`` the reason of a delayed or
    interrupted infusion.
    """
    columns = [
        "id",
        "subject_id",
        "cycle",
        "date",
        "dose_mg",
        "regimen",
        "lot",
        "infusion_start",
        "infusion_stop",
        "delayed",
        "interrupted",
        "reason",
    ]
    frame = attach(
        table(source, "dose", columns), subjects, ["date", "infusion_start", "infusion_stop"]
    )
    protocol = source.protocol
    names = {arm.code: arm.name for arm in protocol.arms}
    labels = {r.code: r.label for r in protocol.regimens}
    frame["DOMAIN"] = "EX"
    frame["EXTRT"] = per_value(
        frame["subject_id"], lambda s: names.get(source.arms.get(int(s), ""))
    )
    frame["EXDOSE"] = frame["dose_mg"]
    frame["EXDOSU"] = "mg"
    frame["EXDOSFRM"] = "SOLUTION"
    frame["EXDOSFRQ"] = frame["regimen"]
    frame["EXDOSRGM"] = frame["regimen"].map(labels)
    frame["EXROUTE"] = "INTRAVENOUS"
    frame["EXLOT"] = frame["lot"]
    adjusted = frame["delayed"].eq(True) | frame["interrupted"].eq(True)
    frame["EXADJ"] = frame["reason"].where(adjusted, None)
    frame["EPOCH"] = epoch(frame["date"], frame["RFST"], frame["EOT"])
    frame["EXSTDTC"] = _dtc(frame["infusion_start"], frame["date"])
    frame["EXENDTC"] = _dtc(frame["infusion_stop"], frame["date"])
    stop = frame["infusion_stop"].where(frame["infusion_stop"].notna(), frame["date"])
    frame["EXSTDY"] = study_day(frame["date"], frame["RFST"])
    frame["EXENDY"] = study_day(stop, frame["RFST"])
    frame = sequence(frame, ["EXSTDTC", "cycle", "id"]).rename(columns={"SEQ": "EXSEQ"})
    return assemble(
        "EX", "Exposure", "INTERVENTIONS", "One record per infusion per subject", _EX_VARS, frame
    )


_EX_VARS: Final = [
    *identifiers(),
    seq_var("EX", "EXSTDTC, cycle, record id"),
    char("EXTRT", "Name of Treatment", "Derived", "protocol name of the subject's arm (ARMCD)"),
    num("EXDOSE", "Dose", data_type="float"),
    char("EXDOSU", "Dose Units", "Assigned", None, ("mg",)),
    char("EXDOSFRM", "Dose Form", "Assigned", None, ("SOLUTION",)),
    char("EXDOSFRQ", "Dosing Frequency per Interval", "Collected", "regimen code", FREQUENCIES),
    char("EXDOSRGM", "Intended Dose Regimen", "Protocol", "label of the protocol's regimen"),
    char("EXROUTE", "Route of Administration", "Assigned", None, ("INTRAVENOUS",)),
    char("EXLOT", "Lot Number"),
    char("EXADJ", "Reason for Dose Adjustment", "Collected", "reason of a delay/interruption"),
    epoch_var(),
    char("EXSTDTC", "Start Date/Time of Treatment", "Collected", "infusion start, else date"),
    char("EXENDTC", "End Date/Time of Treatment", "Collected", "infusion stop, else date"),
    dy_var("EXSTDY", "Study Day of Start of Treatment", "EXSTDTC"),
    dy_var("EXENDY", "Study Day of End of Treatment", "EXENDTC"),
]

CM_CATEGORIES: Final = ("CONCOMITANT MEDICATION", "SUBSEQUENT ANTICANCER THERAPY")
"""``CMCAT`` values (sponsor-defined)."""


def _con_meds(source: StudySource) -> pd.DataFrame:
    columns = [
        "id",
        "subject_id",
        "name",
        "indication",
        "dose",
        "dose_unit",
        "route",
        "frequency",
        "start",
        "end",
        "ongoing",
        "irae_corticosteroid",
    ]
    meds = table(source, "con_med", columns)
    steroid = meds["irae_corticosteroid"].eq(True)
    return pd.DataFrame(
        {
            "id": meds["id"],
            "subject_id": meds["subject_id"],
            "CMTRT": meds["name"],
            "CMCAT": "CONCOMITANT MEDICATION",
            "CMSCAT": steroid.map({True: "CORTICOSTEROID FOR IMMUNE-RELATED AE", False: None}),
            "CMINDC": meds["indication"],
            "CMDOSE": meds["dose"],
            "CMDOSU": meds["dose_unit"],
            "CMDOSFRQ": meds["frequency"],
            "CMROUTE": meds["route"],
            "start": meds["start"],
            "end": meds["end"],
            "ongoing": meds["ongoing"].eq(True),
            "order": 0,
        }
    )


def _subsequent(source: StudySource) -> pd.DataFrame:
    columns = ["id", "subject_id", "name", "therapy_type", "start_date"]
    therapy = table(source, "subsequent_therapy", columns)
    return pd.DataFrame(
        {
            "id": therapy["id"],
            "subject_id": therapy["subject_id"],
            "CMTRT": therapy["name"],
            "CMCAT": "SUBSEQUENT ANTICANCER THERAPY",
            "CMSCAT": therapy["therapy_type"],
            "CMINDC": "MELANOMA",
            "start": therapy["start_date"],
            "end": None,
            "ongoing": False,
            "order": 1,
        }
    )


def build_cm(source: StudySource, subjects: Subjects) -> Dataset:
    """CM: concomitant medications (``CMSCAT`` flags the corticosteroids given for an
    immune-related AE) and subsequent anticancer therapies (``CMSCAT`` their type;
    ``CMINDC`` the study's disease, ``MELANOMA`` by construction of the form)."""
    frame = pd.concat([_con_meds(source), _subsequent(source)], ignore_index=True)
    frame = attach(frame, subjects, ["start", "end"])
    frame["DOMAIN"] = "CM"
    frame["EPOCH"] = epoch(frame["start"], frame["RFST"], frame["EOT"])
    frame["CMSTDTC"] = iso_date(frame["start"])
    frame["CMENDTC"] = iso_date(frame["end"])
    frame["CMSTDY"] = study_day(frame["start"], frame["RFST"])
    frame["CMENDY"] = study_day(frame["end"], frame["RFST"])
    ongoing = frame["ongoing"].eq(True)
    frame["CMENRTPT"] = ongoing.map({True: "ONGOING", False: None})
    frame["CMENTPT"] = ongoing.map({True: "END OF STUDY", False: None})
    frame = sequence(frame, ["order", "CMSTDTC", "CMTRT", "id"]).rename(columns={"SEQ": "CMSEQ"})
    return assemble(
        "CM",
        "Concomitant/Concurrent Medications",
        "INTERVENTIONS",
        "One record per medication per subject",
        _CM_VARS,
        frame,
    )


_CM_VARS: Final = [
    *identifiers(),
    seq_var("CM", "category, CMSTDTC, CMTRT, record id"),
    char("CMTRT", "Reported Name of Drug, Med, or Therapy"),
    char("CMCAT", "Category for Medication", "Assigned", "form of the record", CM_CATEGORIES),
    char("CMSCAT", "Subcategory for Medication", "Derived", "irAE steroid flag / therapy type"),
    char("CMINDC", "Indication"),
    num("CMDOSE", "Dose per Administration", data_type="float"),
    char("CMDOSU", "Dose Units", codelist=UNITS),
    char("CMDOSFRQ", "Dosing Frequency per Interval", codelist=FREQUENCIES),
    char("CMROUTE", "Route of Administration", codelist=ROUTES),
    epoch_var(),
    char("CMSTDTC", "Start Date/Time of Medication"),
    char("CMENDTC", "End Date/Time of Medication"),
    dy_var("CMSTDY", "Study Day of Start of Medication", "CMSTDTC"),
    dy_var("CMENDY", "Study Day of End of Medication", "CMENDTC"),
    char(
        "CMENRTPT",
        "End Relative to Reference Time Point",
        "Derived",
        "ONGOING if ongoing",
        ("ONGOING",),
    ),
    char("CMENTPT", "End Reference Time Point", "Assigned", "END OF STUDY when ongoing"),
]
