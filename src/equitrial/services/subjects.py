"""Use cases of subjects: enrol, confirm eligibility, read (site-scoped)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services._base import (
    audited_insert,
    audited_update,
    check_version,
    ensure_study_open,
    get,
    today,
)
from equitrial.services.auth import ROLES, Actor, require
from equitrial.services.checks import CheckContext, enforce
from equitrial.services.sites import site_by_code
from equitrial.services.study import current_study, study_protocol
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "SITE_STAFF",
    "SubjectView",
    "confirm_eligibility",
    "enrol",
    "get_subject",
    "list_subjects",
    "resolve_subject",
    "subject_for_read",
    "subject_for_write",
]

SITE_STAFF = frozenset({"investigator", "coordinator"})
"""Roles that enter a subject's data at their site."""


@dataclass(frozen=True)
class SubjectView:
    """A subject as shown to site staff and monitors (never its arm)."""

    id: int
    subject_code: str
    site_code: str
    screening_number: str
    consent_date: dt.date | None
    sex: str | None
    birth_year: int | None
    strata: dict[str, str]
    eligible: bool | None
    status: str
    version: int

    @property
    def values(self) -> dict[str, Any]:
        """The fields as a dict (like :attr:`RecordView.values`)."""
        return asdict(self)


def _view(session: Session, subject: m.Subject) -> SubjectView:
    site = get(session, m.Site, subject.site_id, "site")
    return SubjectView(
        id=subject.id,
        subject_code=subject.subject_code,
        site_code=site.code,
        screening_number=subject.screening_number,
        consent_date=subject.consent_date,
        sex=subject.sex,
        birth_year=subject.birth_year,
        strata=json.loads(subject.strata_json or "{}"),
        eligible=subject.eligible,
        status=subject.status,
        version=subject.version,
    )


def resolve_subject(session: Session, ref: int | str) -> m.Subject:
    """The subject with id ``ref`` (an int or digits) or subject code ``ref``."""
    if isinstance(ref, int) or str(ref).isdigit():
        return get(session, m.Subject, int(ref), "subject")
    subject = session.scalar(select(m.Subject).where(m.Subject.subject_code == ref))
    if subject is None:
        return get(session, m.Subject, -1, f"subject {ref!r} (by code) or")
    return subject


def subject_for_read(session: Session, actor: Actor, ref: int | str) -> m.Subject:
    """The subject, if ``actor`` holds any role at its site (else PermissionDeniedError)."""
    subject = resolve_subject(session, ref)
    require(actor, roles=ROLES, site=subject.site_id)
    return subject


def subject_for_write(
    session: Session, actor: Actor, ref: int | str, roles: frozenset[str] = SITE_STAFF
) -> m.Subject:
    """The subject, if ``actor`` holds one of ``roles`` at its site and the study is open."""
    subject = resolve_subject(session, ref)
    require(actor, roles=roles, site=subject.site_id)
    ensure_study_open(session, subject.study_id)
    return subject


def _check_strata(strata: Mapping[str, str], levels: dict[str, list[str]]) -> dict[str, str]:
    for factor, level in strata.items():
        if factor not in levels:
            raise InvalidInputError(
                f"stratum {factor}={level}: {factor!r} is not a stratification factor; "
                f"expected one of {', '.join(levels)}",
                field=f"strata.{factor}",
                value=factor,
            )
        if level not in levels[factor]:
            raise InvalidInputError(
                f"stratum {factor}={level}: expected one of {', '.join(map(repr, levels[factor]))}",
                field=f"strata.{factor}",
                value=level,
            )
    return {k: strata[k] for k in sorted(strata)}


