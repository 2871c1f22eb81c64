"""Use cases of how a subject's participation ends: end of treatment, end of study, screen
failure, death.

A disposition record (SDTM DS, ``DSCAT = "DISPOSITION EVENT"``) says which disposition it is in
``scope`` (``END OF TREATMENT``, ``END OF STUDY``, ``SCREEN FAILURE``; one per subject and
scope), the CDISC ``EPOCH`` in which it happened (``SCREENING``, ``TREATMENT``, ``FOLLOW-UP``)
and the CDISC NCOMPLT reason (``decod``). The end of treatment happens in the TREATMENT epoch, a
screen failure in SCREENING; the end of study in whichever epoch the subject was in (by default
FOLLOW-UP after a recorded end of treatment, else TREATMENT for a randomized subject, else
SCREENING). The end of study is not before the end of treatment. ``disposition_status``
(COMPLETED / DISCONTINUED, ADaM ``EOTSTT`` / ``EOSSTT``) is derived from the reason.

A screen failure (``DSDECOD = "SCREEN FAILURE"`` with a reason category) is recorded only for a
subject who is not randomized; it sets the subject's status to ``"screen failed"``, after which
the subject can be neither randomized nor have its eligibility confirmed.

A death (one per subject) is dated on or after consent and randomization and not in the future.
A death and the end-of-study disposition should agree (reason DEATH, same date): a disagreement
is saved and opens a query, whichever of the two is entered second.

All are saved through :mod:`equitrial.services.forms`; edit checks in
:data:`equitrial.services.checks.CHECKS` (``"disposition"``, ``"death"``).

References
----------
.. [1] CDISC SDTMIG v3.4, DS (Disposition): ``DSCAT``, ``DSDECOD`` (NCOMPLT, C66727),
   ``DSTERM``, ``EPOCH`` (C99079), ``DSSTDTC``; DM ``DTHDTC``/``DTHFL``; ADaMIG v1.3 ADSL
   ``EOTSTT``, ``EOSSTT``, ``DCTREAS``, ``DCSREAS``, ``DTHDT``, ``DTHCAUS``.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.clinical import terminology as ct
from equitrial.errors import ConflictError, InvalidInputError
from equitrial.randomization import service as allocation_service
from equitrial.services._base import (
    RecordView,
    audited_insert,
    audited_update,
    lock_subject,
    today,
    view_of,
)
from equitrial.services.auth import Actor
from equitrial.services.checks import CheckContext, Finding, enforce
from equitrial.services.forms import Form, new_record, register
from equitrial.services.queries import open_queries_for
from equitrial.services.schedule import day_one
from equitrial.services.subjects import SITE_STAFF, subject_for_write
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "DEATH_FORM",
    "DISPOSITION_FORM",
    "SCREEN_FAILED",
    "record_death",
    "record_disposition",
    "record_screen_failure",
]

SCREEN_FAILED: Final = "screen failed"
"""The subject status set by a screen failure."""

_END_OF_TREATMENT, _END_OF_STUDY = "END OF TREATMENT", "END OF STUDY"
_FIXED_EPOCH: Final = {_END_OF_TREATMENT: "TREATMENT", ct.SCREEN_FAILURE: "SCREENING"}


def _dispositions(
    session: Session, subject: m.Subject, skip: int | None
) -> dict[str, m.Disposition]:
    rows = session.scalars(select(m.Disposition).where(m.Disposition.subject_id == subject.id))
    return {row.scope: row for row in rows if row.id != skip}


def _death(session: Session, subject: m.Subject, skip: int | None) -> m.Death | None:
    death = session.scalar(select(m.Death).where(m.Death.subject_id == subject.id))
    return None if death is None or death.id == skip else death


def _randomized(session: Session, subject: m.Subject) -> bool:
    return allocation_service.allocation_of(session, subject.id) is not None


def _not_before_consent(date: dt.date, subject: m.Subject, what: str) -> None:
    if subject.consent_date is not None and date < subject.consent_date:
        raise InvalidInputError(
            f"date ({date}) is before the {what} consent date ({subject.consent_date})",
            field="date",
            value=date,
            expected="not before consent",
        )


def _scope_order(obj: m.Disposition, others: dict[str, m.Disposition]) -> None:
    treatment = obj if obj.scope == _END_OF_TREATMENT else others.get(_END_OF_TREATMENT)
    study = obj if obj.scope == _END_OF_STUDY else others.get(_END_OF_STUDY)
    if treatment is None or study is None or study.date >= treatment.date:
        return
    raise InvalidInputError(
        f"date: the end of study ({study.date}) is before the end of treatment "
        f"({treatment.date}); expected end of study >= end of treatment",
        field="date",
        value=obj.date,
        expected="end of study not before end of treatment",
    )


def _default_epoch(session: Session, obj: m.Disposition, subject: m.Subject) -> str:
    if obj.scope in _FIXED_EPOCH:
        return _FIXED_EPOCH[obj.scope]
    treatment = _dispositions(session, subject, obj.id).get(_END_OF_TREATMENT)
    if treatment is not None and treatment.date < obj.date:
        return "FOLLOW-UP"
    return "TREATMENT" if _randomized(session, subject) else "SCREENING"


def _check_scope(session: Session, obj: m.Disposition, subject: m.Subject) -> None:
    """The epoch and reason a scope allows; a screen failure only before randomization."""
    fixed = _FIXED_EPOCH.get(obj.scope)
    if fixed is not None and obj.epoch != fixed:
        raise InvalidInputError(
            f"epoch = {obj.epoch!r}: a {obj.scope.lower()} happens in the {fixed} epoch",
            field="epoch",
            value=obj.epoch,
            expected=fixed,
        )
    if (obj.scope == ct.SCREEN_FAILURE) != (obj.decod == ct.SCREEN_FAILURE):
        raise InvalidInputError(
            f"decod = {obj.decod!r}: SCREEN FAILURE is the reason of a screen failure only",
            field="decod",
            value=obj.decod,
        )
    if obj.scope == ct.SCREEN_FAILURE and _randomized(session, subject):
        raise ConflictError(
            f"subject {subject.subject_code} is randomized; a randomized subject cannot be a "
            "screen failure (record the end of treatment or of study)",
            field="scope",
            value=obj.scope,
        )


def _death_agrees(disposition: m.Disposition | None, death: m.Death | None) -> str | None:
    """Why an end-of-study disposition and a death disagree (``None``: they agree)."""
    if death is not None and disposition is not None and disposition.decod != "DEATH":
        return (
            f"a death on {death.date} is recorded but the end-of-study reason is "
            f"{disposition.decod}, not DEATH"
        )
    if death is not None and disposition is not None and disposition.date != death.date:
        return f"the end of study for DEATH is dated {disposition.date}, the death {death.date}"
    if death is None and disposition is not None and disposition.decod == "DEATH":
        return "the end-of-study reason is DEATH but no death is recorded"
    return None


def _article(noun: str) -> str:
    return "an" if noun[:1] in "AEIOU" else "a"


def _derive_disposition(session: Session, obj: m.Disposition, subject: m.Subject) -> list[Finding]:
    obj.disposition_status = "COMPLETED" if obj.decod == "COMPLETED" else "DISCONTINUED"
    if obj.epoch is None:
        obj.epoch = _default_epoch(session, obj, subject)
    others = _dispositions(session, subject, obj.id)
    if obj.scope in others:
        raise ConflictError(
            f"subject {subject.subject_code} has {_article(obj.scope)} {obj.scope.lower()} already "
            f"(disposition {others[obj.scope].id}); correct that record instead",
            field="scope",
            value=obj.scope,
        )
    _check_scope(session, obj, subject)
    if obj.scope == ct.SCREEN_FAILURE and subject.status != SCREEN_FAILED:
        raise InvalidInputError(
            "scope: a screen failure is recorded with outcomes.record_screen_failure",
            field="scope",
            value=obj.scope,
        )
    _not_before_consent(obj.date, subject, "subject's")
    _scope_order(obj, others)
    if obj.scope == ct.SCREEN_FAILURE:
        return _screen_failure_findings(obj, subject)
    if obj.scope != _END_OF_STUDY:
        return []
    why = _death_agrees(obj, _death(session, subject, None))
    return [] if why is None else [Finding("decod", "death-consistency", why, "implausible")]


def _screen_failure_findings(obj: m.Disposition, subject: m.Subject) -> list[Finding]:
    if obj.reason_category != "FAILED ELIGIBILITY CRITERIA" or subject.eligible is not True:
        return []
    message = (
        "reason_category is FAILED ELIGIBILITY CRITERIA but the investigator confirmed the "
        "subject eligible; correct the eligibility decision or the reason"
    )
    return [Finding("reason_category", "eligibility-consistency", message, "implausible")]


def _derive_death(session: Session, obj: m.Death, subject: m.Subject) -> list[Finding]:
    if _death(session, subject, obj.id) is not None:
        raise ConflictError(
            f"a death of subject {subject.subject_code} is recorded already; correct it instead",
            field="death",
        )
    _not_before_consent(obj.date, subject, "subject's")
    randomized = day_one(session, subject.id)
    if randomized is not None:
        if obj.date < randomized:
            raise InvalidInputError(
                f"date ({obj.date}) is before randomization ({randomized})",
                field="date",
                value=obj.date,
                expected="not before randomization",
            )
    why = _death_agrees(_dispositions(session, subject, None).get(_END_OF_STUDY), obj)
    return [] if why is None else [Finding("date", "death-consistency", why, "implausible")]


DISPOSITION_FORM: Final = register(
    Form(
        "disposition",
        m.Disposition,
        _derive_disposition,
        derived=frozenset({"disposition_status"}),
        fixed=frozenset({"scope"}),
    )
)
"""The disposition form: end of treatment, end of study, screen failure (table
``disposition``)."""

DEATH_FORM: Final = register(Form("death", m.Death, _derive_death))
"""The death form (table ``death``)."""


def record_disposition(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    scope: str,
    decod: str,
    date: dt.date,
    epoch: str | None = None,
    reason: str | None = None,
) -> RecordView:
    """Record the end of treatment or the end of study (site staff of the subject's site).

    Parameters
    ----------
    scope : {"END OF TREATMENT", "END OF STUDY"}
        Which disposition (a screen failure: :func:`record_screen_failure`).
    decod : {"COMPLETED", "ADVERSE EVENT", "PROGRESSIVE DISEASE", "DEATH", \
"WITHDRAWAL BY SUBJECT", "PHYSICIAN DECISION", "LOST TO FOLLOW-UP", "PROTOCOL DEVIATION", \
"STUDY TERMINATED BY SPONSOR", "OTHER"}
        The CDISC NCOMPLT reason (:data:`equitrial.clinical.terminology.DISPOSITION_REASONS`).
    date
        Date of the end (not before consent, not in the future).
    epoch : {"SCREENING", "TREATMENT", "FOLLOW-UP", None}
        CDISC EPOCH in which it happened: TREATMENT for the end of treatment (anything else is
        refused). ``None``: TREATMENT for the end of treatment; for the end of study FOLLOW-UP
        after a recorded end of treatment of an earlier date, else TREATMENT for a randomized
        subject, else SCREENING.
    reason
        Free text; required when ``decod`` is ``OTHER``.

    Returns
    -------
    RecordView
        The saved record with the derived ``disposition_status``. An end of study that
        disagrees with the recorded death (or a reason DEATH without one) opens a query.

    Raises
    ------
    ConflictError
        The subject has a record of this scope already.
    InvalidInputError
        A value outside the terminology, no text for OTHER, a date before consent or in the
        future, an end of study before the end of treatment, an epoch the scope does not
        allow; nothing is written.
    """
    if scope not in (_END_OF_TREATMENT, _END_OF_STUDY):
        raise InvalidInputError(
            f"scope = {scope!r}; expected END OF TREATMENT or END OF STUDY (a screen failure "
            "is recorded with record_screen_failure)",
            field="scope",
            value=scope,
        )
    fields = {"scope": scope, "epoch": epoch, "decod": decod, "date": date, "reason": reason}
    return new_record(engine, actor, DISPOSITION_FORM, subject, fields)


def record_screen_failure(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    date: dt.date,
    reason: str,
    details: str | None = None,
) -> RecordView:
    """Record that a screened subject is not randomized (site staff of the subject's site).

    Saves a disposition with ``scope = "SCREEN FAILURE"``, ``epoch = "SCREENING"``,
    ``decod = "SCREEN FAILURE"``, ``reason_category = reason`` and ``reason = details``, and
    sets the subject's status to ``"screen failed"`` (audited, same transaction): the subject
    can then be neither randomized nor have its eligibility confirmed.

    Parameters
    ----------
    date
        Date of the screen failure (not before consent, not in the future).
    reason : {"FAILED ELIGIBILITY CRITERIA", "WITHDRAWAL BY SUBJECT", "ADVERSE EVENT", \
"DEATH", "PHYSICIAN DECISION", "LOST TO FOLLOW-UP", "OTHER"}
        The category (:data:`equitrial.clinical.terminology.SCREEN_FAILURE_REASONS`).
    details
        Free text; required when ``reason`` is ``OTHER``.

    Returns
    -------
    RecordView
        The saved disposition record (edit it with ``forms.update_form("disposition", ...)``:
        ``reason`` is stored as ``reason_category``, ``details`` as ``reason``, and the errors
        name those stored fields). FAILED ELIGIBILITY CRITERIA for a subject the investigator
        confirmed eligible opens a query.

    Raises
    ------
    ConflictError
        The subject is randomized, or has a screen failure already.
    InvalidInputError
        A reason outside the list, no details for OTHER, a date before consent or in the
        future; nothing is written.
    PermissionDeniedError, StudyLockedError
    """
    fields = {
        "scope": ct.SCREEN_FAILURE,
        "epoch": "SCREENING",
        "decod": ct.SCREEN_FAILURE,
        "reason_category": reason,
        "date": date,
        "reason": details,
    }
    enforce(DISPOSITION_FORM.name, fields, CheckContext(today()))
    with transaction(engine) as session:
        row = subject_for_write(session, actor, subject, SITE_STAFF)
        lock_subject(session, row)
        obj = m.Disposition(subject_id=row.id, **fields)
        if row.status != SCREEN_FAILED:
            audited_update(
                session, actor, row, {"status": SCREEN_FAILED}, reason="screen failure recorded"
            )
        with session.no_autoflush:
            implausible = _derive_disposition(session, obj, row)
        audited_insert(session, actor, obj)
        return view_of(obj, open_queries_for(session, actor, obj, implausible))


def record_death(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    date: dt.date,
    cause: str,
    cause_text: str | None = None,
) -> RecordView:
    """Record a subject's death (site staff of the subject's site; one per subject).

    Parameters
    ----------
    date
        Date of death: not before consent or randomization, not in the future.
    cause : {"ADVERSE EVENT", "PROGRESSIVE DISEASE", "OTHER", "UNKNOWN"}
        Primary cause.
    cause_text
        Free text; required when ``cause`` is ``OTHER``.

    Returns
    -------
    RecordView
        The saved death. An end-of-study disposition that is not DEATH or has another date
        opens a query.

    Raises
    ------
    ConflictError
        A death of the subject is recorded already.
    InvalidInputError
        A cause outside the terminology, no text for OTHER, a date before consent or
        randomization or in the future; nothing is written.
    """
    fields = {"date": date, "cause": cause, "cause_text": cause_text}
    return new_record(engine, actor, DEATH_FORM, subject, fields)
