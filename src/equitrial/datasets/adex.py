"""ADEX: exposure analysis dataset (ADaM BDS).

Per subject in ADSL: one ``DOSE`` record per administration (mg, date, cycle, the regimen it
was given under) and the summary parameters

- ``TOTDOSE`` total dose (mg), ``NINF`` number of infusions,
- ``DURD`` duration of exposure (days): first infusion to last infusion plus the interval of
  the last infusion's regimen,
- ``DI`` dose intensity (mg/week): ``TOTDOSE / (DURD / 7)``,
- ``RDI`` relative dose intensity (%): ``100 * TOTDOSE / planned dose``, the planned dose being
  that of the subject's regimen(s) over the exposure period (each period under one regimen
  plans ``dose * days / interval``).

The summary rule is :func:`equitrial.clinical.dosing.compute_exposure`, the one the exposure
service reports, so the dataset and the service agree. The summaries come twice
(``PARCAT2``): ``OVERALL``, with the subject's regimen history in ``REGIMEN`` (``"Q3W"``,
``"Q6W"``, ``"Q3W>Q6W"`` after a switch), and ``BY REGIMEN``, one set per regimen the subject
was dosed under, over the periods under it
(:func:`equitrial.clinical.dosing.exposure_periods`: a period lasts from its first infusion to
the first infusion of the next, the last to its last infusion plus its interval), so the
periods' days and planned doses add up to the overall ones. ``DOSE`` records carry the regimen
of each infusion.

References
----------
.. [1] CDISC ADaM Implementation Guide v1.3 (2021), BDS.
.. [2] Hryniuk W, Bush H. The importance of dose intensity in chemotherapy of metastatic
   breast cancer. *J Clin Oncol* 1984;2:1281-1288.
.. [3] Longo DL, Duffey PL, DeVita VT Jr, et al. The calculation of actual or received dose
   intensity: a comparison of published methods. *J Clin Oncol* 1991;9:2042-2051.
"""

from __future__ import annotations

import math
from typing import Any, Final

import pandas as pd

from equitrial.clinical.dosing import (
    DoseRecord,
    DosingRegimen,
    compute_exposure,
    exposure_periods,
    regimen_from_weeks,
    regimen_on,
)
from equitrial.datasets._bds import (
    LAST_DOSE,
    SUBJECT_VARIABLES,
    char,
    date_var,
    make_dataset,
    num,
    regimen_history,
    study_day,
    to_date,
    trtan,
    with_subjects,
)
from equitrial.datasets._meta import Dataset, StudySource, Variable

__all__ = ["PARAMETERS", "build_adex"]

PARAMETERS: Final = {
    "DOSE": ("Dose Administered (mg)", "mg"),
    "TOTDOSE": ("Total Dose Administered (mg)", "mg"),
    "NINF": ("Number of Infusions", None),
    "DURD": ("Duration of Exposure (days)", "DAYS"),
    "DI": ("Dose Intensity (mg/week)", "mg/week"),
    "RDI": ("Relative Dose Intensity (%)", "%"),
}
"""PARAMCD -> (PARAM, AVALU)."""

_ORDER: Final = {code: i + 1 for i, code in enumerate(PARAMETERS)}
_LABEL: Final = "Exposure Analysis Dataset"

VARIABLES: Final[tuple[Variable, ...]] = (
    *SUBJECT_VARIABLES,
    LAST_DOSE,
    char("PARAMCD", "Parameter Code", key=3, codelist=tuple(PARAMETERS)),
    char("PARAM", "Parameter"),
    num("PARAMN", "Parameter (N)", data_type="integer"),
    char("PARCAT1", "Parameter Category 1", codelist=("ADMINISTRATION", "SUMMARY")),
    char(
        "PARCAT2",
        "Parameter Category 2",
        codelist=("OVERALL", "BY REGIMEN"),
        derivation="Summaries: OVERALL over the whole exposure, BY REGIMEN over the periods "
        "under one regimen (clinical.dosing.exposure_periods)",
    ),
    num(
        "ASEQ",
        "Analysis Sequence Number",
        data_type="integer",
        key=4,
        derivation="1, 2, ... within subject: DOSE records by date, then the summaries",
    ),
    num(
        "AVAL",
        "Analysis Value",
        derivation="DOSE: dose given; summaries: clinical.dosing.compute_exposure",
    ),
    char("AVALU", "Analysis Value Unit"),
    date_var("ADT", "Analysis Date", derivation="DOSE: date of the infusion"),
    num(
        "ADY",
        "Analysis Relative Day",
        data_type="integer",
        derivation="ADT - TRTSDT + 1 if ADT >= TRTSDT, else ADT - TRTSDT",
    ),
    date_var("ASTDT", "Analysis Start Date", derivation="Summaries: first infusion"),
    date_var("AENDT", "Analysis End Date", derivation="Summaries: last infusion"),
    num(
        "ACYCLE",
        "Analysis Cycle",
        data_type="integer",
        origin="Collected",
        derivation="DOSE: cycle number recorded",
    ),
    char("AVISIT", "Analysis Visit", derivation="DOSE: CYCLE n; summaries: PARCAT2"),
    char(
        "REGIMEN",
        "Dosing Regimen",
        derivation="DOSE: regimen of the infusion (recorded, else the regimen period on its "
        "date); summaries: the regimens in order joined by '>'",
    ),
    char(
        "SWITCHFL",
        "Regimen Switch Flag",
        codelist=("Y", "N"),
        derivation="Y if the subject's doses were given under more than one regimen",
    ),
    num(
        "PLANDOSE",
        "Planned Dose over Exposure (mg)",
        derivation="RDI record: dose planned by the regimen(s) over DURD",
    ),
)


