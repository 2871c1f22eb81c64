"""Use cases of subjects: enrol, confirm eligibility, correct strata, read (site-scoped).

Enrolment normalizes the screening number by the protocol's ``[enrolment]`` rule
(:meth:`equitrial.protocol.Enrolment.screening_number`), requires a valid level for every
stratification factor, and gives the subject the next code of its site, ``<SITE>-<nnnn>``: one
more than the site's highest, under a per-site lock, so concurrent enrolments at one site get
distinct, gapless codes (PostgreSQL: ``pg_advisory_xact_lock`` on the site; SQLite: every
writer is serialized by ``BEGIN IMMEDIATE``). Only an investigator records eligibility.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final, NoReturn

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.randomization.service import allocation_of
from equitrial.randomization.strata import complete_strata
from equitrial.services._base import (
    audited_insert,
    audited_update,
    check_version,
    ensure_study_open,
    get,
    today,
)
from equitrial.services._enrolment import (
    INVESTIGATOR,
    checked_checklist,
    lock_site,
    next_code,
    refuse_taken,
    require_investigator,
)
from equitrial.services.auth import ROLES, Actor, require
from equitrial.services.checks import CheckContext, enforce
from equitrial.services.sites import site_by_code
from equitrial.services.study import current_study, study_protocol
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "MAX_SUBJECT_ID",
    "SITE_STAFF",
    "SubjectView",
    "confirm_eligibility",
    "correct_strata",
    "enrol",
    "get_subject",
    "list_subjects",
    "resolve_subject",
    "subject_for_read",
    "subject_for_write",
]

SITE_STAFF = frozenset({"investigator", "coordinator"})
"""Roles that enter a subject's data at their site."""

MAX_SUBJECT_ID: Final = 2**63 - 1
"""Subject ids run from 1 to the largest 64-bit integer; anything else is refused as input."""

_BY_CODE: Final = select(m.Subject).where(m.Subject.subject_code == bindparam("code"))
"""The subject with a code (built once: see ``equitrial.services._base._STUDY_LOCKED_AT``)."""
_MAX_REF_LENGTH: Final = 64  # the longest subject code (``subject.subject_code``)


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
    """The subject with id ``ref`` (an int or ASCII digits) or subject code ``ref``.

    Raises
    ------
    InvalidInputError
        ``field="subject"``: an empty reference, an id outside 1 to :data:`MAX_SUBJECT_ID`, or
        text that cannot be an id or a code (not printable ASCII, e.g. fullwidth digits, or
        longer than any code).
    NotFoundError
        No such subject.
    """
    if isinstance(ref, bool) or not isinstance(ref, int | str):
        _bad_ref(ref, "expected a subject id or a subject code")
    if isinstance(ref, str):
        if not ref:
            _bad_ref(ref, "is empty; expected a subject id or a subject code")
        if len(ref) > _MAX_REF_LENGTH or not (ref.isascii() and ref.isprintable()):
            _bad_ref(ref, "is not a subject id (ASCII digits) or a subject code")
        if not ref.isdigit():
            subject = session.scalar(_BY_CODE, {"code": ref})
            if subject is None:
                raise NotFoundError(f"no subject with code {ref!r}", field="subject", value=ref)
            return subject
    number = int(ref)
    if not 1 <= number <= MAX_SUBJECT_ID:
        _bad_ref(ref, f"is not a subject id; ids run from 1 to {MAX_SUBJECT_ID}")
    return get(session, m.Subject, number, "subject")


def _bad_ref(ref: Any, problem: str) -> NoReturn:
    shown = repr(ref) if len(repr(ref)) <= 80 else repr(ref)[:77] + "..."
    raise InvalidInputError(f"subject {shown} {problem}", field="subject", value=shown)


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
        Site code and the screening number, normalized by the protocol's ``[enrolment]`` rule
        (:meth:`~equitrial.protocol.Enrolment.screening_number`: NFKC, trimmed, leading zeros)
        and unique in the study after normalization (``007`` and ``7`` are the same number).
    consent_date
        Date of informed consent, default today (UTC); never in the future.
    sex, birth_year
        Demographics.
    strata
        Stratification factor -> level: every factor of the protocol, each with one of its
        levels (a missing or unknown factor or level is refused now, not at randomization).
    eligible, eligibility
        The eligibility decision and checklist when already known: an investigator's decision
        only (see :func:`confirm_eligibility`; the checklist is checked the same way); a
        coordinator enrols without them.

    Returns
    -------
    SubjectView
        With ``subject_code`` ``"<SITE>-<nnnn>"``: one more than the site's highest code.

    Raises
    ------
    InvalidInputError
        A malformed, negative, empty or too long screening number (``field="screening_number"``);
        a missing or unknown factor or level (``field="strata.<factor>"``); impossible
        demographic or date values.
    PermissionDeniedError
        Not site staff of the site, or ``eligible``/``eligibility`` given by someone who is not
        an investigator of the site.
    ConflictError
        The screening number exists in the study.
    NotFoundError, StudyLockedError
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
        if eligible is not None or eligibility is not None:
            require_investigator(actor, site_row)
        study = current_study(session)
        ensure_study_open(session, study.id)
        protocol = study_protocol(study)
        number = protocol.enrolment.screening_number(screening_number)
        lock_site(session, site_row.id)
        refuse_taken(session, study.id, number, screening_number)
        clean = complete_strata(protocol, strata or {})
        subject = m.Subject(
            study_id=study.id,
            site_id=site_row.id,
            screening_number=number,
            subject_code=next_code(session, site_row),
            consent_date=consent,
            sex=sex,
            birth_year=birth_year,
            strata_json=json.dumps(clean, sort_keys=True),
            eligible=eligible,
            eligibility_json=None
            if eligibility is None
            else json.dumps(checked_checklist(protocol, eligible, eligibility)),
            status=_status_for(eligible),
        )
        return _view(session, audited_insert(session, actor, subject))


