"""ADSL derivations (admiral ``derive_*`` contract: a frame in, the frame with new columns out).

Each function takes the ADSL frame under construction (one row per randomized subject, the
store's subject id in column ``id``) and the :class:`StudySource`, and returns a new frame.
Rules: see :mod:`equitrial.datasets.adsl`.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from equitrial.clinical._recist_records import MEASURABLE_LD_MM, MEASURABLE_NODE_MM
from equitrial.datasets._frames import as_date, table
from equitrial.datasets._meta import StudySource

__all__ = [
    "derive_disposition",
    "derive_exposure",
    "derive_last_alive",
    "derive_populations",
]


def _yn(mask: pd.Series) -> pd.Series:
    return mask.map({True: "Y", False: "N"})


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].map(as_date)


def derive_exposure(adsl: pd.DataFrame, source: StudySource) -> pd.DataFrame:
    """RANDDT, TRTSDT, TRTEDT, TRTDURD, REGIMEN, REGSWFL, SAFFL, ACTARM, TRT01A, TRT01AN."""
    out = adsl.copy()
    periods = table(source, "regimen_period", ["subject_id", "regimen", "start_date"])
    periods = periods.assign(start=_dates(periods, "start_date")).dropna(subset=["start"])
    periods = periods.sort_values(["subject_id", "start"], kind="stable")
    first = periods.groupby("subject_id").first()
    count = periods.groupby("subject_id")["regimen"].size()
    out["RANDDT"] = out["id"].map(first["start"])
    out["REGIMEN"] = out["id"].map(first["regimen"])
    out["REGSWFL"] = _yn(out["id"].map(count).fillna(0) > 1)
    doses = table(source, "dose", ["subject_id", "date", "dose_mg"])
    doses = doses.assign(day=_dates(doses, "date"))
    doses = doses[(pd.to_numeric(doses["dose_mg"], errors="coerce") > 0) & doses["day"].notna()]
    span = doses.groupby("subject_id")["day"].agg(["min", "max"])
    out["TRTSDT"] = out["id"].map(span["min"])
    out["TRTEDT"] = out["id"].map(span["max"])
    dosed = out["TRTSDT"].notna()
    out["TRTDURD"] = [
        (e - s).days + 1 if isinstance(s, dt.date) and isinstance(e, dt.date) else float("nan")
        for s, e in zip(out["TRTSDT"], out["TRTEDT"], strict=True)
    ]
    out["SAFFL"] = _yn(dosed)
    out["ACTARM"] = out["ARM"].where(dosed, "Not Treated")
    out["TRT01A"] = out["TRT01P"].where(dosed, None)
    out["TRT01AN"] = out["TRT01PN"].where(dosed)
    return out


def _dose_deviation(source: StudySource) -> set[int]:
    """Subjects with a dose outside tolerance of its regimen's dose, or an unknown regimen."""
    treatment = source.protocol.treatment
    mg = {r.code: float(r.dose_mg) for r in treatment.regimens}
    tolerance = float(treatment.dose_tolerance_percent) / 100.0
    doses = table(source, "dose", ["subject_id", "date", "dose_mg", "regimen"])
    if doses.empty:
        return set()
    periods = table(source, "regimen_period", ["subject_id", "regimen", "start_date"])
    periods = periods.assign(start=pd.to_datetime(periods["start_date"].map(as_date)))
    periods = periods.dropna(subset=["start"]).sort_values("start")
    doses = doses.assign(day=pd.to_datetime(doses["date"].map(as_date))).dropna(subset=["day"])
    doses = doses.sort_values("day")
    doses = pd.merge_asof(
        doses,
        periods[["subject_id", "start", "regimen"]].rename(columns={"regimen": "period_regimen"}),
        left_on="day",
        right_on="start",
        by="subject_id",
    )
    regimen = doses["regimen"].where(doses["regimen"].notna(), doses["period_regimen"])
    expected = regimen.map(mg)
    dose = pd.to_numeric(doses["dose_mg"], errors="coerce")
    off = expected.isna() | ((dose - expected).abs() > tolerance * expected + 1e-9)
    return {int(s) for s in doses.loc[off, "subject_id"]}


def _checklist_failed(raw: object, protocol: object) -> bool:
    """Whether the eligibility checklist shows an inclusion not met or an exclusion present."""
    if not isinstance(raw, str) or not raw:
        return False
    answers = json.loads(raw)
    for criterion in getattr(protocol, "eligibility", ()):
        answer = answers.get(criterion.id)
        if answer is None:
            continue
        if (criterion.kind == "inclusion") != bool(answer):
            return True
    return False


