"""ADTR, tumour results analysis dataset (BDS; ADaMIG 1.3 section 3.3, admiralonco pattern).

The sum of diameters of the target lesions at every tumour assessment, per reader: what the
waterfall (best percent change from baseline) and spider (percent change over time) plots of
the report need. Parameters (the reader is part of the parameter, as in ADRS, so PARAM <->
PARAMCD is one to one, ADaMIG 1.3 section 3.3.4; the reader is also in PARCAT2):

==========  ==================================================================
SDIAM       Target lesions sum of diameters (mm) by Independent Central Review
SDIAMINV    Target lesions sum of diameters (mm) by Investigator
==========  ==================================================================

Rules.

- Records: one per ITT subject (ADSL ITTFL = "Y"), reader and assessment date; the dates of an
  assessment are those of the reader's lesion measurements and tumour assessments. Subjects
  without any are not in ADTR.
- AVAL: the sum over the reader's target lesions of the diameter entering RECIST 1.1's sum
  (longest diameter of a non-nodal lesion, short axis of a lymph node, as recorded; a lesion
  "too small to measure" 5 mm, "disappeared" or "merged" 0 mm), computed by
  :meth:`equitrial.clinical.recist.LesionMeasurement.value_mm` and the exact decimal sum of
  :mod:`equitrial.clinical.recist` (RECIST 1.1 section 4.3.2 / appendix I). A target lesion
  not assessed (no record, or status "not assessed") makes the sum not evaluable: AVAL missing.
- Baseline (ABLFL = "Y", AVISIT "BASELINE"): the last assessment with a sum on or before the
  first dose (TRTSDT; RANDDT for a subject never dosed), the anchor ADSL's RESPEVFL uses;
  BASE is its sum on every record of the subject and parameter.
- CHG = AVAL - BASE and PCHG = 100 x CHG / BASE on the baseline and later records (PCHG
  missing when BASE is 0 or missing); NADIR on a post-baseline record: the smallest sum of the
  baseline and the earlier evaluable post-baseline assessments, what RECIST 1.1 judges
  progression against (section 4.3.1).
- ANL01FL = "Y": a post-baseline record with an evaluable sum, dated on or before the start of
  the first new anticancer therapy (the rule of ADRS ANL01FL); the records of the waterfall.
- ADY = ADT - RANDDT + 1 on or after RANDDT, ADT - RANDDT before it (no day 0); AVISIT the
  planned scan week whose window holds the day (as ADRS), "UNSCHEDULED" otherwise.

References
----------
.. [1] Eisenhauer EA, et al. New response evaluation criteria in solid tumours: revised RECIST
   guideline (version 1.1). Eur J Cancer 2009;45:228-247, sections 4.3.1-4.3.2, appendix I.
.. [2] CDISC ADaMIG v1.3, section 3.3 (BDS: ABLFL, BASE, CHG, PCHG).
.. [3] pharmaverse admiralonco, ``ad_adtr.R`` template (PARAMCD SDIAM, NADIR, ANL01FL).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Final, cast

import pandas as pd

from equitrial.clinical import recist
from equitrial.clinical._recist_timepoint import exact_sum_mm
from equitrial.clinical.calendar import study_day
from equitrial.datasets._adrs_params import READERS
from equitrial.datasets._bds import YN, Y, char, date_var, make_dataset, num, trtan
from equitrial.datasets._frames import as_date, table
from equitrial.datasets._imaging import imaging_schedule, visit_name
from equitrial.datasets._meta import Dataset, StudySource, Variable
from equitrial.datasets.adrs import new_therapy_start
from equitrial.datasets.adsl import usubjid
from equitrial.errors import InvalidInputError

__all__ = ["PARAMCD", "build_adtr", "target_sums"]

PARAMCD: Final = "SDIAM"
"""Parameter code of the central reader; the investigator's adds ``INV`` (``SDIAMINV``)."""
_ADSL_COLUMNS: Final = ("STUDYID", "USUBJID", "SUBJID", "SITEID", "TRT01P", "ITTFL", "RANDDT")
Key = tuple[str, str]
"""(USUBJID, reader)."""