def _status_for(eligible: bool | None) -> str:
    return "screening" if eligible is None else ("eligible" if eligible else "ineligible")


def _ensure_not_randomized(session: Session, row: m.Subject, what: str) -> None:
    if row.status == "randomized" or allocation_of(session, row.id) is not None:
        raise ConflictError(
            f"subject {row.subject_code} is randomized; its {what} can no longer change",
            field="strata" if what == "strata" else "eligible",
        )


def _ensure_not_screen_failed(row: m.Subject) -> None:
    if row.status == "screen failed":
        raise ConflictError(
            f"subject {row.subject_code} is a screen failure; its eligibility can no longer "
            "change (a patient screened again is enrolled with a new screening number)",
            field="eligible",
            value=row.status,
        )


def _merged_strata(session: Session, row: m.Subject, strata: Mapping[str, str]) -> str:
    protocol = study_protocol(get(session, m.Study, row.study_id, "study"))
    current = json.loads(row.strata_json or "{}")
    return json.dumps(complete_strata(protocol, {**current, **strata}), sort_keys=True)


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
    """Record the investigator's eligibility decision (and, with a reason, correct strata).

    Parameters
    ----------
    subject
        The subject's id or code.
    eligible
        The decision.
    checklist
        The eligibility checklist. When the protocol lists ``[[eligibility]]`` criteria: criterion
        id -> ``True`` (inclusion met / exclusion present) or ``False``, every criterion
        answered (:func:`checked_checklist`). Without criteria in the protocol: free-form, as
        given. ``None``: the decision without a checklist (none stored).
    strata, reason, expected_version
        Corrected strata (with a reason), the reason of a changed decision, the version read.

    Raises
    ------
    ConflictError
        The subject is already randomized or a screen failure, or was changed since
        ``expected_version``.
    InvalidInputError
        Changing an earlier decision or the strata without ``reason``; unknown factor or level;
        a checklist with an unknown (``field="checklist.<id>"``) or unanswered criterion; an
        eligible decision with an unmet inclusion or a present exclusion criterion
        (``field="eligible"``).
    PermissionDeniedError
        Not an investigator of the subject's site.
    """
    with transaction(engine) as session:
        row = subject_for_write(session, actor, subject, INVESTIGATOR)
        session.refresh(row, with_for_update=True)  # a concurrent randomization waits
        check_version(row, expected_version, "subject")
        _ensure_not_randomized(session, row, "eligibility")
        _ensure_not_screen_failed(row)
        changes: dict[str, Any] = {"eligible": eligible, "status": _status_for(eligible)}
        if checklist is not None:
            protocol = study_protocol(get(session, m.Study, row.study_id, "study"))
            answers = checked_checklist(protocol, eligible, checklist)
            changes["eligibility_json"] = json.dumps(answers, sort_keys=True)
        if strata is not None:
            changes["strata_json"] = _merged_strata(session, row, strata)
            if changes["strata_json"] != row.strata_json and not (reason and reason.strip()):
                raise InvalidInputError(
                    f"a reason is required to correct the strata of subject {row.subject_code}",
                    field="reason",
                )
        first_entry = row.eligible is None
        audited_update(
            session,
            actor,
            row,
            changes,
            reason=reason or ("eligibility confirmed" if first_entry else None),
        )
        return _view(session, row)


def correct_strata(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    strata: Mapping[str, str],
    *,
    reason: str,
    expected_version: int | None = None,
) -> SubjectView:
    """Correct a subject's stratification levels before randomization (site staff).

    Parameters
    ----------
    subject
        The subject's id or code.
    strata
        The factors to correct -> their right level; the others keep theirs. The result must
        give every factor a level the protocol lists.
    reason
        Why (required; audited with the old and the new strata).
    expected_version
        The subject's version the correction is based on (a stale edit is refused).

    Returns
    -------
    SubjectView

    Raises
    ------
    InvalidInputError
        No reason (``field="reason"``); an unknown factor or level (``field="strata.<f>"``).
    ConflictError
        The subject is randomized (its stratum chose its slot), or changed since
        ``expected_version``.
    PermissionDeniedError, NotFoundError, StudyLockedError
    """
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInputError("a reason is required to correct the strata", field="reason")
    with transaction(engine) as session:
        row = subject_for_write(session, actor, subject)
        session.refresh(row, with_for_update=True)  # a concurrent randomization waits
        check_version(row, expected_version, "subject")
        _ensure_not_randomized(session, row, "strata")
        new = _merged_strata(session, row, strata)
        audited_update(session, actor, row, {"strata_json": new}, reason=reason.strip())
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
