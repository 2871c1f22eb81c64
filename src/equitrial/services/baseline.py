"""Use cases of the baseline forms: demographics and baseline disease, medical history, consent.

All three are saved through :mod:`equitrial.services.forms` (one transaction, audited, site staff
of the subject's site, subject row locked, study open; edits with a reason through
:func:`~equitrial.services.forms.update_form`) and checked against their edit checks in
:data:`equitrial.services.checks.CHECKS` (``"demographics"``, ``"medical_history"``,
``"informed_consent"``).

Demographics (one per subject) carry the baseline disease characteristics that stratify the
randomization. A form that disagrees with the subject's strata (BRAF V600 status, ECOG
performance status, the M stage / LDH category) is saved and opens a query on the field: the
classic stratification error is found, and corrected by
:func:`equitrial.services.subjects.correct_strata` before randomization or documented after it,
never silently.

References
----------
.. [1] CDISC SDTMIG v3.4, DM (``AGE``, ``SEX``, ``RACE``, ``ETHNIC``, ``COUNTRY``), MH and DS
   (informed consent as a protocol milestone, ``RFICDTC``).
.. [2] Gershenwald JE et al. Melanoma staging: the AJCC eighth edition. CA Cancer J Clin
   2017;67:472-492 (M1a-M1d; the elevated-LDH suffix).
.. [3] Robert C et al. Pembrolizumab versus ipilimumab in advanced melanoma (KEYNOTE-006).
   N Engl J Med 2015;372:2521-2532 (stratification by ECOG, PD-L1 and prior therapy; the
   flagship protocol stratifies by BRAF V600, ECOG 0/1 and M stage / LDH).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services._base import RecordView, get
from equitrial.services.auth import Actor
from equitrial.services.checks import Finding
from equitrial.services.forms import Form, new_record, register
from equitrial.store import models as m

__all__ = [
    "CONSENT_FORM",
    "DEMOGRAPHICS_FIELDS",
    "DEMOGRAPHICS_FORM",
    "HIGH_RISK_M_STAGES",
    "MEDICAL_HISTORY_FORM",
    "m_stage_ldh_level",
    "record_consent",
    "record_demographics",
    "record_medical_history",
]

DEMOGRAPHICS_FIELDS: Final = (
    "age",
    "sex",
    "race",
    "ethnicity",
    "country",
    "region",
    "ecog_ps",
    "braf_v600",
    "m_stage",
    "ldh_value",
    "ldh_uln",
    "brain_metastases",
    "prior_adjuvant",
    "prior_adjuvant_therapy",
)
"""The fields typed on the demographics form (``site_type`` and ``ldh_elevated`` are derived)."""

HIGH_RISK_M_STAGES: Final = frozenset({"M1c", "M1d"})
"""M stages of the stratum "M1c or elevated LDH" whatever the LDH (AJCC 8th edition M1d, the
central nervous system metastases, is more advanced than M1c, which the stratum names)."""

_BRAF_LEVELS: Final = {"MUTANT": "mutant", "WILD-TYPE": "wild-type"}


def m_stage_ldh_level(m_stage: str, ldh_elevated: bool) -> str:
    """The level of the flagship protocol's ``m_stage_ldh`` factor for a stage and an LDH.

    Returns
    -------
    str
        ``"M1c or elevated LDH"`` for M1c, M1d or an LDH above the upper limit of normal,
        else ``"M0-M1b, normal LDH"``.
    """
    if m_stage in HIGH_RISK_M_STAGES or ldh_elevated:
        return "M1c or elevated LDH"
    return "M0-M1b, normal LDH"


def _one_per_subject(session: Session, model: type[Any], obj: Any, subject: m.Subject) -> None:
    other = session.scalar(
        select(model.id).where(model.subject_id == subject.id, model.id != (obj.id or 0))
    )
    if other is not None:
        raise ConflictError(
            f"subject {subject.subject_code} has a {model.__tablename__} record already "
            f"({other}); correct that record instead",
            field=str(model.__tablename__),
        )


def _strata_findings(obj: m.Demographics, subject: m.Subject) -> list[Finding]:
    """A query per stratification factor whose level disagrees with the form (by factor name:
    ``braf_v600``, ``ecog_ps``, ``m_stage_ldh``; a factor the subject lacks is not compared)."""
    strata = json.loads(subject.strata_json or "{}")
    form = {
        "braf_v600": ("braf_v600", _BRAF_LEVELS.get(obj.braf_v600, obj.braf_v600)),
        "ecog_ps": ("ecog_ps", str(obj.ecog_ps)),
        "m_stage_ldh": ("m_stage", m_stage_ldh_level(obj.m_stage, obj.ldh_elevated)),
    }
    findings = []
    for factor, (field, level) in form.items():
        stratum = strata.get(factor)
        if stratum is None or stratum == level:
            continue
        message = (
            f"{field}: the form gives {factor} = {level!r}, the subject was stratified as "
            f"{stratum!r}; correct the strata (before randomization) or the form"
        )
        findings.append(Finding(field, "strata-mismatch", message, "implausible"))
    return findings


def _age_findings(obj: m.Demographics, subject: m.Subject) -> list[Finding]:
    if subject.birth_year is None or subject.consent_date is None:
        return []
    oldest = subject.consent_date.year - subject.birth_year
    if obj.age in (oldest - 1, oldest):
        return []
    message = (
        f"age = {obj.age} does not fit the birth year {subject.birth_year} at consent "
        f"({subject.consent_date}); expected {oldest - 1} or {oldest}"
    )
    return [Finding("age", "age-birth-year", message, "implausible")]


def _site_findings(obj: m.Demographics, site: m.Site) -> list[Finding]:
    findings = []
    for field in ("country", "region"):
        known = getattr(site, field)
        if known is not None and getattr(obj, field) != known:
            message = (
                f"{field} = {getattr(obj, field)!r} but site {site.code} is in {known!r} "
                "(SDTM DM.COUNTRY is the country of the site)"
            )
            findings.append(Finding(field, "site-" + field, message, "implausible"))
    return findings


def _derive_demographics(
    session: Session, obj: m.Demographics, subject: m.Subject
) -> list[Finding]:
    _one_per_subject(session, m.Demographics, obj, subject)
    obj.ldh_elevated = obj.ldh_value > obj.ldh_uln
    site = get(session, m.Site, subject.site_id, "site")
    obj.site_type = site.site_type
    findings = _site_findings(obj, site) + _age_findings(obj, subject)
    if obj.braf_v600 == "UNKNOWN":
        message = "braf_v600 is UNKNOWN; the protocol requires a known BRAF V600 status"
        findings.append(Finding("braf_v600", "braf-known", message, "implausible"))
    return findings + _strata_findings(obj, subject)


def _derive_medical_history(
    session: Session, obj: m.MedicalHistory, subject: m.Subject
) -> list[Finding]:
    if subject.consent_date is None or obj.start_date <= subject.consent_date:
        return []
    message = (
        f"start_date ({obj.start_date}) is after consent ({subject.consent_date}): a condition "
        "that starts on study is an adverse event, not medical history"
    )
    return [Finding("start_date", "after-consent", message, "implausible")]


def _consents(session: Session, obj: m.InformedConsent, subject: m.Subject) -> list[Any]:
    rows = session.scalars(
        select(m.InformedConsent).where(m.InformedConsent.subject_id == subject.id)
    )
    return [row for row in rows if row.id != obj.id]


def _derive_consent(session: Session, obj: m.InformedConsent, subject: m.Subject) -> list[Any]:
    others = _consents(session, obj, subject)
    initial = [row for row in others if row.consent_type == "INITIAL"]
    if obj.consent_type == "INITIAL" and initial:
        raise ConflictError(
            f"subject {subject.subject_code} has an initial consent already "
            f"(informed_consent {initial[0].id}); a later consent is a RE-CONSENT",
            field="consent_type",
            value=obj.consent_type,
        )
    first = obj if obj.consent_type == "INITIAL" else (initial[0] if initial else None)
    if first is None:
        raise InvalidInputError(
            "consent_type: a RE-CONSENT needs the subject's INITIAL consent recorded first",
            field="consent_type",
            value=obj.consent_type,
            expected="an INITIAL consent before any RE-CONSENT",
        )
    for later in [r for r in (*others, obj) if r.consent_type == "RE-CONSENT"]:
        if later.consent_date <= first.consent_date:
            raise InvalidInputError(
                f"consent_date: the re-consent of {later.consent_date} is not after the initial "
                f"consent of {first.consent_date}",
                field="consent_date",
                value=obj.consent_date,
                expected="re-consent after the initial consent",
            )
    findings = []
    if obj.consent_type == "INITIAL" and subject.consent_date not in (None, obj.consent_date):
        message = (
            f"consent_date ({obj.consent_date}) differs from the consent date recorded at "
            f"enrolment ({subject.consent_date})"
        )
        findings.append(Finding("consent_date", "enrolment-consent", message, "implausible"))
    return findings


DEMOGRAPHICS_FORM: Final = register(
    Form(
        "demographics",
        m.Demographics,
        _derive_demographics,
        derived=frozenset({"ldh_elevated", "site_type"}),
    )
)
"""Demographics and baseline disease (table ``demographics``)."""

MEDICAL_HISTORY_FORM: Final = register(
    Form("medical_history", m.MedicalHistory, _derive_medical_history)
)
"""Medical history (table ``medical_history``)."""

CONSENT_FORM: Final = register(
    Form("informed_consent", m.InformedConsent, _derive_consent, fixed=frozenset({"consent_type"}))
)
"""Informed consent (table ``informed_consent``)."""


def record_demographics(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    age: int | None = None,
    sex: str | None = None,
    race: str | None = None,
    ethnicity: str | None = None,
    country: str | None = None,
    region: str | None = None,
    ecog_ps: int | None = None,
    braf_v600: str | None = None,
    m_stage: str | None = None,
    ldh_value: float | None = None,
    ldh_uln: float | None = None,
    brain_metastases: str | None = None,
    prior_adjuvant: str | None = None,
    prior_adjuvant_therapy: str | None = None,
    **others: Any,
) -> RecordView:
    """Record the demographics and baseline disease of a subject (site staff; one per subject).

    Parameters
    ----------
    age : int
        Age at consent, years (0 to 120; under 18 or over 100 opens a query).
    sex : {"F", "M", "U"}
        CDISC SEX.
    race : {"AMERICAN INDIAN OR ALASKA NATIVE", "ASIAN", "BLACK OR AFRICAN AMERICAN", \
"NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER", "WHITE", "MULTIPLE", "NOT REPORTED", "UNKNOWN", \
"OTHER"}
        CDISC RACE (:data:`~equitrial.clinical.terminology.RACES`).
    ethnicity : {"HISPANIC OR LATINO", "NOT HISPANIC OR LATINO", "NOT REPORTED", "UNKNOWN"}
        CDISC ETHNIC.
    country : str
        ISO 3166-1 alpha-3 code (``"DEU"``, ``"AUS"``); differing from the site's opens a query.
    region : {"NORTH AMERICA", "EUROPE", "ASIA-PACIFIC", "REST OF WORLD"}
        Geographic region; differing from the site's opens a query.
    ecog_ps : int
        ECOG performance status, 0 to 4 (2 or more opens a query: the protocol enrols 0-1).
    braf_v600 : {"MUTANT", "WILD-TYPE", "UNKNOWN"}
        BRAF V600 status (UNKNOWN opens a query).
    m_stage : {"M0", "M1a", "M1b", "M1c", "M1d"}
        AJCC 8th edition M category.
    ldh_value, ldh_uln : float
        Serum LDH and its upper limit of normal (U/L; the limit > 0). ``ldh_elevated``
        (``ldh_value > ldh_uln``) is derived.
    brain_metastases : {"Y", "N"}
        Brain metastases at baseline.
    prior_adjuvant : {"Y", "N"}
        Prior adjuvant therapy.
    prior_adjuvant_therapy : str, optional
        Which therapy: required with ``prior_adjuvant = "Y"``, refused with ``"N"``.

    Returns
    -------
    RecordView
        The saved form with the derived ``ldh_elevated`` and ``site_type`` (the site's
        METROPOLITAN / REGIONAL, ``None`` when the site has none). Queries: a BRAF, ECOG or
        M stage / LDH category other than the subject's strata (:func:`m_stage_ldh_level`), an
        age that does not fit the birth year, an implausible age or ECOG, an unknown BRAF
        status, a country or region other than the site's.

    Raises
    ------
    InvalidInputError
        An unknown field, a derived field typed, a missing field, a value outside its codelist
        or range; the error names the field and nothing is written.
    ConflictError
        The subject has demographics already (edit them with ``forms.update_form``).
    PermissionDeniedError, StudyLockedError
        Not site staff of the subject's site; the study is locked.
    """
    given = {
        "age": age, "sex": sex, "race": race, "ethnicity": ethnicity, "country": country,
        "region": region, "ecog_ps": ecog_ps, "braf_v600": braf_v600, "m_stage": m_stage,
        "ldh_value": ldh_value, "ldh_uln": ldh_uln, "brain_metastases": brain_metastases,
        "prior_adjuvant": prior_adjuvant, "prior_adjuvant_therapy": prior_adjuvant_therapy,
    }  # fmt: skip
    fields = {k: v for k, v in given.items() if v is not None} | others
    unknown = sorted(set(fields) - set(DEMOGRAPHICS_FIELDS) - DEMOGRAPHICS_FORM.derived)
    if unknown:
        raise InvalidInputError(
            f"demographics has no field {unknown[0]!r}; expected {', '.join(DEMOGRAPHICS_FIELDS)}",
            field=unknown[0],
        )
    return new_record(engine, actor, DEMOGRAPHICS_FORM, subject, fields)


def record_medical_history(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    term: str | None = None,
    category: str | None = None,
    start_date: dt.date | None = None,
    ongoing: bool | None = None,
    end_date: dt.date | None = None,
    **others: Any,
) -> RecordView:
    """Record one condition of a subject's medical history (site staff; many per subject).

    Parameters
    ----------
    term : str
        The condition (verbatim, ``MHTERM``).
    category : {"GENERAL", "PRIOR CANCER", "AUTOIMMUNE DISEASE"}
        ``MHCAT``.
    start_date : datetime.date
        Onset (not in the future; after consent opens a query: that is an adverse event).
    ongoing : bool, default False
        Still present at consent.
    end_date : datetime.date, optional
        End: refused while ``ongoing``, not before ``start_date``, not in the future; missing
        for an ended condition opens a query.

    Returns
    -------
    RecordView

    Raises
    ------
    InvalidInputError
        An unknown or missing field, a category outside the list, an end date with ``ongoing``,
        an end before the start, a future date; nothing is written.
    PermissionDeniedError, StudyLockedError
    """
    given = {"term": term, "category": category, "start_date": start_date, "ongoing": ongoing,
             "end_date": end_date}  # fmt: skip
    fields = {k: v for k, v in given.items() if v is not None} | others
    allowed = {"term", "category", "start_date", "ongoing", "end_date"}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidInputError(
            f"medical_history has no field {unknown[0]!r}; expected {', '.join(sorted(allowed))}",
            field=unknown[0],
        )
    return new_record(engine, actor, MEDICAL_HISTORY_FORM, subject, fields)


def record_consent(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    consent_date: dt.date,
    version: str,
    consent_type: str = "INITIAL",
) -> RecordView:
    """Record a signed informed consent form (site staff; one INITIAL, then re-consents).

    Parameters
    ----------
    consent_date
        Date signed (not in the future).
    version
        Version of the consent form signed; stored as ``form_version`` (the field name of
        ``forms.update_form``).
    consent_type : {"INITIAL", "RE-CONSENT"}
        The first consent or a re-consent (to an amended form); cannot be edited.

    Returns
    -------
    RecordView
        An initial consent dated otherwise than the consent date of the enrolment opens a query.

    Raises
    ------
    ConflictError
        A second INITIAL consent.
    InvalidInputError
        A future date, an unknown type, a RE-CONSENT without an INITIAL consent or not after
        it; nothing is written.
    PermissionDeniedError, StudyLockedError
    """
    fields = {"consent_date": consent_date, "form_version": version, "consent_type": consent_type}
    return new_record(engine, actor, CONSENT_FORM, subject, fields)
