"""Appending to the audit trail: rows linked to the head of the hash chain, in the caller's
transaction (see :mod:`equitrial.store.audit`, which re-exports the public names)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol, cast

from sqlalchemy import Table, event, func, insert, select, text
from sqlalchemy.orm import Session

from equitrial import __version__
from equitrial.errors import InvalidInputError
from equitrial.store import keys
from equitrial.store.chain import GENESIS_HASH, compute_row_hash
from equitrial.store.models import AuditTrail, utcnow
from equitrial.store.validation import check_values

__all__ = [
    "APPENDED_KEY",
    "AUDIT_LOCK_KEY",
    "CONCEALED",
    "DATA_ACTIONS",
    "DIGESTED",
    "NOT_AUDITED",
    "WHOLE_ROW",
    "AuditActor",
    "AuditRow",
    "append",
    "append_rows",
    "appended_head",
    "audit_entry",
    "audit_text",
    "chain_id",
    "chain_in",
    "to_text",
    "who_acts",
]

AUDIT_LOCK_KEY: Final = 5_823_170_412_961  # pg_advisory_xact_lock key of the audit chain
NOT_AUDITED: Final = frozenset({"id", "version", "created_at", "updated_at"})
"""Bookkeeping columns not audited field by field (the surrogate key, the optimistic-locking
counter, the row's own timestamps; every change of content has its own audited time)."""
CONCEALED: Final = frozenset(
    {("users", "password_hash"), ("randomization_schedule", "arm_code"), ("kit", "arm_code")}
)
"""(table, column) pairs audited as a keyed HMAC commitment, never in clear."""
DIGESTED: Final = frozenset({("data_cut", "snapshot_json")})
"""(table, column) pairs audited by their SHA-256 (large values the trail need not copy)."""
DATA_ACTIONS: Final = {
    "insert": "insert",
    "update": "update",
    "delete": "delete",
    "randomize": "update",
}
"""Audit actions that change a table's data, and the change each stands for (``randomize`` is
the update of a slot's ``subject_id``)."""
WHOLE_ROW: Final = "*"
"""``field`` of an audit row that records a whole record as a JSON object (bulk inserts)."""
_HEAD_KEY: Final = "equitrial_audit_head"
_CHAIN_KEY: Final = "equitrial_audit_chain"
_AUDIT_TABLE: Final = cast(Table, AuditTrail.__table__)
_INSERT_ROWS: Final = insert(_AUDIT_TABLE)
"""Audit rows go in with a Core statement (every row has every column: one executemany)."""
_PG_LOCK: Final = text("SELECT pg_advisory_xact_lock(:key)")
_FIRST: Final = select(_AUDIT_TABLE.c.id, _AUDIT_TABLE.c.row_hash).where(_AUDIT_TABLE.c.id == 1)
_HEAD_AND_FIRST: Final = select(_AUDIT_TABLE.c.id, _AUDIT_TABLE.c.row_hash).where(
    (_AUDIT_TABLE.c.id == 1)
    | (_AUDIT_TABLE.c.id == select(func.max(_AUDIT_TABLE.c.id)).scalar_subquery())
)
"""The chain's first row (its name, signed by the anchors) and its head, in one query."""
APPENDED_KEY: Final = "equitrial_audit_appended"
"""``session.info`` key set when a transaction appended audit rows (its head is then signed)."""


class AuditActor(Protocol):
    """Who acts: anything with a ``user_id`` and a ``username`` (``services.auth.Actor``)."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def username(self) -> str: ...


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
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def audit_text(table: str, record_id: Any, column: str, value: Any) -> str | None:
    """The text the trail holds for ``table.column`` of record ``record_id`` with ``value``.

    :func:`to_text` of the value, except for :data:`CONCEALED` columns (a keyed HMAC commitment,
    which needs the signing key) and :data:`DIGESTED` columns (``sha256:<hex>`` of the text).
    """
    text_value = to_text(value)
    if text_value is None:
        return None
    if (table, column) in CONCEALED:
        return keys.commit(keys.load_key(), table, record_id, column, text_value)
    if (table, column) in DIGESTED:
        return "sha256:" + hashlib.sha256(text_value.encode("utf-8")).hexdigest()
    return text_value


def _lock_chain(session: Session) -> tuple[int, str]:
    """Take the chain lock (PostgreSQL) and return the last row's id and hash (0, genesis).

    Once per transaction: the lock is held to its end (and SQLite's ``BEGIN IMMEDIATE``
    serializes writers), so no other transaction appends meanwhile and the head this
    transaction appended last, kept in ``session.info`` by :func:`_remember_head`, is the
    chain's head. The entry names the transaction it belongs to, so it is never used in
    another one.
    """
    current = session.get_transaction()
    known = session.info.get(_HEAD_KEY)
    if known is not None and known[0] is current:
        return known[1], known[2]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_PG_LOCK, {"key": AUDIT_LOCK_KEY})
    session.info[APPENDED_KEY] = True
    rows = sorted(connection.execute(_HEAD_AND_FIRST).all(), key=lambda row: int(row.id))
    if not rows:
        return 0, GENESIS_HASH
    session.info[_CHAIN_KEY] = (current, str(rows[0].row_hash))
    return int(rows[-1].id), str(rows[-1].row_hash)


def _remember_head(session: Session, row_id: int, row_hash: str) -> None:
    session.info[_HEAD_KEY] = (session.get_transaction(), row_id, row_hash)


def appended_head(session: Session) -> tuple[int, str] | None:
    """The id and hash of the last row this transaction appended (``None`` if none)."""
    known = session.info.get(_HEAD_KEY)
    if known is None or known[0] is not session.get_transaction():
        return None
    return known[1], known[2]


def chain_id(session: Session) -> str | None:
    """The hash of the chain's FIRST row (what names the chain), ``None`` while it is empty.

    Read with the head by the first append of the transaction; read again otherwise.
    """
    known = session.info.get(_CHAIN_KEY)
    if known is not None and known[0] is session.get_transaction() and known[1] is not None:
        return str(known[1])
    first = session.connection().execute(_FIRST).first()
    return None if first is None else str(first.row_hash)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_head(session: Session) -> None:
    session.info.pop(_HEAD_KEY, None)
    session.info.pop(_CHAIN_KEY, None)


def who_acts(
    actor_username: str, user_id: int | None, action: str, reason: str | None
) -> dict[str, Any]:
    """What the audit rows of one change share (who, the action, why), checked once.

    Raises
    ------
    InvalidInputError
        No actor or action; a value too long for its column (the reason, say) or with NUL.
    """
    if not actor_username or not action:
        raise InvalidInputError(
            "an audit row needs an actor username and an action",
            field="actor_username" if not actor_username else "action",
        )
    # the texts checked like every row written (lengths, no NUL): a Core insert skips the
    # ORM's before-flush check; the other values are the trail's own
    texts = {"username": actor_username, "reason": reason}
    checked = check_values(_AUDIT_TABLE, texts)
    return {
        "user_id": user_id,
        "username": checked["username"],
        "action": action,
        "reason": checked["reason"],
        "software_version": __version__,
    }


def audit_entry(
    who: Mapping[str, Any],
    table_name: str | None,
    record_id: int | str | None,
    field: str | None,
    old: Any,
    new: Any,
) -> dict[str, Any]:
    """An audit row's values (``who`` from :func:`who_acts`), without its place in the chain
    (``id``, hashes)."""
    return {
        **who,
        "at": utcnow(),
        "table_name": table_name,
        "record_id": to_text(record_id),
        "field": field,
        "old_value": to_text(old),
        "new_value": to_text(new),
    }


@dataclass(frozen=True, slots=True)
class AuditRow:
    """An audit row as written (the columns of :class:`AuditTrail`)."""

    id: int
    at: dt.datetime
    user_id: int | None
    username: str
    action: str
    table_name: str | None
    record_id: str | None
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None
    software_version: str
    prev_hash: str
    row_hash: str


def chain_in(session: Session, entries: list[dict[str, Any]]) -> list[AuditRow]:
    """Link ``entries`` to the head of the chain and insert them in one statement; returns
    the rows written, with ``id``, ``prev_hash`` and ``row_hash``."""
    last_id, previous = _lock_chain(session)
    for offset, row in enumerate(entries, start=1):
        row["id"] = last_id + offset
        row["prev_hash"] = previous
        row["row_hash"] = previous = compute_row_hash(row)
    session.connection().execute(_INSERT_ROWS, entries)
    _remember_head(session, entries[-1]["id"], entries[-1]["row_hash"])
    return [AuditRow(**row) for row in entries]


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
) -> AuditRow:
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
    AuditRow
        The row as written (inserted with a Core statement), with its ``id`` and ``row_hash``.

    Raises
    ------
    InvalidInputError
        An empty ``actor_username`` or ``action``.
    """
    who = who_acts(actor_username, user_id, action, reason)
    return chain_in(session, [audit_entry(who, table_name, record_id, field, old, new)])[0]


def append_rows(
    session: Session,
    actor: AuditActor,
    table: str,
    records: list[tuple[int, Mapping[str, Any]]],
    *,
    reason: str | None = None,
) -> int:
    """Audit the insert of many records at once: one audit row per record, in one statement.

    Parameters
    ----------
    session, actor
        The use case's session and who acts.
    table
        The table the records were inserted into (with a Core ``insert``).
    records
        ``(record id, {column: value})`` of each inserted record, every audited column
        (not :data:`NOT_AUDITED`) included.
    reason
        Written on every row.

    Returns
    -------
    int
        The number of audit rows written (``field`` :data:`WHOLE_ROW`, ``new_value`` the record's
        column texts as canonical JSON, concealed columns as their commitments).
    """
    if not records:
        return 0
    last_id, previous = _lock_chain(session)
    at, rows = utcnow(), []
    for offset, (record_id, values) in enumerate(records, start=1):
        texts = {
            column: audit_text(table, record_id, column, value)
            for column, value in values.items()
            if column not in NOT_AUDITED
        }
        row: dict[str, Any] = {
            "id": last_id + offset,
            "at": at,
            "user_id": actor.user_id,
            "username": actor.username,
            "action": "insert",
            "table_name": table,
            "record_id": to_text(record_id),
            "field": WHOLE_ROW,
            "old_value": None,
            "new_value": json.dumps(texts, sort_keys=True, separators=(",", ":")),
            "reason": reason,
            "software_version": __version__,
            "prev_hash": previous,
        }
        row["row_hash"] = previous = compute_row_hash(row)
        rows.append(row)
    session.connection().execute(_INSERT_ROWS, rows)
    _remember_head(session, rows[-1]["id"], rows[-1]["row_hash"])
    return len(rows)
