"""Use cases of the record workflow: verify (SDV), sign, freeze, lock; lock the study database.

A clinical record moves ``entered`` -> ``verified`` (monitor, source data verification) ->
``signed`` (investigator e-signature: the password re-entered and the meaning of the signature)
-> ``frozen`` (data manager) -> ``locked`` (data manager). A frozen or locked record cannot
change; once the study's database is locked nothing can.

Two rules hold the workflow together:

- four eyes: nobody verifies values they entered or changed themselves (:func:`verify`);
- a signature covers the values it was given for: when a signed record returns to ``entered``
  (an edit, a re-derived value, :func:`unfreeze`), its signature is marked superseded
  (``superseded_at``). A record has a current signature exactly when it is ``signed``,
  ``frozen`` or ``locked``; :func:`record_signatures` lists current and superseded ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services._base import (
    RecordView,
    audited_insert,
    audited_update,
    ensure_study_open,
    get,
    lock_row,
    lock_subject,
    record,
    subject_of,
    supersede_signatures,
    view_of,
)
from equitrial.services._derivation import is_derivation
from equitrial.services.auth import ROLES, Actor, require, require_study_wide, verify_password
from equitrial.services.study import current_study
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "SignatureView",
    "freeze",
    "lock_database",
    "lock_record",
    "record_signatures",
    "sign",
    "unfreeze",
    "verify",
]


@dataclass(frozen=True)
class SignatureView:
    """One e-signature of a record: who signed, when, what it means, and whether it still
    covers the record (``superseded_at`` is set when the record changed after signing)."""

    id: int
    username: str
    meaning: str
    signed_at: dt.datetime
    superseded_at: dt.datetime | None

    @property
    def current(self) -> bool:
        """Whether the signature covers the record's present values."""
        return self.superseded_at is None


def _for_step(
    session: Session, actor: Actor, table: str, record_id: int, roles: frozenset[str]
) -> m.ClinicalRecordMixin:
    """The record, checked for role and site, locked for the step (after the study check)."""
    obj = record(session, table, record_id)
    subject = subject_of(session, obj)
    require(actor, roles=roles, site=subject.site_id)
    ensure_study_open(session, subject.study_id)
    lock_subject(session, subject)
    lock_row(session, obj)
    return obj


def _move(
    session: Session,
    actor: Actor,
    obj: m.ClinicalRecordMixin,
    *,
    from_status: str,
    to_status: str,
    reason: str,
) -> None:
    if obj.status != from_status:
        raise ConflictError(
            f"{getattr(obj, '__tablename__', 'record')} {obj.id} is {obj.status}; "
            f"it can become {to_status} only when {from_status}",
            field="status",
            value=obj.status,
        )
    audited_update(session, actor, obj, {"status": to_status}, reason=reason)


def _step(
    session: Session,
    actor: Actor,
    table: str,
    record_id: int,
    *,
    roles: frozenset[str],
    from_status: str,
    to_status: str,
    reason: str,
) -> m.ClinicalRecordMixin:
    obj = _for_step(session, actor, table, record_id, roles)
    _move(session, actor, obj, from_status=from_status, to_status=to_status, reason=reason)
    return obj


def _value_authors(session: Session, table: str, record_id: int) -> set[int]:
    """Users who entered the record or changed one of its values (not its workflow status).

    Values re-derived by the system (:mod:`equitrial.services._derivation`) are not authored.
    """
    rows = session.execute(
        select(m.AuditTrail.user_id, m.AuditTrail.username).where(
            m.AuditTrail.table_name == table,
            m.AuditTrail.record_id == str(record_id),
            m.AuditTrail.action.in_(("insert", "update")),
            m.AuditTrail.field != "status",
        )
    ).all()
    return {uid for uid, name in rows if uid is not None and not is_derivation(name)}


def verify(engine: Engine, actor: Actor, table: str, record_id: int) -> RecordView:
    """Source data verification by the monitor: ``entered`` -> ``verified``.

    Raises
    ------
    PermissionDeniedError
        Not a monitor of the subject's site, or the monitor entered the record or changed one
        of its values (four eyes: nobody verifies their own entries).
    ConflictError
        The record is not ``entered``.
    """
    with transaction(engine) as session:
        obj = _for_step(session, actor, table, record_id, frozenset({"monitor"}))
        if actor.user_id is not None and actor.user_id in _value_authors(session, table, obj.id):
            raise PermissionDeniedError(
                f"user {actor.username!r} entered or changed {table} {record_id} and cannot "
                "source-verify it; another monitor must",
                field="actor",
                value=actor.username,
            )
        _move(
            session,
            actor,
            obj,
            from_status="entered",
            to_status="verified",
            reason="source data verified",
        )
        return view_of(obj)