def enrol(
    engine: Engine,
    actor: Actor,
    site_code: str,
    screening_number: str,
    *,
    consent_date: dt.date | None = None,
    sex: str | None = None,
    birth_year: int | None = None,
    strata: Mapping[str, str] | None = None,
    eligible: bool | None = None,
    eligibility: Mapping[str, Any] | None = None,
) -> SubjectView:
    """Enrol a consented patient at a site (investigator or coordinator of that site).

    Parameters
    ----------
    site_code, screening_number
        Site code and the screening number (unique in the study).
    consent_date
        Date of informed consent, default today (UTC); never in the future.
    sex, birth_year
        Demographics.
    strata
        Stratification factor -> level; each must be a factor and level of the protocol.
        Missing factors are allowed at enrolment; randomization refuses until all are there.
    eligible, eligibility
        The eligibility decision and checklist when already known (see
        :func:`confirm_eligibility`).

    Returns
    -------
    SubjectView
        With ``subject_code`` ``"<SITE>-<nnnn>"``.

    Raises
    ------
    InvalidInputError
        Unknown factor or level, impossible demographic or date values.
    ConflictError
        The screening number exists in the study.
    PermissionDeniedError, NotFoundError, StudyLockedError
    """
    consent = consent_date or today()
    values = {
        "screening_number": screening_number,
        "consent_date": consent,
        "birth_year": birth_year,
        "consent_year": consent.year,
    }
    enforce("subject", values, CheckContext(today()))
    with transaction(engine) as session:
        site_row = site_by_code(session, site_code)
        require(actor, roles=SITE_STAFF, site=site_row.id)
        study = current_study(session)
        ensure_study_open(session, study.id)
        levels = study_protocol(study).stratification_levels()
        clean = _check_strata(strata or {}, levels)
        taken = select(m.Subject.id).where(
            m.Subject.study_id == study.id, m.Subject.screening_number == screening_number
        )
        if session.scalar(taken) is not None:
            raise ConflictError(
                f"screening number {screening_number!r} is already enrolled",
                field="screening_number",
                value=screening_number,
            )
        count = session.scalar(select(func.count()).where(m.Subject.site_id == site_row.id)) or 0
        subject = m.Subject(
            study_id=study.id,
            site_id=site_row.id,
            screening_number=screening_number,
            subject_code=f"{site_row.code}-{count + 1:04d}",
            consent_date=consent,
            sex=sex,
            birth_year=birth_year,
            strata_json=json.dumps(clean, sort_keys=True),
            eligible=eligible,
            eligibility_json=None if eligibility is None else json.dumps(dict(eligibility)),
            status=_status_for(eligible),
        )
        return _view(session, audited_insert(session, actor, subject))


def _status_for(eligible: bool | None) -> str:
    return "screening" if eligible is None else ("eligible" if eligible else "ineligible")


def confirm_eligibility(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    eligible: bool,
    *,
    checklist: Mapping[str, bool] | None = None,
    strata: Mapping[str, str] | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> SubjectView:
    """Record the investigator's eligibility decision (and complete the strata).

    Raises
    ------
    ConflictError
        The subject is already randomized, or was changed since ``expected_version``.
    InvalidInputError
        Changing an earlier decision or strata without ``reason``; unknown factor or level.
    """
    with transaction(engine) as session:
        row = subject_for_write(session, actor, subject, frozenset({"investigator"}))
        check_version(row, expected_version, "subject")
        if row.status == "randomized":
            raise ConflictError(f"subject {row.subject_code} is randomized", field="eligible")
        changes: dict[str, Any] = {"eligible": eligible, "status": _status_for(eligible)}
        if checklist is not None:
            changes["eligibility_json"] = json.dumps(dict(checklist), sort_keys=True)
        if strata is not None:
            levels = study_protocol(get(session, m.Study, row.study_id, "study"))
            merged = {**json.loads(row.strata_json or "{}"), **strata}
            clean = _check_strata(merged, levels.stratification_levels())
            changes["strata_json"] = json.dumps(clean, sort_keys=True)
        first_entry = row.eligible is None
        audited_update(
            session,
            actor,
            row,
            changes,
            reason=reason or ("eligibility confirmed" if first_entry else None),
        )
        return _view(session, row)


def get_subject(engine: Engine, actor: Actor, subject: int | str) -> SubjectView:
    """One subject (any role at its site)."""
    with transaction(engine, read_only=True) as session:
        return _view(session, subject_for_read(session, actor, subject))


def list_subjects(engine: Engine, actor: Actor) -> list[SubjectView]:
    """The subjects of the sites ``actor`` may see."""
    with transaction(engine, read_only=True) as session:
        query = select(m.Subject).order_by(m.Subject.id)
        if actor.site_ids is not None:
            query = query.where(m.Subject.site_id.in_(actor.site_ids))
        return [_view(session, s) for s in session.scalars(query)]
