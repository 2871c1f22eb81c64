"""DM (Demographics), the special-purpose domain: one record per subject screened, and its
supplemental qualifiers SUPPDM (site type and region).

References
----------
.. [1] CDISC SDTMIG v3.4, section 5.2 (DM): variables, the reference dates ``RFSTDTC`` ...
   ``RFPENDTC``, ``ARMNRS`` ("SCREEN FAILURE", "NOT ASSIGNED", "ASSIGNED, NOT TREATED")
   and the rule that ``ARMCD``/``ARM``/``ACTARMCD``/``ACTARM`` are null when ``ARMNRS`` is
   populated for a subject not assigned.
.. [2] CDISC CT: SEX (C66731), RACE (C74457), ETHNIC (C66790), AGEU (C66781), ARMNULRS
   (C142179); ISO 3166-1 alpha-3 for ``COUNTRY``.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from equitrial.cdisc.sdtm._common import (
    Subjects,
    assemble,
    char,
    identifiers,
    iso_date,
    num,
    table,
    to_day,
)
from equitrial.clinical.terminology import ETHNICITIES, RACES, SEXES
from equitrial.datasets import Dataset, StudySource

__all__ = ["ARM_NULL_REASONS", "build_dm", "build_suppdm"]

ARM_NULL_REASONS: Final = ("SCREEN FAILURE", "NOT ASSIGNED", "ASSIGNED, NOT TREATED")
"""``ARMNRS`` values used (CT ARMNULRS, C142179)."""


def _last_dates(source: StudySource) -> pd.Series:
    """Each subject's last known date in the source (``RFPENDTC``)."""
    parts = [
        ("subject", "id", "consent_date"),
        ("visit", "subject_id", "actual_date"),
        ("dose", "subject_id", "date"),
        ("disposition", "subject_id", "date"),
        ("death", "subject_id", "date"),
        ("adverse_event", "subject_id", "start_date"),
        ("adverse_event", "subject_id", "end_date"),
        ("tumour_assessment", "subject_id", "assessment_date"),
    ]
    frames = []
    for name, key, column in parts:
        rows = table(source, name, [key, column])
        frames.append(pd.DataFrame({"id": rows[key], "day": to_day(rows[column])}))
    every = pd.concat(frames, ignore_index=True).dropna()
    return every.groupby("id")["day"].max()


def _dose_range(source: StudySource) -> tuple[pd.Series, pd.Series]:
    doses = table(source, "dose", ["subject_id", "date"])
    days = to_day(doses["date"]).groupby(doses["subject_id"])
    return days.min(), days.max()


def _arms(source: StudySource, frame: pd.DataFrame, treated: pd.Series) -> pd.DataFrame:
    """``ARMCD``/``ARM``/``ACTARMCD``/``ACTARM``/``ARMNRS`` of each subject (index: id)."""
    names = {arm.code: arm.name for arm in source.protocol.arms}
    armcd = pd.Series(
        [source.arms.get(int(i)) for i in frame.index], index=frame.index, dtype=object
    )
    failed = frame["status"].eq("screen failed") | frame["screen_failure"]
    out = pd.DataFrame(index=frame.index)
    out["ARMCD"] = armcd.where(~failed, None)
    out["ARM"] = out["ARMCD"].map(names)
    dosed = treated.reindex(frame.index).notna()
    out["ACTARMCD"] = out["ARMCD"].where(dosed, None)
    out["ACTARM"] = out["ACTARMCD"].map(names)
    reason = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    reason[out["ARMCD"].notna() & ~dosed] = "ASSIGNED, NOT TREATED"
    reason[out["ARMCD"].isna()] = "NOT ASSIGNED"
    reason[failed] = "SCREEN FAILURE"
    out["ARMNRS"] = reason
    return out


