"""The append-only, hash-chained audit trail.

Every row carries ``row_hash = SHA-256(canonical JSON of its content and prev_hash)``, where
``prev_hash`` is the previous row's ``row_hash`` (64 zeros for the first row). Changing,
inserting or removing a row anywhere but at the end breaks the chain from that row on, and
:func:`verify` names the first row that does not match. The database itself refuses UPDATE and
DELETE on ``audit_trail`` (triggers created by the first migration); the chain is what shows a
change made around them (a superuser disabling the trigger, a file edited by hand).

Appends are serial: on PostgreSQL :func:`append` first takes a transaction-scoped advisory lock
(released at commit or rollback); on SQLite the writing transaction already holds the database's
write lock (``BEGIN IMMEDIATE``, see :mod:`equitrial.store.db`). Under that lock it reads the
last row and writes the next one with ``id = last id + 1``, so ids have no gaps.

The chain alone cannot show rows removed from its END, nor a chain rewritten and re-hashed
from some row on: the signed anchors of :mod:`equitrial.store.anchor` (a key outside the
database) do. Nor does the chain show a data row changed behind the services' back: the replay
of :mod:`equitrial.store.reconcile` compares the state the trail implies with every table.

Notes
-----
Values are stored as text (:func:`audit_text`): ``None`` stays null, booleans are
``true``/``false``, floats use ``repr`` (exact round trip), dates ISO 8601, datetimes ISO 8601 in
UTC, other values canonical JSON. A few columns are written so that a reader of the trail can
check them but not learn them (:data:`CONCEALED`: the arm of an allocation or of a kit, a
password hash, as a keyed HMAC, :func:`equitrial.store.keys.commit`), or only by their digest
(:data:`DIGESTED`: a data cut's snapshot, as ``sha256:<hex>``). Rows written in bulk (an
allocation list) are audited one audit row per record with ``field`` ``"*"`` and the record's
column texts as a JSON object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.state import InstanceState

from equitrial.errors import InvalidInputError
from equitrial.store._audit_append import (
    APPENDED_KEY,
    AUDIT_LOCK_KEY,
    CONCEALED,
    DATA_ACTIONS,
    DIGESTED,
    NOT_AUDITED,
    WHOLE_ROW,
    AuditActor,
    AuditRow,
    append,
    append_rows,
    appended_head,
    audit_entry,
    audit_text,
    chain_id,
    chain_in,
    to_text,
    who_acts,
)
from equitrial.store.chain import GENESIS_HASH, AuditVerification, compute_row_hash, verify
from equitrial.store.models import AuditTrail
from equitrial.store.validation import check_row, checked_rows

__all__ = [
    "APPENDED_KEY",
    "AUDIT_LOCK_KEY",
    "CONCEALED",
    "DATA_ACTIONS",
    "DIGESTED",
    "GENESIS_HASH",
    "NOT_AUDITED",
    "WHOLE_ROW",
    "AuditActor",
    "AuditRow",
    "AuditVerification",
    "append",
    "append_rows",
    "appended_head",
    "audit_text",
    "chain_id",
    "compute_row_hash",
    "record_all_changes",
    "record_changes",
    "record_update",
    "record_updates",
    "to_text",
    "verify",
]

_INSERTED_KEY: Final = "equitrial_inserted_unaudited"


@event.listens_for(Session, "pending_to_persistent")
def _remember_insert(session: Session, instance: Any) -> None:
    # record_changes() is also called just after the flush that inserted a record; by then the
    # attribute history is gone, so the insert is remembered here.
    if not isinstance(instance, AuditTrail):
        session.info.setdefault(_INSERTED_KEY, set()).add(inspect(instance))


def _column_values(obj: Any) -> dict[str, Any]:
    mapper = inspect(type(obj))
    return {
        attr.key: getattr(obj, attr.key)
        for attr in mapper.column_attrs
        if attr.key not in NOT_AUDITED
    }


def _changed_values(state: InstanceState[Any]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in NOT_AUDITED:
            continue
        history = state.attrs[attr.key].history
        if history.added or history.deleted:
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new or type(old) is not type(new):
                changes[attr.key] = (old, new)
    return changes


def _require_reason(table: str, fields: list[str], reason: str | None) -> None:
    if fields and not (reason and reason.strip()):
        raise InvalidInputError(
            f"{table}.{fields[0]}: a reason is required for any change after first entry",
            field=fields[0],
            expected="a non-empty reason for the change",
        )


def _diff(
    session: Session, state: InstanceState[Any], obj: Any
) -> tuple[str, Mapping[str, tuple[Any, Any]]]:
    if state.transient or state.pending:
        return "insert", {k: (None, v) for k, v in _column_values(obj).items()}
    if state.deleted or obj in session.deleted:
        return "delete", {k: (v, None) for k, v in _column_values(obj).items()}
    inserted: set[InstanceState[Any]] = session.info.get(_INSERTED_KEY, set())
    if state in inserted and not state.modified:
        return "insert", {k: (None, v) for k, v in _column_values(obj).items()}
    return "update", _changed_values(state)


def record_changes(
    session: Session, actor: AuditActor, obj: Any, *, reason: str | None
) -> list[AuditRow]:
    """Flush one record's insert, update or delete and audit it, one row per field.

    Parameters
    ----------
    session
        The use case's session.
    actor
        Who acts.
    obj
        A model instance: new (transient or pending, or inserted by the last flush), modified,
        or marked for deletion with ``session.delete(obj)``.
    reason
        Why. Required (non-blank) for updates and deletes: a change after first entry.

    Returns
    -------
    list of AuditRow
        The audit rows written (none when nothing changed).

    Raises
    ------
    InvalidInputError
        A value of the wrong type or too long for its column (:mod:`equitrial.store.validation`),
        or a change or deletion without a reason, naming the first changed field.
    sqlalchemy.orm.exc.StaleDataError
        Another transaction changed the record since it was read (optimistic locking).

    Notes
    -----
    Inserts log every field (old null); updates log the changed fields with old and new value;
    deletes log every field's last value (new null). :data:`NOT_AUDITED` columns are not logged.
    Values are checked and coerced first, so the trail holds the value as stored.
    """
    return record_all_changes(session, actor, [obj], reason=reason)


def record_all_changes(
    session: Session, actor: AuditActor, objs: list[Any], *, reason: str | None
) -> list[AuditRow]:
    """:func:`record_changes` of several records: one flush and one audit statement for all.

    The rows are written in the order of ``objs``, each record's fields together.
    """
    pending = []
    for obj in objs:
        state: InstanceState[Any] = inspect(obj)
        table = obj.__tablename__
        if not (state.deleted or obj in session.deleted) and (
            not state.persistent or state.modified
        ):
            # a persistent record not changed since its flush was checked by that flush
            check_row(obj)
        action, changes = _diff(session, state, obj)
        if action != "insert":
            _require_reason(table, list(changes), reason)
        if not changes:
            continue
        if state.transient:
            session.add(obj)
        record_id = state.identity[0] if state.identity else None
        pending.append((obj, state, table, record_id, action, changes))
    if not pending:
        return []
    with checked_rows(session, [obj for obj, *_ in pending]):
        session.flush()
    inserted = session.info.get(_INSERTED_KEY, set())
    entries = []
    for obj, state, table, record_id, action, changes in pending:
        inserted.discard(state)
        entries += _entries(
            actor, table, obj.id if record_id is None else record_id, changes, reason, action
        )
    return chain_in(session, entries)


def record_update(
    session: Session,
    actor: AuditActor,
    table: str,
    record_id: int,
    changes: Mapping[str, tuple[Any, Any]],
    *,
    reason: str | None,
    action: str = "update",
) -> list[AuditRow]:
    """Audit a change made with a Core statement: one row per ``field: (old, new)``, all
    inserted in one statement.

    For the rare write that cannot go through the ORM unit of work (the claim of an allocation
    slot is an ``UPDATE ... WHERE subject_id IS NULL`` that must touch exactly one row). Values
    are written as :func:`audit_text` gives them.
    """
    entries = _entries(actor, table, record_id, changes, reason, action)
    return chain_in(session, entries) if entries else []


def record_updates(
    session: Session,
    actor: AuditActor,
    table: str,
    updates: list[tuple[int, Mapping[str, tuple[Any, Any]]]],
    *,
    reason: str | None,
) -> list[AuditRow]:
    """:func:`record_update` of several records of ``table`` (``(record id, changes)`` each):
    the same rows, record after record, inserted in one statement."""
    entries = [
        entry
        for record_id, changes in updates
        for entry in _entries(actor, table, record_id, changes, reason, "update")
    ]
    return chain_in(session, entries) if entries else []


def _entries(
    actor: AuditActor,
    table: str,
    record_id: int,
    changes: Mapping[str, tuple[Any, Any]],
    reason: str | None,
    action: str,
) -> list[dict[str, Any]]:
    who = who_acts(actor.username, actor.user_id, action, reason)
    return [
        audit_entry(
            who,
            table,
            record_id,
            name,
            audit_text(table, record_id, name, old),
            audit_text(table, record_id, name, new),
        )
        for name, (old, new) in changes.items()
    ]
