"""Use cases of how a subject's participation ends: end of treatment, end of study, death.

A disposition record closes an epoch (``TREATMENT`` or ``STUDY``) with a CDISC NCOMPLT reason
(``decod``); each subject has at most one per epoch, and the end of study is not before the
end of treatment. ``disposition_status`` (COMPLETED / DISCONTINUED, ADaM ``EOTSTT`` /
``EOSSTT``) is derived from the reason. A death (one per subject) is dated on or after consent
and randomization and not in the future. A death and the end-of-study disposition should
agree (reason DEATH, same date): a disagreement is saved and opens a query, whichever of the
two is entered second.

Both are saved through :mod:`equitrial.services.forms`; edit checks in
:data:`equitrial.services.checks.CHECKS` (``"disposition"``, ``"death"``).

References
----------
.. [1] CDISC SDTMIG v3.4, DS (Disposition): ``DSDECOD`` (NCOMPLT), ``DSTERM``, ``EPOCH``,
   ``DSSTDTC``; DM ``DTHDTC``/``DTHFL``; ADaMIG v1.3 ADSL ``EOTSTT``, ``EOSSTT``, ``DCTREAS``,
   ``DCSREAS``, ``DTHDT``, ``DTHCAUS``.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services._base import RecordView
from equitrial.services.auth import Actor
from equitrial.services.checks import Finding
from equitrial.services.forms import Form, new_record, register
from equitrial.services.schedule import day_one
from equitrial.store import models as m

__all__ = ["DEATH_FORM", "DISPOSITION_FORM", "record_death", "record_disposition"]


def _dispositions(
    session: Session, subject: m.Subject, skip: int | None
) -> dict[str, m.Disposition]:
    rows = session.scalars(select(m.Disposition).where(m.Disposition.subject_id == subject.id))
    return {row.epoch: row for row in rows if row.id != skip}


def _death(session: Session, subject: m.Subject, skip: int | None) -> m.Death | None:
    death = session.scalar(select(m.Death).where(m.Death.subject_id == subject.id))
    return None if death is None or death.id == skip else death


def _not_before_consent(date: dt.date, subject: m.Subject, what: str) -> None:
    if subject.consent_date is not None and date < subject.consent_date:
        raise InvalidInputError(
            f"date ({date}) is before the {what} consent date ({subject.consent_date})",
            field="date",
            value=date,
            expected="not before consent",
        )


def _epoch_order(obj: m.Disposition, others: dict[str, m.Disposition]) -> None:
    treatment = obj if obj.epoch == "TREATMENT" else others.get("TREATMENT")
    study = obj if obj.epoch == "STUDY" else others.get("STUDY")
    if treatment is None or study is None or study.date >= treatment.date:
        return
    raise InvalidInputError(
        f"date: the end of study ({study.date}) is before the end of treatment "
        f"({treatment.date}); expected end of study >= end of treatment",
        field="date",
        value=obj.date,
        expected="end of study not before end of treatment",
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


def _derive_disposition(session: Session, obj: m.Disposition, subject: m.Subject) -> list[Finding]:
    obj.disposition_status = "COMPLETED" if obj.decod == "COMPLETED" else "DISCONTINUED"
    others = _dispositions(session, subject, obj.id)
    if obj.epoch in others:
        raise ConflictError(
            f"subject {subject.subject_code} has an end of {obj.epoch.lower()} already "
            f"(disposition {others[obj.epoch].id}); correct that record instead",
            field="epoch",
            value=obj.epoch,
        )
    _not_before_consent(obj.date, subject, "subject's")
    _epoch_order(obj, others)
    if obj.epoch != "STUDY":
        return []
    why = _death_agrees(obj, _death(session, subject, None))
    return [] if why is None else [Finding("decod", "death-consistency", why, "implausible")]


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
    why = _death_agrees(_dispositions(session, subject, None).get("STUDY"), obj)
    return [] if why is None else [Finding("date", "death-consistency", why, "implausible")]


DISPOSITION_FORM: Final = register(
    Form(
        "disposition",
        m.Disposition,
        _derive_disposition,
        derived=frozenset({"disposition_status"}),
        fixed=frozenset({"epoch"}),
    )
)
"""The end-of-treatment / end-of-study form (table ``disposition``)."""

DEATH_FORM: Final = register(Form("death", m.Death, _derive_death))
"""The death form (table ``death``)."""


def record_disposition(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    epoch: str,
    decod: str,
    date: dt.date,
    reason: str | None = None,
) -> RecordView:
    """Record the end of treatment or the end of study (site staff of the subject's site).

    Parameters
    ----------
    epoch : {"TREATMENT", "STUDY"}
        Which epoch ends.
    decod : {"COMPLETED", "ADVERSE EVENT", "PROGRESSIVE DISEASE", "DEATH", \
"WITHDRAWAL BY SUBJECT", "PHYSICIAN DECISION", "LOST TO FOLLOW-UP", "PROTOCOL DEVIATION", \
"STUDY TERMINATED BY SPONSOR", "OTHER"}
        The CDISC NCOMPLT reason (:data:`equitrial.clinical.terminology.DISPOSITION_REASONS`).
    date
        Date of the end (not before consent, not in the future).
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
        The subject has a record of this epoch already.
    InvalidInputError
        A value outside the terminology, no text for OTHER, a date before consent or in the
        future, an end of study before the end of treatment; nothing is written.
    """
    fields = {"epoch": epoch, "decod": decod, "date": date, "reason": reason}
    return new_record(engine, actor, DISPOSITION_FORM, subject, fields)


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