def target_sums(source: StudySource) -> dict[Key, dict[dt.date, float | None]]:
    """Sum of target lesion diameters (mm) per subject, reader and assessment date.

    Parameters
    ----------
    source : StudySource
        Tables ``subject``, ``lesion``, ``lesion_measurement`` and ``tumour_assessment``.

    Returns
    -------
    dict
        ``(USUBJID, reader) -> {assessment date: sum or None}``: None when a target lesion was
        not assessed that day, or the reader has no target lesion.

    Raises
    ------
    InvalidInputError
        A measurement the RECIST 1.1 records reject (unknown reader or status, a negative
        diameter, "measured" without a diameter).
    """
    study = str(source.study["code"])
    codes = table(source, "subject", ["id", "subject_code"]).set_index("id")["subject_code"]
    lesions = table(source, "lesion", ["id", "subject_id", "reader", "role", "lesion_code"])
    measures = table(
        source,
        "lesion_measurement",
        ["lesion_id", "assessment_date", "reader", "diameter_mm", "measurement_status"],
    )
    owner = lesions.set_index("id")
    dates: dict[Key, set[dt.date]] = defaultdict(set)
    values: dict[tuple[int, dt.date], float | None] = {}
    for lid, day, reader, diameter, status in zip(
        measures["lesion_id"],
        measures["assessment_date"].map(as_date),
        measures["reader"],
        measures["diameter_mm"],
        measures["measurement_status"],
        strict=True,
    ):
        if lid not in owner.index or day is None or owner.at[lid, "reader"] != reader:
            continue
        dates[(_usubjid(study, codes, owner.at[lid, "subject_id"]), str(reader))].add(day)
        if owner.at[lid, "role"] == "target":
            values[(lid, day)] = _value_mm(lid, day, reader, status, diameter)
    ta = table(source, "tumour_assessment", ["subject_id", "assessment_date", "reader"])
    for sid, day, reader in zip(
        ta["subject_id"], ta["assessment_date"].map(as_date), ta["reader"], strict=True
    ):
        if day is not None and sid in codes.index:
            dates[(_usubjid(study, codes, sid), str(reader))].add(day)
    targets: dict[Key, list[int]] = defaultdict(list)
    for lid, sid, reader, role in zip(
        lesions["id"], lesions["subject_id"], lesions["reader"], lesions["role"], strict=True
    ):
        if role == "target" and sid in codes.index:
            targets[(_usubjid(study, codes, sid), str(reader))].append(lid)
    return {
        key: {day: _sum([values.get((lid, day)) for lid in targets.get(key, [])]) for day in days}
        for key, days in dates.items()
    }


def _usubjid(study: str, codes: pd.Series, sid: Any) -> str:
    return usubjid(study, str(codes.get(sid)))


def _value_mm(lid: Any, day: dt.date, reader: Any, status: Any, diameter: Any) -> float | None:
    """The diameter of one target lesion entering the sum (RECIST 1.1 records' rule)."""
    size = None if diameter is None or pd.isna(diameter) else float(diameter)
    record = recist.LesionMeasurement(
        str(lid),
        day,
        cast(Any, reader),
        cast(Any, status if isinstance(status, str) else "measured"),
        size,
    )
    return record.value_mm()


