"""ADSL, the subject-level analysis dataset (ADaMIG 1.3 section 3.1).

One record per **randomized** subject. Screen failures (and consented subjects never
randomized) are excluded: ADaMIG 1.3 section 3.1 leaves the content of ADSL to the analyses, and
no analysis of this trial uses unrandomized subjects; they remain in SDTM DM (SDTMIG 3.4
section 5.2, ``ARMNRS = "SCREEN FAILURE"``). ENRLFL is therefore not used; ITTFL (= RANDFL) is
``"Y"`` on every record.

Population flags (ADaMIG 1.3 section 3.1.4, "Y"/"N"):

- ITTFL: randomized (an allocation exists);
- SAFFL: at least one dose of study drug (``dose_mg > 0``);
- PPROTFL: ITTFL, eligibility confirmed (``subject.eligible`` true and no inclusion criterion
  answered "not met" nor exclusion criterion "present" in the checklist), SAFFL, and no major
  deviation the data show: every recorded dose within the protocol's ``dose_tolerance_percent``
  of the dose of the regimen it was given under (a dose without a regimen is judged against the
  regimen in effect that day), and every regimen one the protocol lists;
- RESPEVFL: SAFFL and measurable disease at baseline by central review (a central target
  lesion measurable per RECIST 1.1 - longest diameter >= 10 mm, lymph node short axis >= 15
  mm - on or before the first dose, or randomization if undosed);
- PKFL: at least one PK sample with a concentration.

Treatment: TRT01P = ARM = the randomized arm's name; TRT01A = ACTARM = TRT01P for a dosed
subject. Kits carry no arm in the snapshot (blinded supply), so a subject given the other arm's
kits cannot be detected: actual = planned, by construction. An undosed subject has
ACTARM "Not Treated" and no TRT01A.

RANDDT is the start of the subject's first regimen period: randomization records it as the
subject's day 1 (``services.schedule.plan_at_randomization``).

References
----------
.. [1] CDISC. Analysis Data Model Implementation Guide v1.3 (2021), section 3.1 (ADSL
   variables), section 3.1.4 (population flags).
"""

from __future__ import annotations

import json

import pandas as pd

from equitrial.datasets._adsl_derive import (
    derive_disposition,
    derive_exposure,
    derive_last_alive,
    derive_populations,
)
from equitrial.datasets._frames import Y_ONLY, YN, char, dataset, date_var, num, study_code, table
from equitrial.datasets._meta import Dataset, StudySource, Variable

__all__ = ["build_adsl", "usubjid"]


def usubjid(study: str, subject_code: str) -> str:
    """USUBJID: ``<study code>-<subject code>`` (unique across studies; SDTMIG 3.4 DM)."""
    return f"{study}-{subject_code}"


def _strata(raw: object, order: list[str]) -> str | None:
    if not raw:
        return None
    levels = json.loads(str(raw))
    return " / ".join(str(levels[k]) for k in order if k in levels) or None


def _base(source: StudySource) -> pd.DataFrame:
    """Randomized subjects with site, demographics, arm and strata."""
    subjects = table(source, "subject", ["id", "site_id", "subject_code", "strata_json"])
    subjects = subjects[subjects["id"].isin(list(source.arms))]
    subjects = subjects[["id", "site_id", "subject_code", "strata_json"]].copy()
    sites = table(source, "site", ["id", "code", "country", "region", "site_type"])
    sites = sites.rename(
        columns={"id": "site_id", "code": "SITEID", "country": "s_country", "region": "s_region"}
    )[["site_id", "SITEID", "s_country", "s_region", "site_type"]]
    demo_cols = ["subject_id", "age", "sex", "race", "ethnicity", "country", "ecog_ps"]
    demo_cols += ["braf_v600", "m_stage", "ldh_elevated", "brain_metastases"]
    demo = table(source, "demographics", demo_cols)[demo_cols]
    out = subjects.merge(sites, on="site_id", how="left")
    out = out.merge(demo.rename(columns={"subject_id": "id"}), on="id", how="left")
    study = study_code(source)
    arms = list(source.protocol.arms)
    names = {a.code: a.name for a in arms}
    numbers = {a.code: float(i + 1) for i, a in enumerate(arms)}
    code = out["id"].map(source.arms)
    order = list(source.protocol.stratification)
    out = out.assign(
        STUDYID=study,
        USUBJID=[usubjid(study, c) for c in out["subject_code"]],
        SUBJID=out["subject_code"],
        AGE=out["age"],
        AGEU=out["age"].map(lambda a: None if pd.isna(a) else "YEARS"),
        SEX=out["sex"],
        RACE=out["race"],
        ETHNIC=out["ethnicity"],
        COUNTRY=out["country"].where(out["country"].notna(), out["s_country"]),
        REGION1=out["s_region"].map(lambda r: r.title() if isinstance(r, str) else None),
        SITETYPE=out["site_type"],
        ARM=code.map(names),
        TRT01P=code.map(names),
        TRT01PN=code.map(numbers),
        STRATAR=out["strata_json"].map(lambda r: _strata(r, order)),
        ECOG=out["ecog_ps"],
        BRAF=out["braf_v600"],
        MSTAGE=out["m_stage"],
        LDHELFL=out["ldh_elevated"].map(lambda v: None if pd.isna(v) else ("Y" if v else "N")),
        BRMETFL=out["brain_metastases"],
        ITTFL="Y",
    )
    return out