def build_dm(source: StudySource, subjects: Subjects) -> Dataset:
    """DM: one record per subject of the source (screen failures included).

    Parameters
    ----------
    source
        The study's records.
    subjects
        The subjects' keys (:class:`~equitrial.cdisc.sdtm._common.Subjects`).

    Returns
    -------
    Dataset
        DM, sorted by ``USUBJID``.
    """
    subject = table(source, "subject", ["id", "consent_date", "sex", "status"]).set_index("id")
    demo_cols = ["subject_id", "age", "sex", "race", "ethnicity", "country"]
    demo = table(source, "demographics", demo_cols).set_index("subject_id")
    sites = table(source, "site", ["id", "country"]).set_index("id")["country"]
    site_of = table(source, "subject", ["id", "site_id"]).set_index("id")["site_id"]
    consent = table(source, "informed_consent", ["subject_id", "consent_date", "consent_type"])
    initial = consent[consent["consent_type"] == "INITIAL"]
    first_consent = to_day(initial["consent_date"]).groupby(initial["subject_id"]).min()
    disp = table(source, "disposition", ["subject_id", "scope", "date"])
    eos = disp[disp["scope"] == "END OF STUDY"]
    end_study = to_day(eos["date"]).groupby(eos["subject_id"]).min()
    failures = set(disp.loc[disp["scope"] == "SCREEN FAILURE", "subject_id"])
    death = table(source, "death", ["subject_id", "date"])
    death_day = to_day(death["date"]).groupby(death["subject_id"]).min()
    first_dose, last_dose = _dose_range(source)

    frame = subjects.frame.copy()
    idx = frame.index
    subject = subject.reindex(idx)
    subject["screen_failure"] = idx.isin(list(failures))
    demo = demo.reindex(idx)
    frame["STUDYID"] = subjects.study
    frame["DOMAIN"] = "DM"
    frame["RFENDTC"] = iso_date(end_study.reindex(idx))
    frame["RFXSTDTC"] = iso_date(first_dose.reindex(idx))
    frame["RFXENDTC"] = iso_date(last_dose.reindex(idx))
    consent_day = first_consent.reindex(idx).fillna(to_day(subject["consent_date"]))
    frame["RFICDTC"] = iso_date(consent_day)
    frame["RFPENDTC"] = iso_date(_last_dates(source).reindex(idx))
    frame["DTHDTC"] = iso_date(death_day.reindex(idx))
    frame["DTHFL"] = frame["DTHDTC"].map(lambda d: None if d is None else "Y")
    frame["AGE"] = demo["age"]
    frame["AGEU"] = demo["age"].map(lambda a: None if pd.isna(a) else "YEARS")
    frame["SEX"] = demo["sex"].fillna(subject["sex"]).fillna("U")
    frame["RACE"] = demo["race"]
    frame["ETHNIC"] = demo["ethnicity"]
    frame["COUNTRY"] = demo["country"].fillna(site_of.reindex(idx).map(sites))
    frame = frame.join(_arms(source, subject, first_dose))
    frame = frame.sort_values("USUBJID", kind="mergesort")
    return assemble(
        "DM",
        "Demographics",
        "SPECIAL PURPOSE",
        "One record per subject",
        _VARS,
        frame,
        ("STUDYID", "USUBJID"),
    )


