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

Notes
-----
Rows removed from the END of the chain leave a shorter chain that still verifies; compare the
reported ``rows`` and ``final_hash`` with a copy kept elsewhere (a backup, a printed report) to
detect that. Values are stored as text: ``None`` stays null, booleans are ``true``/``false``,
floats use ``repr`` (exact round trip), dates and datetimes ISO 8601, other values canonical
JSON. Password hashes are never written to the trail (recorded as ``"<redacted>"``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.state import InstanceState

from equitrial import __version__
from equitrial.errors import InvalidInputError
from equitrial.store.models import AuditTrail, utcnow

__all__ = [
    "GENESIS_HASH",
    "AuditActor",
    "AuditVerification",
    "append",
    "compute_row_hash",
    "record_changes",
    "to_text",
    "verify",
]

GENESIS_HASH: Final = "0" * 64
AUDIT_LOCK_KEY: Final = 5_823_170_412_961  # pg_advisory_xact_lock key of the audit chain
_NOT_AUDITED: Final = frozenset({"id", "version", "created_at", "updated_at"})
_REDACTED: Final = frozenset({"password_hash"})
_INSERTED_KEY: Final = "equitrial_inserted_unaudited"


class AuditActor(Protocol):
    """Who acts: anything with a ``user_id`` and a ``username`` (``services.auth.Actor``)."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class AuditVerification:
    """Result of :func:`verify`.

    Attributes
    ----------
    ok
        Whether every row matches its hash and links to the previous row.
    rows
        Number of rows checked.
    final_hash
        ``row_hash`` of the last row when the chain holds (``None`` when empty or broken).
    first_bad_id
        ``id`` of the first row that does not match (``None`` when ``ok``).
    message
        What was found, in words.
    """

    ok: bool
    rows: int
    final_hash: str | None
    first_bad_id: int | None
    message: str


def to_text(value: Any) -> str | None:
    """The text form in which a value is stored in the audit trail (see the module notes)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _content(row: Any) -> dict[str, Any]:
    at: dt.datetime = row.at
    return {
        "id": row.id,
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "user_id": row.user_id,
        "username": row.username,
        "action": row.action,
        "table_name": row.table_name,
        "record_id": row.record_id,
        "field": row.field,
        "old_value": row.old_value,
        "new_value": row.new_value,
        "reason": row.reason,
        "software_version": row.software_version,
        "prev_hash": row.prev_hash,
    }


def compute_row_hash(row: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of an audit row's content, ``prev_hash`` included.

    Canonical JSON: keys sorted, no whitespace, UTF-8, ``at`` as ISO 8601 UTC with microseconds.
    """
    canonical = json.dumps(_content(row), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})


def append(
    session: Session,
    *,
    actor_username: str,
    user_id: int | None,
    action: str,
    table_name: str | None,
    record_id: int | str | None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
) -> AuditTrail:
    """Append one row to the audit trail, in the caller's transaction.

    Parameters
    ----------
    session
        The use case's session (its transaction commits or rolls back the row with the data).
    actor_username, user_id
        Who acted (``user_id`` null for an unknown user, e.g. a failed login).
    action
        ``insert``, ``update``, ``delete``, ``login``, ``login-failed``, ``role-change``,
        ``export``, ``unblind``, ``sign``, ``lock``, ...
    table_name, record_id, field
        What was acted on.
    old, new
        The field's value before and after (stored with :func:`to_text`).
    reason
        Why (required by :func:`record_changes` for any change after first entry).

    Returns
    -------
    AuditTrail
        The flushed row, with its ``id`` and ``row_hash``.

    Raises
    ------
    InvalidInputError
        An empty ``actor_username`` or ``action``.
    """
    if not actor_username or not action:
        raise InvalidInputError(
            "an audit row needs an actor username and an action",
            field="actor_username" if not actor_username else "action",
        )
    _lock_chain(session)
    last = session.execute(
        select(AuditTrail.id, AuditTrail.row_hash).order_by(AuditTrail.id.desc()).limit(1)
    ).first()
    row = AuditTrail(
        id=1 if last is None else last.id + 1,
        at=utcnow(),
        user_id=user_id,
        username=actor_username,
        action=action,
        table_name=table_name,
        record_id=to_text(record_id),
        field=field,
        old_value=to_text(old),
        new_value=to_text(new),
        reason=reason,
        software_version=__version__,
        prev_hash=GENESIS_HASH if last is None else last.row_hash,
    )
    row.row_hash = compute_row_hash(row)
    session.add(row)
    session.flush()
    return row


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
        if attr.key not in _NOT_AUDITED
    }


def _changed_values(state: InstanceState[Any]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in _NOT_AUDITED:
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
) -> list[AuditTrail]:
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
    list of AuditTrail
        The audit rows written (none when nothing changed).

    Raises
    ------
    InvalidInputError
        A change or deletion without a reason, naming the first changed field.
    sqlalchemy.orm.exc.StaleDataError
        Another transaction changed the record since it was read (optimistic locking).

    Notes
    -----
    Inserts log every field (old null); updates log the changed fields with old and new value;
    deletes log every field's last value (new null). ``id``, ``version``, ``created_at`` and
    ``updated_at`` are not logged field by field.
    """
    state: InstanceState[Any] = inspect(obj)
    table = obj.__tablename__
    action, changes = _diff(session, state, obj)
    if action != "insert":
        _require_reason(table, list(changes), reason)
    if not changes:
        return []
    record_id = state.identity[0] if state.identity else None
    if state.transient:
        session.add(obj)
    session.flush()
    if record_id is None:
        record_id = obj.id
    session.info.get(_INSERTED_KEY, set()).discard(state)
    return [
        append(
            session,
            actor_username=actor.username,
            user_id=actor.user_id,
            action=action,
            table_name=table,
            record_id=record_id,
            field=name,
            old="<redacted>" if name in _REDACTED and old is not None else old,
            new="<redacted>" if name in _REDACTED and new is not None else new,
            reason=reason,
        )
        for name, (old, new) in changes.items()
    ]


def verify(session: Session) -> AuditVerification:
    """Recompute the hash chain of the whole audit trail.

    Parameters
    ----------
    session
        Any session (reads only).

    Returns
    -------
    AuditVerification
        ``ok`` with the row count and final hash, or the ``id`` of the first row whose id
        breaks the sequence (a row removed before it), whose ``prev_hash`` is not the previous
        row's hash (a row removed or re-hashed before it), or whose content does not match its
        ``row_hash`` (the row was changed).
    """
    columns = list(AuditTrail.__table__.c)
    result = session.execute(select(*columns).order_by(AuditTrail.id)).yield_per(1000)
    previous_hash, expected_id, rows = GENESIS_HASH, 1, 0
    for row in result:
        problem = _row_problem(row, expected_id, previous_hash)
        if problem is not None:
            return AuditVerification(False, rows, None, row.id, f"audit row {row.id}: {problem}")
        previous_hash, expected_id, rows = row.row_hash, row.id + 1, rows + 1
    if rows == 0:
        return AuditVerification(True, 0, None, None, "the audit trail is empty")
    return AuditVerification(
        True, rows, previous_hash, None, f"{rows} rows, chain intact, final hash {previous_hash}"
    )


def _row_problem(row: Any, expected_id: int, previous_hash: str) -> str | None:
    if row.id != expected_id:
        return f"expected id {expected_id} next: rows {expected_id}..{row.id - 1} are missing"
    if row.prev_hash != previous_hash:
        return "prev_hash does not match the previous row's hash (a row before it was altered)"
    if compute_row_hash(row) != row.row_hash:
        return "content does not match its row_hash (the row was altered)"
    return None
