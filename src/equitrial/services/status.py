"""Use cases of the record workflow: verify (SDV), sign, freeze, lock; lock the study database.

A clinical record moves ``entered`` -> ``verified`` (monitor, source data verification) ->
``signed`` (investigator e-signature: the password re-entered and the meaning of the signature)
-> ``frozen`` (data manager) -> ``locked`` (data manager). A frozen or locked record cannot
change; once the study's database is locked nothing can.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services._base import (
    RecordView,
    audited_update,
    ensure_study_open,
    get,
    record,
    subject_of,
    view_of,
)
from equitrial.services.auth import Actor, require, verify_password
from equitrial.services.study import current_study
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["freeze", "lock_database", "lock_record", "sign", "unfreeze", "verify"]


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
    obj = record(session, table, record_id)
    subject = subject_of(session, obj)
    require(actor, roles=roles, site=subject.site_id)
    ensure_study_open(session, subject.study_id)
    if obj.status != from_status:
        raise ConflictError(
            f"{table} {record_id} is {obj.status}; "
            f"it can become {to_status} only when {from_status}",
            field="status",
            value=obj.status,
        )
    audited_update(session, actor, obj, {"status": to_status}, reason=reason)
    return obj


def verify(engine: Engine, actor: Actor, table: str, record_id: int) -> RecordView:
    """Source data verification by the monitor: ``entered`` -> ``verified``."""
    with transaction(engine) as session:
        obj = _step(
            session,
            actor,
            table,
            record_id,
            roles=frozenset({"monitor"}),
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
        session.add(signature)
        session.flush()
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
    """Send a frozen record back to ``entered`` for a correction (data manager, with a reason)."""
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
    """Lock the study database (data manager): from now on no record of the study can change."""
    require(actor, roles={"data-manager"})
    with transaction(engine) as session:
        study = current_study(session)
        ensure_study_open(session, study.id)
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
