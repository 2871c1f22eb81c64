"""ADRS, tumour response analysis dataset (BDS; ADaMIG 1.3 section 3.3, admiralonco pattern).

Parameters (PARAMCD; the reader is part of the parameter, so PARAM <-> PARAMCD is one to one
as ADaMIG 1.3 section 3.3.4 requires: central review has no suffix, investigator ``INV``; the
reader and the criteria are also in PARCAT2 / PARCAT3 for selection):

========  ==========================================================================
OVR       Time-point overall response (RECIST 1.1), one record per assessment
BOR       Best overall response; confirmation as the protocol's primary endpoint says
CBOR      Best confirmed overall response (CR/PR confirmed >= 28 days later)
RSP       Responder: BOR is CR or PR ("Y"/"N")
BOR24     BOR on scans up to the primary endpoint's week (+ the imaging window)
RSP24     Responder at the primary endpoint's week: BOR24 CR or PR and no intercurrent
          event the estimand handles as "composite" (death, new anticancer therapy) before
          that week - the primary endpoint's variable
IOVR      Time-point response by iRECIST
IBOR      iRECIST best overall response (iBOR)
========  ==========================================================================

Investigator parameters: the same code + ``INV`` (``OVRINV``, ``BORINV``, ... ``IBORINV``).

Rules. Only time-point responses on or after RANDDT and on or before the start of the first
new anticancer therapy count (ANL01FL = "Y"); the baseline assessment has no response and is not
in ADRS. Best responses come from :mod:`equitrial.clinical.recist` and
:mod:`equitrial.clinical.irecist` (minimum SD duration 42 days from RANDDT, the admiralonco
default; RECIST 1.1 "in general not less than 6-8 weeks"). AVAL orders the responses from
best to worst: CR 1, PR 2, SD 3, NON-CR/NON-PD 4, PD 5, NE 6 (iRECIST: iCR 1, iPR 2, iSD 3,
NON-iCR/NON-iUPD 4, iUPD 5, iCPD 6, NE 7); responder flags 1 (Y) / 0 (N). A subject without
any assessment has BOR "NE" and RSP "N" (ITT). ADT of a best response is the date of the first
assessment with that response; ADY = ADT - RANDDT + 1 (randomization is study day 1).

References
----------
.. [1] Eisenhauer EA, et al. New response evaluation criteria in solid tumours: revised RECIST
   guideline (version 1.1). Eur J Cancer 2009;45:228-247, sections 4.3-4.4, Table 3.
.. [2] Seymour L, et al. iRECIST. Lancet Oncol 2017;18:e143-e152, Tables 2-3.
.. [3] CDISC ADaMIG v1.3, section 3.3 (BDS); pharmaverse admiralonco ``ad_adrs_basic.R``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from equitrial.datasets._adrs_params import IRECIST_ORDER, READERS, RECIST_ORDER, best_records
from equitrial.datasets._frames import YN, as_date, char, dataset, date_var, num, stack, table
from equitrial.datasets._imaging import imaging_schedule, visit_name
from equitrial.datasets._meta import Dataset, StudySource, Variable
from equitrial.datasets.adsl import usubjid

__all__ = [
    "IRECIST_ORDER",
    "READERS",
    "RECIST_ORDER",
    "build_adrs",
    "derive_ovr",
    "new_therapy_start",
]

_CRITERIA = {"OVR": ("overall_response", "RECIST 1.1"), "IOVR": ("irecist_response", "iRECIST")}
_ADSL_COLUMNS = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "TRT01P", "TRT01A", "ITTFL"]
_ADSL_COLUMNS += ["RESPEVFL", "RANDDT"]


def _param(code: str, reader: str) -> tuple[str, str]:
    suffix, label = READERS[reader]
    names = {
        "OVR": "Overall Response",
        "IOVR": "iRECIST Overall Response",
    }
    return code + suffix, f"{names[code]} by {label}"


def new_therapy_start(source: StudySource) -> dict[str, dt.date]:
    """USUBJID -> start date of the first new (subsequent) anticancer therapy."""
    therapy = table(source, "subsequent_therapy", ["subject_id", "start_date"])
    subjects = table(source, "subject", ["id", "subject_code"]).set_index("id")["subject_code"]
    study = str(source.study["code"])
    out: dict[str, dt.date] = {}
    for sid, start in zip(therapy["subject_id"], therapy["start_date"], strict=True):
        day = as_date(start)
        code = subjects.get(sid)
        if day is None or code is None:
            continue
        key = usubjid(study, str(code))
        out[key] = min(day, out.get(key, day))
    return out


def derive_ovr(source: StudySource, adsl: pd.DataFrame) -> pd.DataFrame:
    """OVR/IOVR records (both readers): one per subject, reader, criteria and assessment."""
    ta = table(source, "tumour_assessment", ["subject_id", "assessment_date", "reader"])
    for column in ("overall_response", "irecist_response"):
        if column not in ta:
            ta[column] = None
    subjects = table(source, "subject", ["id", "subject_code"]).set_index("id")["subject_code"]
    study = str(source.study["code"])
    ta = ta.assign(
        USUBJID=ta["subject_id"].map(subjects).map(lambda c: usubjid(study, str(c))).astype(object),
        ADT=ta["assessment_date"].map(as_date),
    )
    ta = ta.merge(adsl[_ADSL_COLUMNS], on="USUBJID")
    therapy = new_therapy_start(source)
    schedule = imaging_schedule(source.protocol)
    parts = []
    for base, (column, criteria) in _CRITERIA.items():
        rows = ta[ta[column].notna() & ta["reader"].isin(list(READERS))].copy()
        order = RECIST_ORDER if criteria == "RECIST 1.1" else IRECIST_ORDER
        rows["AVALC"] = rows[column]
        rows["AVAL"] = rows[column].map(lambda c, o=order: float(o.index(c) + 1))
        rows["PARAMCD"] = [_param(base, r)[0] for r in rows["reader"]]
        rows["PARAM"] = [_param(base, r)[1] for r in rows["reader"]]
        rows["PARCAT2"] = rows["reader"].map(lambda r: READERS[r][1])
        rows["PARCAT3"] = criteria
        parts.append(rows)
    ovr = stack(parts)
    offset = [
        (a - r).days if isinstance(a, dt.date) and isinstance(r, dt.date) else None
        for a, r in zip(ovr["ADT"], ovr["RANDDT"], strict=True)
    ]
    ovr["ADY"] = [o + 1 if o is not None and o >= 0 else o for o in offset]
    ovr["AVISIT"] = [visit_name(o, schedule) if o is not None else None for o in offset]
    cap = ovr["USUBJID"].map(therapy)
    ovr["ANL01FL"] = [
        "Y" if o is not None and o >= 0 and (not isinstance(c, dt.date) or a <= c) else "N"
        for o, a, c in zip(offset, ovr["ADT"], cap, strict=True)
    ]
    return ovr


def build_adrs(source: StudySource, adsl: Dataset) -> Dataset:
    """ADRS: time-point and best overall responses by reader and criteria.

    Parameters
    ----------
    source : StudySource
    adsl : Dataset
        ADSL built from the same source (:func:`equitrial.datasets.adsl.build_adsl`).

    Returns
    -------
    Dataset
        ``ADRS``, BASIC DATA STRUCTURE, keys USUBJID, PARAMCD, ADT; parameters and rules of the
        module docstring.

    Raises
    ------
    InvalidInputError
        Inconsistent responses (from the RECIST / iRECIST rules).
    """
    base = adsl.frame
    ovr = derive_ovr(source, base)
    best = best_records(source, base, ovr, new_therapy_start(source))
    frame = stack([ovr, best])
    frame["PARCAT1"] = "Tumor Response"
    frame["TRTP"] = frame["TRT01P"]
    frame["TRTA"] = frame["TRT01A"]
    frame["_o"] = frame["PARAMCD"].map(_param_order)
    frame = frame.sort_values(
        ["USUBJID", "_o", "PARAMCD", "ADT"], kind="stable", na_position="first"
    )
    return dataset(
        "ADRS",
        "Tumor Response Analysis Dataset",
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per analysis date",
        _variables(frame),
        frame,
    )


def _param_order(code: Any) -> int:
    order = ("OVR", "BOR", "CBOR", "RSP", "BOR24", "RSP24", "IOVR", "IBOR")
    text = str(code)
    stem = text[:-3] if text.endswith("INV") else text
    return order.index(stem) + (len(order) if text.endswith("INV") else 0)


def _variables(f: pd.DataFrame) -> list[Variable]:
    c = char
    return [
        c(f, "STUDYID", "Study Identifier", origin="Predecessor"),
        c(f, "USUBJID", "Unique Subject Identifier", origin="Predecessor", key=1),
        c(f, "SUBJID", "Subject Identifier for the Study", origin="Predecessor"),
        c(f, "SITEID", "Study Site Identifier", origin="Predecessor"),
        c(f, "TRTP", "Planned Treatment", origin="Predecessor", derivation="ADSL.TRT01P"),
        c(f, "TRTA", "Actual Treatment", origin="Predecessor", derivation="ADSL.TRT01A"),
        c(f, "ITTFL", "Intent-To-Treat Population Flag", origin="Predecessor", codelist=YN),
        c(f, "RESPEVFL", "Response Evaluable Population Flag", origin="Predecessor", codelist=YN),
        date_var("RANDDT", "Date of Randomization", origin="Predecessor"),
        c(f, "PARAMCD", "Parameter Code", key=2, derivation="See ADRS parameters"),
        c(f, "PARAM", "Parameter", derivation="See ADRS parameters"),
        c(f, "PARCAT1", "Parameter Category 1", origin="Assigned"),
        c(f, "PARCAT2", "Parameter Category 2 (Reader)", origin="Assigned"),
        c(f, "PARCAT3", "Parameter Category 3 (Criteria)", origin="Assigned"),
        c(f, "AVALC", "Analysis Value (C)", derivation="Response code or Y/N", codelist=_AVALC),
        num(
            "AVAL", "Analysis Value", derivation="CR 1 PR 2 SD 3 NON-CR/NON-PD 4 PD 5 NE 6; Y 1 N 0"
        ),
        date_var("ADT", "Analysis Date", key=3, derivation="Assessment date"),
        num("ADY", "Analysis Relative Day", derivation="ADT - RANDDT + 1 on/after RANDDT"),
        c(f, "AVISIT", "Analysis Visit", derivation="Planned scan week within its window"),
        c(f, "ANL01FL", "Analysis Flag 01", codelist=YN, derivation=_ANL),
    ]


_AVALC = (*RECIST_ORDER, *IRECIST_ORDER[:-1], "Y", "N")
_ANL = "Y if ADT >= RANDDT and ADT <= start of the first new anticancer therapy"