def build_adsl(source: StudySource) -> Dataset:
    """ADSL of the study: one record per randomized subject.

    Parameters
    ----------
    source : StudySource
        The study's records (:func:`equitrial.services.export.study_source`, or by hand).

    Returns
    -------
    Dataset
        ``ADSL``, class SUBJECT LEVEL ANALYSIS DATASET, key USUBJID; the variables and rules
        of the module docstring.

    References
    ----------
    .. [1] CDISC ADaMIG v1.3, section 3.1.
    """
    frame = _base(source)
    frame = derive_exposure(frame, source)
    frame = derive_populations(frame, source)
    frame = derive_disposition(frame, source)
    frame = derive_last_alive(frame, source)
    frame = frame.sort_values("USUBJID", kind="stable")
    return dataset(
        "ADSL",
        "Subject-Level Analysis Dataset",
        "SUBJECT LEVEL ANALYSIS DATASET",
        "One record per randomized subject",
        _variables(frame),
        frame,
    )


def _variables(f: pd.DataFrame) -> list[Variable]:
    c = char
    return [
        c(f, "STUDYID", "Study Identifier", origin="Assigned"),
        c(f, "USUBJID", "Unique Subject Identifier", derivation="STUDYID-SUBJID", key=1),
        c(f, "SUBJID", "Subject Identifier for the Study", origin="Collected"),
        c(f, "SITEID", "Study Site Identifier", origin="Collected"),
        num("AGE", "Age", origin="Collected"),
        c(f, "AGEU", "Age Units", origin="Assigned", codelist=("YEARS",)),
        c(f, "SEX", "Sex", origin="Collected"),
        c(f, "RACE", "Race", origin="Collected"),
        c(f, "ETHNIC", "Ethnicity", origin="Collected"),
        c(f, "COUNTRY", "Country", origin="Collected"),
        c(f, "REGION1", "Geographic Region 1", derivation="Site region, title case"),
        c(f, "SITETYPE", "Site Type", derivation="Site type (METROPOLITAN/REGIONAL)"),
        c(f, "ARM", "Description of Planned Arm", derivation="Name of the randomized arm"),
        c(f, "ACTARM", "Description of Actual Arm", derivation="ARM if dosed, else Not Treated"),
        c(f, "TRT01P", "Planned Treatment for Period 01", derivation="= ARM"),
        num("TRT01PN", "Planned Treatment for Period 01 (N)", derivation="Arm order in protocol"),
        c(f, "TRT01A", "Actual Treatment for Period 01", derivation="= TRT01P if SAFFL = Y"),
        num("TRT01AN", "Actual Treatment for Period 01 (N)", derivation="= TRT01PN if dosed"),
        date_var("RANDDT", "Date of Randomization", derivation="First regimen period start"),
        date_var("TRTSDT", "Date of First Exposure to Treatment", derivation="First dose date"),
        date_var("TRTEDT", "Date of Last Exposure to Treatment", derivation="Last dose date"),
        num("TRTDURD", "Total Treatment Duration (Days)", derivation="TRTEDT - TRTSDT + 1"),
        c(f, "REGIMEN", "Initial Dosing Regimen", derivation="Regimen at randomization"),
        c(f, "REGSWFL", "Regimen Switched Flag", codelist=YN, derivation="> 1 regimen period"),
        c(f, "STRATAR", "Strata as Randomized", derivation="Strata levels, protocol order"),
        num("ECOG", "Baseline ECOG Performance Status", origin="Collected"),
        c(f, "BRAF", "BRAF V600 Mutation Status", origin="Collected"),
        c(f, "MSTAGE", "Baseline M Stage (AJCC 8)", origin="Collected"),
        c(f, "LDHELFL", "Baseline LDH Above ULN Flag", codelist=YN, derivation="LDH > ULN"),
        c(f, "BRMETFL", "Brain Metastases at Baseline Flag", codelist=YN, origin="Collected"),
        c(f, "ITTFL", "Intent-To-Treat Population Flag", codelist=YN, derivation="Randomized"),
        c(f, "SAFFL", "Safety Population Flag", codelist=YN, derivation=">= 1 dose"),
        c(f, "PPROTFL", "Per-Protocol Population Flag", codelist=YN, derivation=_PP),
        c(f, "RESPEVFL", "Response Evaluable Population Flag", codelist=YN, derivation=_RE),
        c(f, "PKFL", "PK Population Flag", codelist=YN, derivation=">= 1 PK concentration"),
        c(
            f,
            "EOTSTT",
            "End of Treatment Status",
            codelist=_STT,
            derivation=_DS.format("END OF TREATMENT"),
        ),
        c(f, "DCTREAS", "Reason for Discontinuation of Treatment", derivation="DS reason"),
        c(f, "EOSSTT", "End of Study Status", codelist=_STT, derivation=_DS.format("END OF STUDY")),
        c(f, "DCSREAS", "Reason for Discontinuation from Study", derivation="DS reason"),
        date_var("EOSDT", "End of Study Date", derivation="END OF STUDY disposition date"),
        c(f, "DTHFL", "Subject Death Flag", codelist=Y_ONLY, derivation="Death recorded"),
        date_var("DTHDT", "Date of Death", origin="Collected"),
        c(f, "DTHCAUS", "Cause of Death", origin="Collected"),
        date_var("LSTALVDT", "Date Last Known Alive", derivation=_LA),
    ]


_PP = (
    "ITTFL = Y, eligibility confirmed (checklist consistent), SAFFL = Y, every dose within "
    "the protocol's dose tolerance of its regimen's dose and every regimen listed by the protocol"
)
_RE = "SAFFL = Y and a measurable central-review target lesion on or before the first dose"
_STT = ("COMPLETED", "DISCONTINUED", "ONGOING")
_DS = "Disposition {} status; ONGOING without one"
_LA = (
    "Date of death if dead; else the latest date of any record (visit, dose, assessment, AE, "
    "lab, sample, questionnaire, medication, therapy, disposition), at most the cut-off"
)