def _sum(values: list[float | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None
    return exact_sum_mm([v for v in values if v is not None])


def build_adtr(source: StudySource, adsl: Dataset) -> Dataset:
    """ADTR: target lesion sum of diameters per ITT subject, reader and assessment.

    Parameters
    ----------
    source : StudySource
    adsl : Dataset
        ADSL built from the same source (:func:`equitrial.datasets.adsl.build_adsl`).

    Returns
    -------
    Dataset
        ``ADTR``, BASIC DATA STRUCTURE, keys USUBJID, PARAMCD, ADT; parameters and rules of the
        module docstring.

    Raises
    ------
    InvalidInputError
        ADSL lacks a column ADTR needs; a lesion measurement RECIST 1.1 rejects.
    """
    base = adsl.frame
    missing = [c for c in (*_ADSL_COLUMNS, "TRTSDT") if c not in base.columns]
    if missing:
        raise InvalidInputError(f"ADSL lacks {', '.join(missing)}", field="adsl")
    itt = base[base["ITTFL"] == Y]
    sums = target_sums(source)
    therapy = new_therapy_start(source)
    schedule = imaging_schedule(source.protocol)
    rows: list[dict[str, Any]] = []
    for subject in itt.to_dict("records"):
        randdt, trtsdt = as_date(subject["RANDDT"]), as_date(subject["TRTSDT"])
        anchor = trtsdt or randdt
        for reader, (suffix, label) in READERS.items():
            series = sums.get((str(subject["USUBJID"]), reader))
            if not series:
                continue
            info = {k: subject[k] for k in _ADSL_COLUMNS}
            info.update(
                TRTP=subject["TRT01P"],
                PARAMCD=PARAMCD + suffix,
                PARAM=f"Target Lesions Sum of Diameters (mm) by {label}",
                PARCAT2=label,
            )
            records = _records(sorted(series.items()), anchor, therapy.get(info["USUBJID"]))
            for record in records:
                offset = None if randdt is None else (record["ADT"] - randdt).days
                record["ADY"] = None if randdt is None else study_day(record["ADT"], randdt)
                if record["ABLFL"] == Y:
                    record["AVISIT"] = "BASELINE"
                elif offset is not None:
                    record["AVISIT"] = visit_name(offset, schedule)
                rows.append({**info, **record})
    frame = pd.DataFrame(rows, columns=[v.name for v in _VARIABLES])
    frame["TRTPN"] = trtan(source.protocol, frame["TRTP"])
    frame["_o"] = frame["PARAMCD"].map(lambda c: str(c).endswith("INV"))
    frame = frame.sort_values(["USUBJID", "_o", "ADT"], kind="mergesort")
    return make_dataset(
        "ADTR",
        "Tumor Results Analysis Dataset",
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per analysis date",
        _VARIABLES,
        frame,
    )


def _records(
    series: Iterable[tuple[dt.date, float | None]], anchor: dt.date | None, cap: dt.date | None
) -> list[dict[str, Any]]:
    """ADT, AVAL, ABLFL, BASE, CHG, PCHG, NADIR, ANL01FL of one subject's series (date order)."""
    points = list(series)
    candidates = [
        k for k, (d, v) in enumerate(points) if anchor is not None and d <= anchor and v is not None
    ]
    at = candidates[-1] if candidates else None
    baseline = None if at is None else points[at][1]
    out: list[dict[str, Any]] = []
    nadir = baseline
    for k, (day, value) in enumerate(points):
        record: dict[str, Any] = {"ADT": day, "AVAL": value, "BASE": baseline, "AVISIT": None}
        record["ABLFL"] = Y if k == at else None
        since = at is not None and k >= at
        change = value - baseline if since and value is not None and baseline is not None else None
        record["CHG"] = change
        record["PCHG"] = 100.0 * change / baseline if change is not None and baseline else None
        after = at is not None and k > at
        record["NADIR"] = nadir if after else None
        used = after and value is not None and (cap is None or day <= cap)
        record["ANL01FL"] = Y if used else None
        if after and value is not None and nadir is not None:
            nadir = min(nadir, value)
        out.append(record)
    return out


_ANL: Final = (
    "Y on a post-baseline record with an evaluable sum, on or before the start of the first "
    "new anticancer therapy"
)
_VARIABLES: Final[tuple[Variable, ...]] = (
    char("STUDYID", "Study Identifier", origin="Predecessor"),
    char("USUBJID", "Unique Subject Identifier", origin="Predecessor", key=1),
    char("SUBJID", "Subject Identifier for the Study", origin="Predecessor"),
    char("SITEID", "Study Site Identifier", origin="Predecessor"),
    char("ITTFL", "Intent-To-Treat Population Flag", origin="Predecessor", codelist=("Y", "N")),
    char("TRTP", "Planned Treatment", origin="Predecessor", derivation="ADSL.TRT01P"),
    num(
        "TRTPN",
        "Planned Treatment (N)",
        data_type="integer",
        derivation="Position of TRTP in the protocol's arms",
    ),
    date_var("RANDDT", "Date of Randomization", origin="Predecessor"),
    char("PARAMCD", "Parameter Code", key=2, derivation="SDIAM + reader suffix (INV)"),
    char("PARAM", "Parameter", derivation="See ADTR parameters"),
    char("PARCAT2", "Parameter Category 2 (Reader)", origin="Assigned"),
    char("AVISIT", "Analysis Visit", derivation="BASELINE, or planned scan week in its window"),
    Variable("ADT", "Analysis Date", "Num", 8, "date", "Derived", "Assessment date", key=3),
    num("ADY", "Analysis Relative Day", data_type="integer", derivation="ADT - RANDDT (+1 >= 0)"),
    num("AVAL", "Analysis Value", derivation="Sum of target diameters (mm), RECIST 1.1"),
    char("ABLFL", "Baseline Record Flag", codelist=YN, derivation="Last sum on or before TRTSDT"),
    num("BASE", "Baseline Value", derivation="AVAL of the ABLFL record"),
    num("CHG", "Change from Baseline", derivation="AVAL - BASE"),
    num("PCHG", "Percent Change from Baseline", derivation="100 * CHG / BASE; missing if BASE 0"),
    num("NADIR", "Nadir Sum of Diameters", derivation="Min of BASE and earlier sums"),
    char("ANL01FL", "Analysis Flag 01", codelist=YN, derivation=_ANL),
)
