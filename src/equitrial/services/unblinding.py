"""Use cases of emergency unblinding: the investigator learns one subject's arm, with a reason.

The unblinding is audited (action ``unblind``: who, when, which subject, why; the arm itself is
not written to the trail, which blinded users read) and reported to the unblinded roles through
:func:`unblinding_report`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from equitrial.errors import InvalidInputError, NotFoundError
from equitrial.randomization import service as allocation_service
from equitrial.services._base import audited_insert
from equitrial.services.auth import UNBLINDED_ROLES, Actor, require
from equitrial.services.subjects import subject_for_read
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["UnblindingEvent", "unblind", "unblinding_report"]


@dataclass(frozen=True)
class UnblindingEvent:
    """One emergency unblinding: subject, who, when, why and the arm revealed."""

    id: int
    subject_code: str
    username: str
    at: dt.datetime
    reason: str
    arm: str


def unblind(engine: Engine, actor: Actor, subject: int | str, *, reason: str) -> UnblindingEvent:
    """Reveal a randomized subject's arm to its investigator in an emergency.

    Raises
    ------
    InvalidInputError
        No reason.
    PermissionDeniedError
        Not an investigator of the subject's site.
    NotFoundError
        The subject is not randomized.

    Notes
    -----
    Allowed even after the database lock: patient safety comes first.
    """
    if not reason or not reason.strip():
        raise InvalidInputError("an emergency unblinding needs a reason", field="reason")
    with transaction(engine) as session:
        row = subject_for_read(session, actor, subject)
        require(actor, roles={"investigator"}, site=row.site_id)
        arm = allocation_service.arm_of(session, row.id)
        if arm is None:
            raise NotFoundError(f"subject {row.subject_code} is not randomized", field="subject")
        event = audited_insert(
            session, actor, m.Unblinding(subject_id=row.id, user_id=actor.user_id, reason=reason)
        )
        audit.append(
            session,
            actor_username=actor.username,
            user_id=actor.user_id,
            action="unblind",
            table_name="subject",
            record_id=row.id,
            reason=reason,
        )
        return UnblindingEvent(event.id, row.subject_code, actor.username, event.at, reason, arm)


def unblinding_report(engine: Engine, actor: Actor) -> list[UnblindingEvent]:
    """Every emergency unblinding with the arm revealed (unblinded roles only)."""
    require(actor, roles=UNBLINDED_ROLES)
    with transaction(engine, read_only=True) as session:
        rows = session.execute(
            select(m.Unblinding, m.Subject.subject_code, m.User.username)
            .join(m.Subject, m.Subject.id == m.Unblinding.subject_id)
            .join(m.User, m.User.id == m.Unblinding.user_id)
            .order_by(m.Unblinding.id)
        ).all()
        return [
            UnblindingEvent(
                u.id,
                code,
                name,
                u.at,
                u.reason,
                allocation_service.arm_of(session, u.subject_id) or "",
            )
            for u, code, name in rows
        ]
