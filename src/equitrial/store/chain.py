"""The hash chain of the audit trail: each row's hash, and the check of the whole chain.

Every row carries ``row_hash = SHA-256(canonical JSON of its content and prev_hash)``, where
``prev_hash`` is the previous row's ``row_hash`` (:data:`GENESIS_HASH` for the first row).
Changing, inserting or removing a row anywhere but at the end breaks the chain from that row
on, and :func:`verify` names the first row that does not match.

The trail is read once, in chunks of plain rows (:func:`read_trail`), by every check that needs
it: :class:`ChainCheck` here, the replay of :mod:`equitrial.store.reconcile` beside it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring  # what JSONEncoder(ensure_ascii=False) uses
from operator import attrgetter, itemgetter
from typing import Any, Final

from sqlalchemy import Row, Table, select
from sqlalchemy.orm import Session

from equitrial.store.models import AuditTrail

__all__ = [
    "GENESIS_HASH",
    "TRAIL_COLUMNS",
    "AuditVerification",
    "ChainCheck",
    "compute_row_hash",
    "read_trail",
    "verify",
]

GENESIS_HASH: Final = "0" * 64


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


_HASHED: Final = (
    "id",
    "user_id",
    "username",
    "action",
    "table_name",
    "record_id",
    "field",
    "old_value",
    "new_value",
    "reason",
    "software_version",
    "prev_hash",
)


_KEYS: Final = tuple(sorted((*_HASHED, "at")))
"""The hashed keys in canonical (sorted) order."""
_CANONICAL: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""Canonical JSON of a value that is not text, an integer or null (none in a stored row)."""
_TEMPLATE: Final = "{" + ",".join(f'"{key}":%s' for key in _KEYS) + "}"
"""The canonical JSON object of a row with every value already in JSON: the keys are fixed and
sorted, so only the values are encoded (the same text as ``_CANONICAL.encode`` of the dict,
at half its cost)."""
_AT: Final = _KEYS.index("at")
TRAIL_COLUMNS: Final = (*_KEYS, "row_hash")
"""The columns of the rows :func:`read_trail` yields, in this order: the hashed content in
canonical order, then ``row_hash``."""
_ID: Final = TRAIL_COLUMNS.index("id")
_PREV: Final = TRAIL_COLUMNS.index("prev_hash")
_ROW_HASH: Final = TRAIL_COLUMNS.index("row_hash")
_FROM_MAPPING: Final = itemgetter(*_KEYS)
_FROM_OBJECT: Final = attrgetter(*_KEYS)
_TABLE: Final[Table] = AuditTrail.__table__  # type: ignore[assignment]
_READ: Final = select(*(_TABLE.c[name] for name in TRAIL_COLUMNS)).order_by(_TABLE.c.id)
CHUNK: Final = 5000
"""Rows fetched at a time by :func:`read_trail`."""


def _json(value: Any) -> str:
    """One value as canonical JSON: texts with the encoder's own string escaping."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    return _CANONICAL.encode(value)


def _hash_content(values: Sequence[Any]) -> str:
    """``row_hash`` of a row's hashed values in :data:`_KEYS` order (extra values ignored)."""
    content = list(values[: len(_KEYS)])
    at: dt.datetime = content[_AT]
    if at.tzinfo is not dt.UTC:
        at = at.astimezone(dt.UTC)
    content[_AT] = at.isoformat(timespec="microseconds")
    return hashlib.sha256((_TEMPLATE % tuple(map(_json, content))).encode("utf-8")).hexdigest()


def compute_row_hash(row: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of an audit row's content, ``prev_hash`` included.

    Canonical JSON: keys sorted, no whitespace, UTF-8, ``at`` as ISO 8601 UTC with microseconds.
    ``row`` is a mapping or an object with the columns as attributes.
    """
    getter = _FROM_MAPPING if isinstance(row, Mapping) else _FROM_OBJECT
    return _hash_content(getter(row))


def read_trail(session: Session, chunk: int = CHUNK) -> Iterator[Sequence[Row[Any]]]:
    """The whole audit trail in ``id`` order, ``chunk`` rows at a time, as plain rows of
    :data:`TRAIL_COLUMNS` (no ORM object), read in the session's transaction."""
    result = session.connection().execute(_READ.execution_options(yield_per=chunk))
    yield from result.partitions()


class ChainCheck:
    """The check of the chain, fed the chunks of :func:`read_trail` in order.

    Parameters
    ----------
    wanted
        Ids of rows whose stored ``row_hash`` to keep in :attr:`heads` (the rows the signed
        anchors name). Kept for every row read, also after a break of the chain, so that an
        anchor is compared with the row as stored and a break is reported once, by the chain.

    Attributes
    ----------
    heads
        Stored ``row_hash`` by ``id`` of the ``wanted`` rows the trail has.
    last_id
        ``id`` of the last row read (0 for an empty trail).
    """

    def __init__(self, wanted: Collection[int] = ()) -> None:
        self.heads: dict[int, str] = {}
        self.last_id = 0
        self._wanted = wanted
        self._previous, self._expected, self._rows = GENESIS_HASH, 1, 0
        self._bad: tuple[int, str] | None = None

    def feed(self, rows: Sequence[Row[Any]]) -> None:
        """Check the next rows (in ``id`` order); after the first bad row only keep heads."""
        wanted, heads = self._wanted, self.heads
        for row in rows:
            row_id = row[_ID]
            if row_id in wanted:
                heads[row_id] = row[_ROW_HASH]
            if self._bad is not None:
                continue
            problem = _row_problem(row, self._expected, self._previous)
            if problem is None:
                self._previous, self._expected, self._rows = (
                    row[_ROW_HASH],
                    row_id + 1,
                    self._rows + 1,
                )
            else:
                self._bad = (row_id, problem)
        if rows:
            self.last_id = rows[-1][_ID]

    def result(self) -> AuditVerification:
        """What was found: the first bad row, or the row count and final hash."""
        rows = self._rows
        if self._bad is not None:
            bad_id, problem = self._bad
            return AuditVerification(False, rows, None, bad_id, f"audit row {bad_id}: {problem}")
        if rows == 0:
            return AuditVerification(True, 0, None, None, "the audit trail is empty")
        final = self._previous
        return AuditVerification(
            True, rows, final, None, f"{rows} rows, chain intact, final hash {final}"
        )


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
    check = ChainCheck()
    for rows in read_trail(session):
        check.feed(rows)
    return check.result()


def _row_problem(row: Row[Any], expected_id: int, previous_hash: str) -> str | None:
    row_id = row[_ID]
    if row_id != expected_id:
        return f"expected id {expected_id} next: rows {expected_id}..{row_id - 1} are missing"
    if row[_PREV] != previous_hash:
        return "prev_hash does not match the previous row's hash (a row before it was altered)"
    if _hash_content(row) != row[_ROW_HASH]:
        return "content does not match its row_hash (the row was altered)"
    return None
