"""ADTTE, time-to-event analysis dataset (BDS-TTE; ADaMIG 1.3 section 3.3.8).

Parameters (one record per subject and parameter):

========  ==================================================================================
PFS       Progression-free survival, central review (STARTDT = RANDDT), every ITT subject
PFSINV    the same by the investigator
OS        Overall survival (STARTDT = RANDDT): event death; censored at LSTALVDT
DOR       Duration of response, central review: responders (ADRS RSP = "Y") only,
          STARTDT = date of first CR/PR; progression or death as for PFS
DORINV    the same by the investigator
TTR       Time to response, central review: every ITT subject; event the first CR/PR,
          censored at the last adequate assessment (CNSR 5) or RANDDT (CNSR 2)
TTRINV    the same by the investigator
========  ==================================================================================

AVAL = ADT - STARTDT + 1 (days). CNSR 0 is an event; the censoring reasons of PFS/DOR
(positive integers) are those of :mod:`equitrial.datasets._tte_rules` (FDA 2018 table);
OS censoring is 1. Time-point responses are ADRS OVR/OVRINV records with ANL01FL = "Y"
(RECIST 1.1, on or after randomization); the first response date uses
:func:`equitrial.clinical.recist.first_response_date` with the confirmation rule of the
protocol's primary endpoint. A baseline tumour assessment is a tumour assessment by the same
reader dated on or before RANDDT.

References
----------
.. [1] U.S. FDA. Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics (2018).
.. [2] CDISC ADaMIG v1.3, section 3.3.8 (STARTDT, ADT, CNSR, EVNTDESC, CNSDTDSC, SRCDOM).
.. [3] Eisenhauer EA, et al. Eur J Cancer 2009;45:228-247, section 4.6 (duration of response).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from equitrial.clinical import recist
from equitrial.datasets._adrs_params import CONFIRM_DAYS, primary_endpoint
from equitrial.datasets._frames import YN, as_date, char, dataset, date_var, num, table
from equitrial.datasets._imaging import imaging_schedule
from equitrial.datasets._meta import Dataset, StudySource, Variable
from equitrial.datasets._tte_rules import Outcome, os_outcome, progression_outcome
from equitrial.datasets.adrs import READERS, new_therapy_start
from equitrial.datasets.adsl import usubjid

__all__ = ["build_adtte"]

_PARAMS = {
    "PFS": "Progression-Free Survival (days)",
    "OS": "Overall Survival (days)",
    "DOR": "Duration of Response (days)",
    "TTR": "Time to Response (days)",
}
_KEEP = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "TRT01P", "TRT01A", "ITTFL", "RANDDT"]


def _baselines(source: StudySource, adsl: pd.DataFrame) -> set[tuple[str, str]]:
    """(USUBJID, reader) with a tumour assessment on or before RANDDT."""
    ta = table(source, "tumour_assessment", ["subject_id", "assessment_date", "reader"])
    codes = table(source, "subject", ["id", "subject_code"]).set_index("id")["subject_code"]
    study = str(source.study["code"])
    randdt = adsl.set_index("USUBJID")["RANDDT"]
    out: set[tuple[str, str]] = set()
    for sid, day, reader in zip(ta["subject_id"], ta["assessment_date"], ta["reader"], strict=True):
        key = usubjid(study, str(codes.get(sid)))
        ref = randdt.get(key)
        date = as_date(day)
        if isinstance(ref, dt.date) and date is not None and date <= ref:
            out.add((key, str(reader)))
    return out


def _record(subject: pd.Series, code: str, start: dt.date, o: Outcome) -> dict[str, Any]:
    row = {k: subject[k] for k in _KEEP}
    row.update(
        PARAMCD=code,
        PARAM=_PARAMS[code.removesuffix("INV")],
        STARTDT=start,
        ADT=o.adt,
        AVAL=float((o.adt - start).days + 1),
        CNSR=float(o.cnsr),
        EVNTDESC=o.evntdesc,
        CNSDTDSC=o.cnsdtdsc,
        SRCDOM=o.srcdom,
        SRCVAR=o.srcvar,
    )
    return row


def build_adtte(source: StudySource, adsl: Dataset, adrs: Dataset) -> Dataset:
    """ADTTE: PFS, OS, DOR and TTR (central review, and investigator parameters).

    Parameters
    ----------
    source : StudySource
    adsl, adrs : Dataset
        Built from the same source (:func:`~equitrial.datasets.adsl.build_adsl`,
        :func:`~equitrial.datasets.adrs.build_adrs`).

    Returns
    -------
    Dataset
        ``ADTTE``, BASIC DATA STRUCTURE, keys USUBJID, PARAMCD.
    """
    base = adsl.frame
    rs = adrs.frame
    ovr = rs[rs["PARAMCD"].isin(["OVR", "OVRINV"]) & (rs["ANL01FL"] == "Y")].sort_values("ADT")
    series = {
        (str(k[0]), str(k[1])): list(zip(g["ADT"], g["AVALC"], strict=True))
        for k, g in ovr.groupby(["USUBJID", "PARAMCD"])
    }
    responders = set(
        zip(
            rs.loc[rs["PARAMCD"].isin(["RSP", "RSPINV"]) & (rs["AVALC"] == "Y"), "USUBJID"],
            rs.loc[rs["PARAMCD"].isin(["RSP", "RSPINV"]) & (rs["AVALC"] == "Y"), "PARAMCD"],
            strict=True,
        )
    )
    _, confirm, _ = primary_endpoint(source.protocol)
    schedule = imaging_schedule(source.protocol)
    therapy = new_therapy_start(source)
    baselines = _baselines(source, base)
    rows: list[dict[str, Any]] = []
    for _, subject in base.iterrows():
        randdt = subject["RANDDT"]
        if not isinstance(randdt, dt.date):
            continue
        key = str(subject["USUBJID"])
        death = subject["DTHDT"] if isinstance(subject["DTHDT"], dt.date) else None
        alive = subject["LSTALVDT"] if isinstance(subject["LSTALVDT"], dt.date) else None
        rows.append(
            _record(subject, "OS", randdt, os_outcome(death=death, last_alive=alive, randdt=randdt))
        )
        for reader, (suffix, _label) in READERS.items():
            points = series.get((key, "OVR" + suffix), [])
            common: dict[str, Any] = dict(
                randdt=randdt,
                assessments=points,
                death=death,
                new_therapy=therapy.get(key),
                schedule=schedule,
            )
            pfs = progression_outcome(
                origin=randdt,
                origin_source=("ADSL", "RANDDT"),
                baseline=(key, reader) in baselines,
                **common,
            )
            rows.append(_record(subject, "PFS" + suffix, randdt, pfs))
            first = recist.first_response_date(
                points, confirmation_required=confirm, confirmation_days=CONFIRM_DAYS
            )
            rows.append(_record(subject, "TTR" + suffix, randdt, _ttr(first, points, randdt)))
            if first is not None and (key, "RSP" + suffix) in responders:
                dor = progression_outcome(
                    origin=first, origin_source=("ADRS", "ADT"), baseline=True, **common
                )
                rows.append(_record(subject, "DOR" + suffix, first, dor))
    frame = pd.DataFrame(
        rows,
        columns=[
            *_KEEP,
            "PARAMCD",
            "PARAM",
            "STARTDT",
            "ADT",
            "AVAL",
            "CNSR",
            "EVNTDESC",
            "CNSDTDSC",
            "SRCDOM",
            "SRCVAR",
        ],
    )
    frame["TRTP"] = frame["TRT01P"]
    frame["TRTA"] = frame["TRT01A"]
    order = {c: i for i, c in enumerate(["PFS", "PFSINV", "OS", "DOR", "DORINV", "TTR", "TTRINV"])}
    frame = frame.assign(_o=frame["PARAMCD"].map(order))
    frame = frame.sort_values(["USUBJID", "_o"], kind="stable")
    return dataset(
        "ADTTE",
        "Time-to-Event Analysis Dataset",
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter",
        _variables(frame),
        frame,
    )


def _ttr(first: dt.date | None, points: list[tuple[dt.date, str]], randdt: dt.date) -> Outcome:
    if first is not None:
        return Outcome(first, 0, "Response (CR or PR)", None, "ADRS", "ADT")
    adequate = [d for d, c in points if c != "NE"]
    if adequate:
        return Outcome(
            adequate[-1], 5, "No response", "Last adequate tumour assessment", "ADRS", "ADT"
        )
    return Outcome(randdt, 2, "No response", "Randomization date", "ADSL", "RANDDT")


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
        c(f, "PARAMCD", "Parameter Code", key=2, derivation="See ADTTE parameters"),
        c(f, "PARAM", "Parameter", derivation="See ADTTE parameters"),
        num("AVAL", "Analysis Value", derivation="ADT - STARTDT + 1"),
        date_var(
            "STARTDT",
            "Time-to-Event Origin Date for Subject",
            derivation="RANDDT; DOR: first CR/PR date",
        ),
        date_var("ADT", "Analysis Date", derivation="Event or censoring date (FDA 2018 rules)"),
        num("CNSR", "Censor", derivation="0 event; 1-5 censoring reasons (see _tte_rules)"),
        c(f, "EVNTDESC", "Event or Censoring Description"),
        c(f, "CNSDTDSC", "Censor Date Description"),
        c(f, "SRCDOM", "Source Data", codelist=("ADSL", "ADRS")),
        c(f, "SRCVAR", "Source Variable"),
    ]