def sign(
    engine: Engine, actor: Actor, table: str, record_id: int, *, password: str, meaning: str
) -> RecordView:
    """Investigator e-signature of a verified record (21 CFR 11.50/11.200).

    Parameters
    ----------
    password
        The investigator's password, re-entered at signing.
    meaning
        What the signature means (e.g. ``"I approve the data of this record"``); stored with
        the signature and in the audit trail.

    Raises
    ------
    PermissionDeniedError
        Not an investigator of the subject's site, or a wrong password (nothing is written).
    InvalidInputError
        No meaning.
    """
    if not meaning or not meaning.strip():
        raise InvalidInputError("a signature needs its meaning", field="meaning")
    with transaction(engine) as session:
        user = get(session, m.User, actor.user_id or -1, "user")
        if not verify_password(user.password_hash, password):
            raise PermissionDeniedError(
                "wrong password; the record is not signed", field="password"
            )
        obj = _step(
            session,
            actor,
            table,
            record_id,
            roles=frozenset({"investigator"}),
            from_status="verified",
            to_status="signed",
            reason=f"signed: {meaning}",
        )
        signature = m.Signature(
            table_name=table, record_id=record_id, user_id=user.id, meaning=meaning
        )
        audited_insert(session, actor, signature)
        audit.append(
            session,
            actor_username=actor.username,
            user_id=actor.user_id,
            action="sign",
            table_name=table,
            record_id=record_id,
            field="signature",
            new=meaning,
            reason=f"signature {signature.id}",
        )
        return view_of(obj)


def freeze(engine: Engine, actor: Actor, table: str, record_id: int) -> RecordView:
    """Freeze a signed record (data manager): no more changes unless unfrozen."""
    with transaction(engine) as session:
        obj = _step(
            session,
            actor,
            table,
            record_id,
            roles=frozenset({"data-manager"}),
            from_status="signed",
            to_status="frozen",
            reason="frozen",
        )
        return view_of(obj)


def unfreeze(
    engine: Engine, actor: Actor, table: str, record_id: int, *, reason: str
) -> RecordView:
    """Send a frozen record back to ``entered`` for a correction (data manager, with a reason).

    The record's signature is marked superseded: an ``entered`` record is unsigned.
    """
    with transaction(engine) as session:
        obj = _step(
            session,
            actor,
            table,
            record_id,
            roles=frozenset({"data-manager"}),
            from_status="frozen",
            to_status="entered",
            reason=reason,
        )
        supersede_signatures(session, actor, obj, reason=f"record unfrozen: {reason}")
        return view_of(obj)


def lock_record(engine: Engine, actor: Actor, table: str, record_id: int) -> RecordView:
    """Lock a frozen record (data manager); a locked record never changes again."""
    with transaction(engine) as session:
        obj = _step(
            session,
            actor,
            table,
            record_id,
            roles=frozenset({"data-manager"}),
            from_status="frozen",
            to_status="locked",
            reason="locked",
        )
        audit.append(
            session,
            actor_username=actor.username,
            user_id=actor.user_id,
            action="lock",
            table_name=table,
            record_id=record_id,
        )
        return view_of(obj)


def lock_database(engine: Engine, actor: Actor, *, reason: str) -> RecordView:
    """Lock the study database: from now on no record of the study can change.

    Needs a study-wide data manager (a data manager of some sites only may not lock the whole
    study). On PostgreSQL the lock takes the study's lock exclusively
    (:func:`~equitrial.services._base.ensure_study_open`): it waits for every write that
    checked the study open to commit, and every later write waits for the lock and is then
    refused. Emergency unblinding, data cuts, reads and user administration stay allowed.
    """
    require_study_wide(actor, {"data-manager"})
    with transaction(engine) as session:
        study = current_study(session)
        ensure_study_open(session, study.id, exclusive=True)
        session.refresh(study)  # read before the lock was granted
        audited_update(session, actor, study, {"locked_at": m.utcnow()}, reason=reason)
        audit.append(
            session,
            actor_username=actor.username,
            user_id=actor.user_id,
            action="lock",
            table_name="study",
            record_id=study.id,
            reason=reason,
        )
        return view_of(study)


def record_signatures(
    engine: Engine, actor: Actor, table: str, record_id: int
) -> list[SignatureView]:
    """The e-signatures of a record, oldest first, current and superseded (any role at the
    subject's site)."""
    with transaction(engine, read_only=True) as session:
        obj = record(session, table, record_id)
        require(actor, roles=ROLES, site=subject_of(session, obj).site_id)
        rows = session.execute(
            select(m.Signature, m.User.username)
            .join(m.User, m.User.id == m.Signature.user_id)
            .where(m.Signature.table_name == table, m.Signature.record_id == record_id)
            .order_by(m.Signature.id)
        ).all()
        return [
            SignatureView(s.id, name, s.meaning, s.signed_at, s.superseded_at) for s, name in rows
        ]