_RF = "first dose date (EX)"
_VARS: Final = [
    *identifiers(),
    char("SUBJID", "Subject Identifier for the Study"),
    char("RFSTDTC", "Subject Reference Start Date/Time", "Derived", f"RFSTDTC = {_RF}"),
    char("RFENDTC", "Subject Reference End Date/Time", "Derived", "END OF STUDY date (DS)"),
    char("RFXSTDTC", "Date/Time of First Study Treatment", "Derived", _RF),
    char("RFXENDTC", "Date/Time of Last Study Treatment", "Derived", "last dose date (EX)"),
    char("RFICDTC", "Date/Time of Informed Consent", "Derived", "initial consent date"),
    char(
        "RFPENDTC",
        "Date/Time of End of Participation",
        "Derived",
        "latest date of any record of the subject",
    ),
    char("DTHDTC", "Date/Time of Death", "Derived", "date of the death form"),
    char("DTHFL", "Subject Death Flag", "Derived", "Y when DTHDTC is present", ("Y",)),
    char("SITEID", "Study Site Identifier"),
    num("AGE", "Age"),
    char("AGEU", "Age Units", "Assigned", None, ("YEARS",)),
    char("SEX", "Sex", codelist=SEXES),
    char("RACE", "Race", codelist=RACES),
    char("ETHNIC", "Ethnicity", codelist=ETHNICITIES),
    char("ARMCD", "Planned Arm Code", "Assigned", "arm code of the randomized allocation"),
    char("ARM", "Description of Planned Arm", "Protocol", "name of the arm in the protocol"),
    char("ACTARMCD", "Actual Arm Code", "Derived", "ARMCD when at least one dose given"),
    char("ACTARM", "Description of Actual Arm", "Derived", "protocol name of ACTARMCD"),
    char(
        "ARMNRS",
        "Reason Arm and/or Actual Arm is Null",
        "Derived",
        "SCREEN FAILURE (screen failed), NOT ASSIGNED (not randomized), "
        "ASSIGNED, NOT TREATED (randomized, no dose)",
        ARM_NULL_REASONS,
    ),
    char("ACTARMUD", "Description of Unplanned Actual Arm", "Derived", "never an unplanned arm"),
    char("COUNTRY", "Country", "Collected", "demographics form, else the site's country"),
]


_SUPP_QUALIFIERS: Final = (
    ("site_type", "SITETYPE", "Site Type", "Derived"),
    ("region", "REGION", "Geographic Region", "Collected"),
)


def build_suppdm(source: StudySource, subjects: Subjects) -> Dataset:
    """SUPPDM: the subject's site type (METROPOLITAN / REGIONAL) and geographic region, which
    have no DM variable (SDTMIG v3.4 section 8.4: supplemental qualifiers, ``IDVAR`` null for
    DM); from the demographics form, else from the site.

    Parameters
    ----------
    source
        The study's records.
    subjects
        The subjects' keys.

    Returns
    -------
    Dataset
        One record per subject and qualifier with a value, by ``USUBJID`` and ``QNAM``.
    """
    demo = table(source, "demographics", ["subject_id", "site_type", "region"])
    demo = demo.set_index("subject_id").reindex(subjects.frame.index)
    site = table(source, "site", ["id", "site_type", "region"]).set_index("id")
    site_of = table(source, "subject", ["id", "site_id"]).set_index("id")["site_id"]
    site_of = site_of.reindex(subjects.frame.index)
    parts = []
    for column, qnam, qlabel, origin in _SUPP_QUALIFIERS:
        value = demo[column].fillna(site_of.map(site[column]))
        parts.append(
            pd.DataFrame(
                {
                    "USUBJID": subjects.frame["USUBJID"],
                    "QNAM": qnam,
                    "QLABEL": qlabel,
                    "QVAL": value,
                    "QORIG": origin,
                }
            )
        )
    frame = pd.concat(parts).dropna(subset=["QVAL"])
    frame = frame.sort_values(["USUBJID", "QNAM"], kind="mergesort")
    frame = frame.assign(STUDYID=subjects.study, RDOMAIN="DM")
    variables = [
        char("STUDYID", "Study Identifier", "Protocol"),
        char("RDOMAIN", "Related Domain Abbreviation", "Assigned", None, ("DM",)),
        char("USUBJID", "Unique Subject Identifier", "Derived", "STUDYID-SUBJID"),
        char("IDVAR", "Identifying Variable", "Assigned", "null: one record per subject"),
        char("IDVARVAL", "Identifying Variable Value", "Assigned", "null"),
        char("QNAM", "Qualifier Variable Name", "Assigned", None, ("REGION", "SITETYPE")),
        char("QLABEL", "Qualifier Variable Label", "Assigned"),
        char("QVAL", "Data Value", "Collected", "site type / region of the subject's site"),
        char("QORIG", "Origin", "Assigned", None, ("Collected", "Derived")),
        char("QEVAL", "Evaluator", "Assigned", "null: not an evaluation"),
    ]
    return assemble(
        "SUPPDM",
        "Supplemental Qualifiers for DM",
        "RELATIONSHIP",
        "One record per supplemental qualifier per subject",
        variables,
        frame,
        ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
    )
