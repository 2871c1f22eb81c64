"""ADPC (serum pembrolizumab concentrations) and ADPP (trough concentrations per cycle).

ADPC: one record per PK sample of a subject in ADSL, ``PARAMCD`` ``"PEMBRO"``, with the
nominal and actual times from the first dose (``NFRLT``, ``AFRLT``) and from the reference dose
(``NRRLT``, ``ARRLT``), in hours, the concentration (``AVAL``, ug/mL), below-quantification flag
and limit (``BLQFL``, ``LLOQ``).

ADPP: one ``CTROUGH`` record per subject and cycle from 2 on: the pre-dose sample of the
cycle, drawn after the previous infusion and before the cycle's infusion (the concentration at
the end of the previous dosing interval), with the regimen of that interval.

The reference dose of a sample is the dose it is recorded against (``dose_id``), else the
subject's dose given on the sample's date. Dose times are the infusion start, else midnight of
the dose date; times are UTC.

References
----------
.. [1] CDISC ADaM Implementation Guide for Non-compartmental Analysis Input Data (ADNCA) v1.0
   (2021): ``NFRLT``, ``AFRLT``, ``NRRLT``, ``ARRLT`` (hours), ``PCTPT``, ``BLQ`` handling.
.. [2] EMA. Guideline on the investigation of bioequivalence (CPMP/EWP/QWP/1401/98 Rev. 1),
   2010, and Guideline on similar biological medicinal products containing monoclonal
   antibodies (EMA/CHMP/BMWP/403543/2010), 2012: trough concentration at steady state.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from equitrial.clinical.dosing import regimen_on
from equitrial.datasets._bds import (
    SUBJECT_VARIABLES,
    YN,
    Y,
    char,
    date_var,
    make_dataset,
    num,
    regimen_history,
    study_day,
    to_date,
    to_datetime,
    trtan,
    with_subjects,
)
from equitrial.datasets._meta import Dataset, StudySource, Variable

__all__ = ["build_adpc", "build_adpp"]

_HOUR: Final = pd.Timedelta(hours=1)

_COMMON: Final[tuple[Variable, ...]] = (*SUBJECT_VARIABLES,)

ADPC_VARIABLES: Final[tuple[Variable, ...]] = (
    *_COMMON,
    char("PARAMCD", "Parameter Code", key=3, codelist=("PEMBRO",)),
    char("PARAM", "Parameter"),
    num(
        "ASEQ",
        "Analysis Sequence Number",
        data_type="integer",
        key=4,
        derivation="1, 2, ... within subject by collection time, record id",
    ),
    num(
        "AVAL",
        "Analysis Value",
        origin="Collected",
        derivation="Concentration (ug/mL); missing when BLQ",
    ),
    char("AVALC", "Analysis Value (C)", derivation="AVAL as text, '<LLOQ' when BLQ"),
    char("AVALU", "Analysis Value Unit", codelist=("ug/mL",)),
    char("BLQFL", "Below Lower Limit of Quant Flag", codelist=YN, origin="Collected"),
    num("LLOQ", "Lower Limit of Quantitation", origin="Collected"),
    date_var("ADT", "Analysis Date", derivation="Date of collection"),
    num(
        "ADY",
        "Analysis Relative Day",
        data_type="integer",
        derivation="ADT - TRTSDT + 1 if ADT >= TRTSDT, else ADT - TRTSDT",
    ),
    char("ATM", "Analysis Time (UTC)", derivation="Time of collection, HH:MM"),
    char("AVISIT", "Analysis Visit", derivation="CYCLE n of the reference dose"),
    num("ACYCLE", "Analysis Cycle", data_type="integer", derivation="Cycle of the reference dose"),
    char(
        "PCTPT",
        "Planned Time Point Name",
        origin="Collected",
        codelist=("PRE-DOSE", "END OF INFUSION", "POST-DOSE"),
    ),
    num(
        "NRRLT",
        "Nom Rel Time from Ref Dose",
        origin="Collected",
        derivation="Planned hours from the start of the reference dose (pre-dose: 0)",
    ),
    num(
        "ARRLT",
        "Act Rel Time from Ref Dose",
        derivation="Hours from the start of the reference dose to collection",
    ),
    num(
        "NFRLT",
        "Nom Rel Time from First Dose",
        derivation="Planned day of the reference dose's visit minus TRTSDT, in hours, + NRRLT",
    ),
    num(
        "AFRLT",
        "Act Rel Time from First Dose",
        derivation="Hours from the start of the first dose to collection",
    ),
    char("RRLTU", "Rel Time Unit", codelist=("HOURS",)),
    char("REGIMEN", "Dosing Regimen", derivation="Regimen of the reference dose"),
)

ADPP_VARIABLES: Final[tuple[Variable, ...]] = (
    *_COMMON,
    char("PARAMCD", "Parameter Code", key=3, codelist=("CTROUGH",)),
    char("PARAM", "Parameter"),
    num(
        "ACYCLE",
        "Analysis Cycle",
        data_type="integer",
        key=4,
        derivation="Cycle whose pre-dose sample gives the trough",
    ),
    char("AVISIT", "Analysis Visit", derivation="CYCLE n"),
    num("AVAL", "Analysis Value", derivation="ADPC.AVAL of the pre-dose sample"),
    char("AVALC", "Analysis Value (C)", derivation="ADPC.AVALC of the pre-dose sample"),
    char("AVALU", "Analysis Value Unit", codelist=("ug/mL",)),
    char("BLQFL", "Below Lower Limit of Quant Flag", codelist=YN),
    date_var("ADT", "Analysis Date", derivation="Date of the pre-dose sample"),
    num(
        "ARRLT",
        "Hours since Previous Dose",
        derivation="Hours from the start of the previous infusion to the sample",
    ),
    char(
        "REGIMEN",
        "Regimen of the Dosing Interval",
        derivation="Regimen of the previous infusion (the interval the trough ends)",
    ),
)


_DOSE_COLUMNS: Final = (
    "dose_id",
    "subject_id",
    "dose_at",
    "day",
    "cycle",
    "regimen",
    "dose_visit",
    "given",
    "timed",
)


def _dose_regimen(
    history: dict[int, list[tuple[Any, str]]], subject: int, day: Any, recorded: Any
) -> str | None:
    """The recorded regimen, else the subject's regimen period on the dose's date."""
    if isinstance(recorded, str) and recorded:
        return recorded
    return regimen_on(history[subject], day) if subject in history else None


def _doses(source: StudySource) -> pd.DataFrame:
    """One row per dose: when it started (infusion start, else midnight of its date, UTC),
    whether that time is known, its cycle, regimen, visit and whether it was given."""
    doses = source.frame("dose")
    if doses.empty:
        return pd.DataFrame(columns=list(_DOSE_COLUMNS))
    none = pd.Series(None, index=doses.index, dtype=object)
    start = doses["infusion_start"] if "infusion_start" in doses else none
    day = to_date(doses["date"].astype(object))
    at = to_datetime(start.astype(object))
    history = regimen_history(source)
    recorded = doses["regimen"] if "regimen" in doses else none
    regimens = [
        _dose_regimen(history, int(s), d, r)
        for s, d, r in zip(doses["subject_id"], doses["date"], recorded, strict=True)
    ]
    return pd.DataFrame(
        {
            "dose_id": doses["id"],
            "subject_id": doses["subject_id"],
            "dose_at": at.where(at.notna(), day),
            "day": day,
            "cycle": pd.to_numeric(doses["cycle"], errors="coerce"),
            "regimen": regimens,
            "dose_visit": doses["visit_id"] if "visit_id" in doses else none,
            "given": pd.to_numeric(doses["dose_mg"], errors="coerce") > 0,
            "timed": at.notna(),
        }
    )


def _reference_dose(frame: pd.DataFrame, doses: pd.DataFrame) -> pd.DataFrame:
    """Attach to each sample its reference dose: ``dose_id``, else the dose on its date."""
    by_id = doses.set_index("dose_id")
    linked = frame["dose_id"] if "dose_id" in frame else pd.Series(np.nan, index=frame.index)
    same_day = doses.drop_duplicates(["subject_id", "day"]).set_index(["subject_id", "day"])[
        "dose_id"
    ]
    keys = pd.MultiIndex.from_arrays([frame["subject_id"], frame["ADT"]])
    on_day = pd.Series(same_day.reindex(keys).to_numpy(), index=frame.index)
    reference = linked.where(linked.notna(), on_day)
    for column in ("dose_at", "cycle", "regimen", "dose_visit"):
        frame[column] = reference.map(by_id[column]) if len(by_id) else np.nan
    return frame


def _first_dose(doses: pd.DataFrame) -> pd.Series:
    given = doses[doses["given"]]
    return given.groupby("subject_id")["dose_at"].min()


def build_adpc(source: StudySource, adsl: Dataset) -> Dataset:
    """ADPC from the PK samples of the subjects in ADSL.

    Parameters
    ----------
    source : StudySource
        The study's records (tables ``pk_sample``, ``dose``, ``visit``, ``regimen_period``).
    adsl : Dataset
        ADSL, with ``STUDYID USUBJID SUBJID SITEID TRT01A TRTSDT SAFFL``.

    Returns
    -------
    Dataset
        One record per sample, keys ``STUDYID, USUBJID, PARAMCD, ASEQ``; class
        ``BASIC DATA STRUCTURE``.

    Raises
    ------
    InvalidInputError
        ADSL lacks a needed column.

    Notes
    -----
    A result below the lower limit of quantification has no ``AVAL`` (``AVALC`` ``"<LLOQ"``,
    ``BLQFL`` ``"Y"``): how it enters a summary (zero, LLOQ/2, missing) is the analysis'
    choice [1]_. ``NFRLT`` uses the planned date of the reference dose's visit (its actual date
    when it has no plan), so a delayed cycle keeps its nominal time.
    """
    frame = _concentrations(source, adsl, _doses(source))
    return make_dataset(
        "ADPC",
        "Pharmacokinetic Concentrations Analysis",
        "BASIC DATA STRUCTURE",
        "One record per subject per sample",
        ADPC_VARIABLES,
        frame,
    )


def _concentrations(source: StudySource, adsl: Dataset, doses: pd.DataFrame) -> pd.DataFrame:
    """The working frame of ADPC (its variables and the collection time ``collected``)."""
    frame = with_subjects(source, adsl, "pk_sample")
    if frame.empty:
        return pd.DataFrame(columns=[*(v.name for v in ADPC_VARIABLES), "collected"])
    frame["collected"] = to_datetime(frame["collected_at"].astype(object))
    frame["ADT"] = frame["collected"].dt.normalize()
    frame = _reference_dose(frame, doses)
    frame = frame.sort_values(["USUBJID", "collected", "id"], kind="mergesort").reset_index(
        drop=True
    )
    frame["ASEQ"] = frame.groupby("USUBJID").cumcount() + 1
    frame["PARAMCD"] = "PEMBRO"
    frame["PARAM"] = "Pembrolizumab Serum Concentration (ug/mL)"
    blq = frame["blq"].fillna(False).astype(bool)
    frame["AVAL"] = pd.to_numeric(frame["concentration"], errors="coerce").where(~blq)
    frame["AVALC"] = frame["AVAL"].map(lambda v: None if pd.isna(v) else f"{v:g}")
    frame.loc[blq, "AVALC"] = "<LLOQ"
    frame["AVALU"] = "ug/mL"
    frame["BLQFL"] = blq.map({True: Y, False: None})
    frame["LLOQ"] = pd.to_numeric(frame["lloq"], errors="coerce")
    frame["ADY"] = study_day(frame["ADT"], frame["TRTSDT"])
    frame["ATM"] = frame["collected"].dt.strftime("%H:%M")
    frame["ACYCLE"] = pd.to_numeric(frame["cycle"], errors="coerce")
    frame["AVISIT"] = frame["ACYCLE"].map(lambda c: None if pd.isna(c) else f"CYCLE {int(c)}")
    frame["PCTPT"] = frame["timing"]
    frame["NRRLT"] = pd.to_numeric(frame["nominal_hours"], errors="coerce")
    dose_at = pd.to_datetime(frame["dose_at"])
    frame["ARRLT"] = (frame["collected"] - dose_at) / _HOUR
    first = frame["subject_id"].map(_first_dose(doses))
    frame["AFRLT"] = (frame["collected"] - pd.to_datetime(first)) / _HOUR
    visits = source.frame("visit")
    planned = pd.Series(dtype="datetime64[ns]")
    if not visits.empty:
        day = visits["planned_date"].where(visits["planned_date"].notna(), visits["actual_date"])
        planned = pd.Series(to_date(day.astype(object)).to_numpy(), index=visits["id"])
    nominal_day = (
        frame["dose_visit"].map(planned) if len(planned) else pd.Series(pd.NaT, frame.index)
    )
    nominal_day = pd.to_datetime(nominal_day).where(lambda d: d.notna(), frame["ADT"])
    frame["NFRLT"] = (nominal_day - frame["TRTSDT"]).dt.days * 24.0 + frame["NRRLT"]
    frame["RRLTU"] = "HOURS"
    frame["REGIMEN"] = frame["regimen"]
    frame["TRTA"] = frame["TRT01A"]
    frame["TRTAN"] = trtan(source.protocol, frame["TRTA"])
    return frame


def build_adpp(source: StudySource, adsl: Dataset) -> Dataset:
    """ADPP: the trough concentration (Ctrough) of each subject and cycle from 2 on.

    Parameters
    ----------
    source : StudySource
        As for :func:`build_adpc`.
    adsl : Dataset
        As for :func:`build_adpc`.

    Returns
    -------
    Dataset
        One ``CTROUGH`` record per subject and cycle, keys ``STUDYID, USUBJID, PARAMCD,
        ACYCLE``; class ``BASIC DATA STRUCTURE``.

    Notes
    -----
    The trough of cycle ``n`` is the last ``PRE-DOSE`` sample collected after the start of
    the previous infusion and before the start of cycle ``n``'s infusion; samples at other time
    points (end of infusion, post-dose) never are. Cycle 1 has no trough (no earlier dose).
    ``REGIMEN`` is the regimen of the previous infusion, the interval the trough closes, so
    Ctrough can be summarized by Q3W and Q6W [2]_.
    """
    doses = _doses(source)
    adpc = _concentrations(source, adsl, doses)
    empty = pd.DataFrame(columns=[v.name for v in ADPP_VARIABLES])
    if adpc.empty or doses.empty:
        return make_dataset(
            "ADPP",
            "Pharmacokinetic Parameters Analysis",
            "BASIC DATA STRUCTURE",
            "One record per subject per parameter per cycle",
            ADPP_VARIABLES,
            empty,
        )
    keep = [*(v.name for v in ADPC_VARIABLES), "collected"]
    pre = adpc.loc[(adpc["PCTPT"] == "PRE-DOSE") & adpc["ACYCLE"].notna(), keep].copy()
    codes = source.frame("subject").set_index("id")["subject_code"]
    given = doses[doses["given"]].copy()
    given["USUBJID"] = str(source.study["code"]) + "-" + given["subject_id"].map(codes)
    given = given.sort_values(["USUBJID", "dose_at", "dose_id"], kind="mergesort")
    given["prev_at"] = given.groupby("USUBJID")["dose_at"].shift(1)
    given["prev_regimen"] = given.groupby("USUBJID")["regimen"].shift(1)
    columns = ["USUBJID", "cycle", "dose_at", "day", "timed", "prev_at", "prev_regimen"]
    merged = pre.merge(
        given[columns], left_on=["USUBJID", "ACYCLE"], right_on=["USUBJID", "cycle"], how="inner"
    )
    before = merged["collected"] <= merged["dose_at"]
    # a dose without an infusion time: a pre-dose sample of its day is taken as before it
    before = before.where(merged["timed"].astype(bool), merged["ADT"] <= merged["day"])
    inside = (merged["collected"] > merged["prev_at"]) & before
    merged = merged[inside].sort_values(["USUBJID", "ACYCLE", "collected"], kind="mergesort")
    trough = merged.groupby(["USUBJID", "ACYCLE"], sort=False).tail(1).copy()
    trough["PARAMCD"] = "CTROUGH"
    trough["PARAM"] = "Trough Serum Concentration (ug/mL)"
    trough["ARRLT"] = (trough["collected"] - trough["prev_at"]) / _HOUR
    trough["REGIMEN"] = trough["prev_regimen"]
    trough = trough.sort_values(["USUBJID", "ACYCLE"], kind="mergesort")
    return make_dataset(
        "ADPP",
        "Pharmacokinetic Parameters Analysis",
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per cycle",
        ADPP_VARIABLES,
        trough,
    )
