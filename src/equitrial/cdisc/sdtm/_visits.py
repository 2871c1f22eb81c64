"""Visits: the visits done (SV) and the visit of a record (``VISITNUM``/``VISIT`` of the visit
done on the record's day).

References
----------
.. [1] CDISC SDTMIG v3.4, section 5.4 (SV: one record per actual visit; ``VISITNUM``,
   ``VISIT``, ``SVSTDTC``/``SVENDTC``) and 4.4.5 (``VISITNUM``/``VISIT`` of findings).
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from equitrial.cdisc.sdtm._common import (
    Subjects,
    Var,
    assemble,
    attach,
    char,
    dy_var,
    epoch,
    epoch_var,
    identifiers,
    iso_date,
    num,
    study_day,
    table,
    to_day,
    visit_number,
)
from equitrial.datasets import Dataset, StudySource

__all__ = ["VISIT_VARS", "build_sv", "visits_done", "with_visit"]


def visits_done(source: StudySource) -> pd.DataFrame:
    """Visits with an actual date: ``subject_id``, ``VISIT``, ``VISITNUM``, ``day``."""
    visits = table(source, "visit", ["subject_id", "name", "actual_date"])
    visits = visits[visits["actual_date"].notna()]
    return pd.DataFrame(
        {
            "subject_id": visits["subject_id"],
            "VISIT": visits["name"],
            "VISITNUM": visit_number(visits["name"]),
            "day": to_day(visits["actual_date"]),
        }
    )


def with_visit(frame: pd.DataFrame, visits: pd.DataFrame, date: str) -> pd.DataFrame:
    """``VISIT``/``VISITNUM`` of the visit done on the record's day (none if no visit)."""
    keys = visits.sort_values("VISITNUM", kind="mergesort")
    keys = keys.drop_duplicates(["subject_id", "day"])
    frame = frame.assign(day=to_day(frame[date]))
    return frame.merge(keys, on=["subject_id", "day"], how="left")


VISIT_VARS: Final = [
    num("VISITNUM", "Visit Number", "Derived", "VISITNUM of the visit done on the same day"),
    char("VISIT", "Visit Name", "Derived", "name of the visit done on the same day"),
]


def build_sv(source: StudySource, subjects: Subjects, visits: pd.DataFrame) -> Dataset:
    """SV: one record per visit done (a visit with an actual date), by ``VISITNUM``."""
    frame = attach(visits.copy(), subjects)
    frame["DOMAIN"] = "SV"
    frame["EPOCH"] = epoch(frame["day"], frame["RFST"], frame["EOT"])
    frame["SVSTDTC"] = iso_date(frame["day"])
    frame["SVENDTC"] = frame["SVSTDTC"]
    frame["SVSTDY"] = study_day(frame["day"], frame["RFST"])
    frame["SVENDY"] = frame["SVSTDY"]
    frame = frame.sort_values(["USUBJID", "VISITNUM", "day"], kind="mergesort")
    return assemble(
        "SV",
        "Subject Visits",
        "SPECIAL PURPOSE",
        "One record per actual visit per subject",
        _SV_VARS,
        frame,
        ("STUDYID", "USUBJID", "VISITNUM"),
    )


_SV_VARS: Final[list[Var]] = [
    *identifiers(),
    num(
        "VISITNUM",
        "Visit Number",
        "Derived",
        "planned study day N of a visit 'day N'; numbered follow-up visits after",
    ),
    char("VISIT", "Visit Name"),
    epoch_var(),
    char("SVSTDTC", "Start Date/Time of Visit"),
    char("SVENDTC", "End Date/Time of Visit", "Derived", "SVSTDTC (one-day visits)"),
    dy_var("SVSTDY", "Study Day of Start of Visit", "SVSTDTC"),
    dy_var("SVENDY", "Study Day of End of Visit", "SVENDTC"),
]
