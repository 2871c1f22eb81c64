"""Replay the audit trail and compare the state it implies with every audited table.

Every write of the services is audited field by field in the same transaction
(:func:`equitrial.store.audit.record_changes`), so replaying the data actions of the trail in
order (``insert``, ``update``, ``delete``, and ``randomize``, the claim of a slot) gives, for
every record, the value each of its columns must hold now. :func:`reconcile` reads every row of
every audited table and reports each difference: a value changed behind the services' back
(``UPDATE adverse_event SET grade = 1``), a row added without its audit (a granted role), a row
the trail says exists but that is gone. A concealed column (an arm, a password hash) is compared
through its keyed commitment and shown as ``<concealed>``: the report never reveals it.

Not reconciled: :data:`~equitrial.store.audit.NOT_AUDITED` bookkeeping columns (ids, the
optimistic-locking version, row timestamps) and the trail's own tables.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Row, Table, select
from sqlalchemy.orm import Session

from equitrial.store.audit import CONCEALED, DATA_ACTIONS, NOT_AUDITED, WHOLE_ROW, audit_text
from equitrial.store.chain import TRAIL_COLUMNS, read_trail
from equitrial.store.models import Base

__all__ = ["Discrepancy", "Reconciliation", "Replay", "audited_tables", "reconcile"]

UNAUDITED_TABLES: Final = frozenset({"audit_trail", "audit_anchor"})
_GONE: Final = "<deleted>"
_CONCEALED_TEXT: Final = "<concealed>"


@dataclass(frozen=True)
class Discrepancy:
    """One difference between a table and its audit trail.

    Attributes
    ----------
    table, key
        The table and the record's primary key.
    column
        The column that differs (``None`` for a whole row added or deleted).
    stored, audited
        The value the table holds and the value the trail implies, as text (``"<concealed>"``
        for a concealed column; ``None`` for no row / no value).
    kind
        ``"changed"``, ``"added"`` (a row with no audited insert) or ``"deleted"``.
    """

    table: str
    key: str
    column: str | None
    stored: str | None
    audited: str | None
    kind: str

    def __str__(self) -> str:
        if self.kind == "added":
            return f"{self.table} {self.key}: row not in the audit trail (added behind its back)"
        if self.kind == "deleted":
            return f"{self.table} {self.key}: row in the audit trail but not in the table (deleted)"
        return (
            f"{self.table} {self.key} {self.column}: stored {self.stored!r}, "
            f"audited {self.audited!r}"
        )


@dataclass(frozen=True)
class Reconciliation:
    """The result of :func:`reconcile`: what was compared and every difference, in table order."""

    tables: int
    rows: int
    values: int
    discrepancies: tuple[Discrepancy, ...]


def audited_tables() -> list[Table]:
    """Every table whose rows the audit trail accounts for."""
    return [t for t in Base.metadata.sorted_tables if t.name not in UNAUDITED_TABLES]


_ACTION, _TABLE_NAME, _RECORD, _FIELD, _NEW = (
    TRAIL_COLUMNS.index(name)
    for name in ("action", "table_name", "record_id", "field", "new_value")
)


class Replay:
    """The state the audit trail implies, built from the chunks of
    :func:`~equitrial.store.chain.read_trail` fed in order.

    Attributes
    ----------
    state
        Each record's audited column texts by ``(table, record id)``; a deleted record maps to
        ``{_GONE: None}``.
    """

    def __init__(self) -> None:
        self.state: dict[tuple[str, str], dict[str, str | None]] = {}

    def feed(self, rows: Sequence[Row[Any]]) -> None:
        """Replay the next rows of the trail (its data actions; the others are skipped)."""
        state = self.state
        for row in rows:
            change = DATA_ACTIONS.get(row[_ACTION])
            table, record_id, field = row[_TABLE_NAME], row[_RECORD], row[_FIELD]
            if change is None or table is None or record_id is None or field is None:
                continue
            key = (str(table), str(record_id))
            if change == "delete":
                state[key] = {_GONE: None}
                continue
            values = state.get(key)
            if values is None or (change == "insert" and _GONE in values):
                values = state[key] = {}
            if field == WHOLE_ROW:
                values.update(json.loads(row[_NEW] or "{}"))
            else:
                values[str(field)] = row[_NEW]


def _changed(
    table: str, key: str, column: str, stored: str | None, expected: str | None
) -> Discrepancy:
    concealed = (table, column) in CONCEALED
    return Discrepancy(
        table,
        key,
        column,
        _CONCEALED_TEXT if concealed and stored is not None else stored,
        _CONCEALED_TEXT if concealed and expected is not None else expected,
        "changed",
    )


def _compare_table(
    session: Session,
    table: Table,
    state: dict[tuple[str, str], dict[str, str | None]],
    found: list[Discrepancy],
) -> tuple[int, int]:
    """Compare every row of ``table`` with ``state`` (its records are taken out of it); append
    the discrepancies to ``found``; return the rows and values compared."""
    columns = [column for column in table.columns if column.name not in NOT_AUDITED]
    names, name = [column.name for column in columns], table.name
    statement = select(table.c.id, *columns).order_by(*table.primary_key.columns)
    rows, values = 0, 0
    for record_id, *stored in session.connection().execute(statement):
        key = str(record_id)
        rows += 1
        audited = state.pop((name, key), None)
        if audited is None or _GONE in audited:
            found.append(Discrepancy(name, key, None, "row", None, "added"))
            continue
        values += len(names)
        for column, value in zip(names, stored, strict=True):
            text = audit_text(name, key, column, value)
            if text != audited.get(column):
                found.append(_changed(name, key, column, text, audited.get(column)))
    return rows, values


def reconcile(session: Session, replay: Replay | None = None) -> Reconciliation:
    """Compare every audited table with the state its audit trail implies.

    Parameters
    ----------
    session
        Any session (reads only); concealed columns need the signing key.
    replay
        The trail already replayed in this session's transaction (by
        :func:`~equitrial.store.integrity.check_integrity`, in the same pass as the chain
        check); ``None`` reads the trail here.

    Returns
    -------
    Reconciliation
        Tables, rows and values compared, and every :class:`Discrepancy`.
    """
    if replay is None:
        replay = Replay()
        for chunk in read_trail(session):
            replay.feed(chunk)
    state = replay.state
    found: list[Discrepancy] = []
    tables, rows, values = 0, 0, 0
    for table in audited_tables():
        tables += 1
        table_rows, table_values = _compare_table(session, table, state, found)
        rows, values = rows + table_rows, values + table_values
    known = {t.name for t in audited_tables()}
    for (name, key), audited in sorted(state.items()):
        if name in known and _GONE not in audited:
            found.append(Discrepancy(name, key, None, None, "row", "deleted"))
    return Reconciliation(tables, rows, values, tuple(found))