def _dose_regimens(frame: pd.DataFrame, source: StudySource) -> pd.Series:
    """The recorded regimen of each dose, else the regimen period on its date, else the
    protocol's default regimen."""
    history = regimen_history(source)
    default = str(source.protocol.treatment.default_regimen)
    recorded = frame["regimen"] if "regimen" in frame else pd.Series(None, index=frame.index)
    out = []
    for subject, day, regimen in zip(frame["subject_id"], frame["date"], recorded, strict=True):
        if isinstance(regimen, str) and regimen:
            out.append(regimen)
        elif int(subject) in history:
            out.append(regimen_on(history[int(subject)], day))
        else:
            out.append(default)
    return pd.Series(out, index=frame.index, dtype=object)


def _values(total: float, infusions: int, days: int, planned: float) -> dict[str, float | None]:
    """The summary parameters of a total dose given over ``days`` against ``planned``."""
    return {
        "TOTDOSE": total,
        "NINF": float(infusions),
        "DURD": float(days),
        "DI": total / (days / 7) if days > 0 else None,
        "RDI": 100.0 * total / planned if planned > 0 else None,
    }


def _subject_summaries(
    group: pd.DataFrame, regimens: dict[str, DosingRegimen]
) -> list[dict[str, Any]]:
    """The overall and by-regimen summary records of one subject's DOSE rows."""
    records = [
        DoseRecord(day, float(mg), str(reg))
        for day, mg, reg in zip(group["date"], group["AVAL"], group["REGIMEN"], strict=True)
    ]
    exposure = compute_exposure(records, regimens)
    periods = exposure_periods(records, regimens)
    sequence = [p.regimen for p in periods]
    common = {c: group.iloc[0][c] for c in _SUBJECT_COLUMNS}
    common |= {"SWITCHFL": "Y" if len(set(sequence)) > 1 else "N", "date": pd.NaT}
    overall = _values(
        exposure.cumulative_dose_mg,
        exposure.infusions,
        exposure.duration_days,
        exposure.planned_dose_mg,
    )
    blocks = [
        ("OVERALL", ">".join(sequence) or None, overall, exposure.planned_dose_mg,
         exposure.first_dose, exposure.last_dose),
    ]  # fmt: skip
    for code in dict.fromkeys(sequence):
        mine = [p for p in periods if p.regimen == code]
        planned = math.fsum(p.planned_dose_mg for p in mine)
        values = _values(
            math.fsum(p.cumulative_dose_mg for p in mine),
            sum(p.infusions for p in mine),
            sum(p.duration_days for p in mine),
            planned,
        )
        blocks.append(("BY REGIMEN", code, values, planned, mine[0].first_dose, mine[-1].last_dose))
    out = []
    for block, (category, regimen, values, planned, first, last) in enumerate(blocks, 1):
        for param, value in values.items():
            out.append(
                common
                | {
                    "_block": block,
                    "PARAMCD": param,
                    "AVAL": value,
                    "PARCAT2": category,
                    "REGIMEN": regimen,
                    "ASTDT": first,
                    "AENDT": last,
                    "AVISIT": category,
                    "PLANDOSE": planned if param == "RDI" else None,
                }
            )
    return out


def _summaries(doses: pd.DataFrame, source: StudySource) -> pd.DataFrame:
    """The summary records of every subject: overall, then by regimen."""
    regimens = {
        r.code: regimen_from_weeks(r.code, r.dose_mg, r.interval_weeks, r.max_cycles)
        for r in source.protocol.regimens
    }
    records: list[dict[str, Any]] = []
    for _, group in doses.groupby("USUBJID", sort=True):
        records.extend(_subject_summaries(group, regimens))
    return pd.DataFrame(records)