def derive_populations(adsl: pd.DataFrame, source: StudySource) -> pd.DataFrame:
    """PPROTFL, RESPEVFL and PKFL (needs SAFFL and TRTSDT/RANDDT)."""
    out = adsl.copy()
    subjects = table(source, "subject", ["id", "eligible", "eligibility_json"]).set_index("id")
    confirmed = out["id"].map(subjects["eligible"]).map(lambda v: v is True or v == 1)
    failed = (
        out["id"]
        .map(subjects["eligibility_json"])
        .map(lambda raw: _checklist_failed(raw, source.protocol))
    )
    eligible = confirmed & ~failed.astype(bool)
    safe = out["SAFFL"] == "Y"
    deviating = out["id"].isin(_dose_deviation(source))
    out["PPROTFL"] = _yn(eligible & safe & ~deviating & (out["ITTFL"] == "Y"))
    lesions = table(source, "lesion", ["id", "subject_id", "role", "reader", "nodal"])
    lesions = lesions[(lesions["role"] == "target") & (lesions["reader"] == "central")]
    sizes = table(source, "lesion_measurement", ["lesion_id", "assessment_date", "diameter_mm"])
    joined = sizes.merge(lesions, left_on="lesion_id", right_on="id")
    # RECIST 1.1 section 3.1.1 (Eisenhauer 2009): measurable = longest diameter >= 10 mm, a
    # lymph node's short axis >= 15 mm
    floor = joined["nodal"].map(lambda n: MEASURABLE_NODE_MM if n else MEASURABLE_LD_MM)
    joined = joined[pd.to_numeric(joined["diameter_mm"], errors="coerce") >= floor]
    anchor = out.set_index("id")["TRTSDT"].where(out.set_index("id")["TRTSDT"].notna())
    anchor = anchor.fillna(out.set_index("id")["RANDDT"])
    day = joined["assessment_date"].map(as_date)
    limit = joined["subject_id"].map(anchor)
    baseline = [
        d is not None and isinstance(lim, dt.date) and d <= lim
        for d, lim in zip(day, limit, strict=True)
    ]
    measurable = set(joined.loc[baseline, "subject_id"]) if len(joined) else set()
    out["RESPEVFL"] = _yn(safe & out["id"].isin(measurable))
    pk = table(source, "pk_sample", ["subject_id", "concentration"])
    with_conc = pk.loc[pd.to_numeric(pk["concentration"], errors="coerce").notna(), "subject_id"]
    out["PKFL"] = _yn(out["id"].isin(set(with_conc)))
    return out


def derive_disposition(adsl: pd.DataFrame, source: StudySource) -> pd.DataFrame:
    """EOTSTT, DCTREAS, EOSSTT, DCSREAS, EOSDT, DTHFL, DTHDT, DTHCAUS."""
    out = adsl.copy()
    columns = ["subject_id", "scope", "decod", "disposition_status", "date"]
    ds = table(source, "disposition", columns)
    ds = ds.assign(day=_dates(ds, "date"))
    for scope, status, reason in (
        ("END OF TREATMENT", "EOTSTT", "DCTREAS"),
        ("END OF STUDY", "EOSSTT", "DCSREAS"),
    ):
        rows = ds[ds["scope"] == scope].drop_duplicates("subject_id").set_index("subject_id")
        out[status] = out["id"].map(rows["disposition_status"]).fillna("ONGOING")
        why = out["id"].map(rows["decod"])
        out[reason] = why.where(out[status] == "DISCONTINUED", None)
        if scope == "END OF STUDY":
            out["EOSDT"] = out["id"].map(rows["day"])
    death = table(source, "death", ["subject_id", "date", "cause", "cause_text"])
    death = death.drop_duplicates("subject_id").set_index("subject_id")
    out["DTHDT"] = out["id"].map(death["date"].map(as_date))
    out["DTHFL"] = out["DTHDT"].map(lambda d: "Y" if isinstance(d, dt.date) else None)
    cause = death["cause"].where(
        ~((death["cause"] == "OTHER") & death["cause_text"].notna()), death["cause_text"]
    )
    out["DTHCAUS"] = out["id"].map(cause)
    return out


_ALIVE_SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("visit", ("actual_date",)),
    ("dose", ("date",)),
    ("tumour_assessment", ("assessment_date",)),
    ("adverse_event", ("start_date", "end_date")),
    ("lab_result", ("collected_at",)),
    ("pk_sample", ("collected_at",)),
    ("ada_sample", ("collected_at",)),
    ("questionnaire_response", ("date",)),
    ("con_med", ("start", "end")),
    ("subsequent_therapy", ("start_date",)),
    ("disposition", ("date",)),
    ("regimen_period", ("start_date",)),
)


def derive_last_alive(adsl: pd.DataFrame, source: StudySource) -> pd.DataFrame:
    """LSTALVDT: the date of death, else the latest record date (at most the cut-off).

    A record dated after a data cut-off cannot be in a cut snapshot; with everything in the
    store (``cutoff`` None) no cap applies.
    """
    out = adsl.copy()
    ids: list[object] = []
    days: list[object] = []
    for name, columns in _ALIVE_SOURCES:
        rows = table(source, name, ["subject_id", *columns])
        for column in columns:
            ids.extend(rows["subject_id"])
            days.extend(rows[column].map(as_date))
    dates = pd.DataFrame({"subject_id": ids, "day": pd.to_datetime(pd.Series(days, dtype=object))})
    dates = dates.dropna(subset=["day"])
    if source.cutoff is not None:
        dates = dates[dates["day"] <= pd.Timestamp(source.cutoff)]
    latest = dates.groupby("subject_id")["day"].max().map(lambda t: t.date())
    alive = out["id"].map(latest)
    out["LSTALVDT"] = out["DTHDT"].where(out["DTHDT"].notna(), alive)
    return out