_SUBJECT_COLUMNS: Final = (
    "STUDYID",
    "USUBJID",
    "SUBJID",
    "SITEID",
    "TRT01A",
    "SAFFL",
    "TRTSDT",
    "TRTEDT",
)


def build_adex(source: StudySource, adsl: Dataset) -> Dataset:
    """ADEX from the doses of the subjects in ADSL.

    Parameters
    ----------
    source : StudySource
        The study's records (tables ``dose`` and ``regimen_period``) and its protocol (the
        regimens' doses and intervals).
    adsl : Dataset
        ADSL, with ``STUDYID USUBJID SUBJID SITEID TRT01A TRTSDT TRTEDT SAFFL``.

    Returns
    -------
    Dataset
        Keys ``STUDYID, USUBJID, PARAMCD, ASEQ``; class ``BASIC DATA STRUCTURE``. A subject
        without any dose has no record.

    Raises
    ------
    InvalidInputError
        ADSL lacks a needed column; a dose's regimen is not one of the protocol's.

    Notes
    -----
    Relative dose intensity is received over planned dose per unit time [2]_ [3]_; a delay
    lengthens ``DURD`` and lowers ``RDI``, a missed cycle lowers ``TOTDOSE``. After a switch
    (e.g. Q3W to Q6W) each period is planned under its own regimen, from its first infusion to
    the first infusion of the next period (the last to its last infusion plus its interval).
    Doses of 0 mg (not given) are listed as ``DOSE`` records but not counted.
    """
    frame = with_subjects(source, adsl, "dose")
    if frame.empty:
        return make_dataset(
            "ADEX",
            _LABEL,
            "BASIC DATA STRUCTURE",
            "One record per subject per parameter per administration",
            VARIABLES,
            pd.DataFrame(columns=[v.name for v in VARIABLES]),
        )
    frame["AVAL"] = pd.to_numeric(frame["dose_mg"], errors="coerce").astype("float64")
    frame["REGIMEN"] = _dose_regimens(frame, source)
    frame = frame.sort_values(["USUBJID", "date", "id"], kind="mergesort").reset_index(drop=True)
    summary = _summaries(frame, source)
    frame["PARAMCD"] = "DOSE"
    frame["ACYCLE"] = pd.to_numeric(frame["cycle"], errors="coerce")
    frame["AVISIT"] = "CYCLE " + frame["ACYCLE"].map(lambda c: "" if pd.isna(c) else str(int(c)))
    switched = summary.drop_duplicates("USUBJID").set_index("USUBJID")["SWITCHFL"]
    frame["SWITCHFL"] = frame["USUBJID"].map(switched)
    frame["ASTDT"] = pd.NaT
    frame["AENDT"] = pd.NaT
    frame["PLANDOSE"] = None
    frame["PARCAT2"] = None
    frame["_block"] = 0
    columns = [
        *_SUBJECT_COLUMNS,
        "PARAMCD",
        "AVAL",
        "date",
        "ASTDT",
        "AENDT",
        "ACYCLE",
        "AVISIT",
        "REGIMEN",
        "SWITCHFL",
        "PLANDOSE",
        "PARCAT2",
        "_block",
    ]
    parts = [frame[columns].astype(object), summary.reindex(columns=columns).astype(object)]
    records = pd.concat(parts, ignore_index=True)
    records["ADT"] = to_date(records["date"].astype(object))
    records["TRTSDT"] = to_date(records["TRTSDT"].astype(object))
    records["ADY"] = study_day(records["ADT"], records["TRTSDT"])
    records["PARAMN"] = records["PARAMCD"].map(_ORDER)
    records["PARAM"] = records["PARAMCD"].map(lambda c: PARAMETERS[c][0])
    records["AVALU"] = records["PARAMCD"].map(lambda c: PARAMETERS[c][1])
    records["PARCAT1"] = records["PARAMCD"].map(
        lambda c: "ADMINISTRATION" if c == "DOSE" else "SUMMARY"
    )
    records = records.sort_values(["USUBJID", "_block", "PARAMN", "ADT"], kind="mergesort")
    records = records.reset_index(drop=True)
    records["ASEQ"] = records.groupby("USUBJID").cumcount() + 1
    records["TRTA"] = records["TRT01A"]
    records["TRTAN"] = trtan(source.protocol, records["TRTA"])
    return make_dataset(
        "ADEX",
        _LABEL,
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per administration",
        VARIABLES,
        records,
    )
