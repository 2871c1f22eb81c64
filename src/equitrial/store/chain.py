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
from collections import deque
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
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


def read_trail(session: Session) -> Iterator[Sequence[Row[Any]]]:
    """The whole audit trail in ``id`` order, :data:`CHUNK` rows at a time, as plain rows of
    :data:`TRAIL_COLUMNS` (no ORM object), read in the session's transaction."""
    result = session.connection().execute(_READ.execution_options(yield_per=CHUNK))
    yield from result.partitions()


_ALTERED: Final = "content does not match its row_hash (the row was altered)"
_IN_FLIGHT: Final = 8
"""Chunks of rows at most handed to the pool and not yet hashed (bounds the memory)."""


def _first_altered(rows: Sequence[Sequence[Any]]) -> int | None:
    """Index of the first row whose content does not match its ``row_hash`` (``None``)."""
    return next((i for i, row in enumerate(rows) if _hash_content(row) != row[_ROW_HASH]), None)


class ChainCheck:
    """The check of the chain, fed the chunks of :func:`read_trail` in order.

    Each row must have the next id and link to the previous row's hash (checked here), and its
    content must match its ``row_hash`` (hashed here, or by the worker processes of ``pool``
    while the caller reads on).

    Parameters
    ----------
    wanted
        Ids of rows whose stored ``row_hash`` to keep in :attr:`heads` (the rows the signed
        anchors name). Kept for every row read, also after a break of the chain, so that an
        anchor is compared with the row as stored and a break is reported once, by the chain.
    pool
        Worker processes that hash the rows (``None``: this process).

    Attributes
    ----------
    heads
        Stored ``row_hash`` by ``id`` of the ``wanted`` rows the trail has.
    last_id
        ``id`` of the last row read (0 for an empty trail).
    """

    def __init__(self, wanted: Collection[int] = (), pool: Executor | None = None) -> None:
        self.heads: dict[int, str] = {}
        self.last_id = 0
        self._wanted, self._pool = wanted, pool
        self._previous, self._expected, self._seen = GENESIS_HASH, 1, 0
        self._broken: tuple[int, int, str] | None = None  # position, id, problem of the link
        self._altered: tuple[int, int] | None = None  # position, id of the first altered row
        self._hashing: deque[tuple[int, Future[int | None], list[int]]] = deque()

    def feed(self, rows: Sequence[Row[Any]]) -> None:
        """Check the next rows (in ``id`` order)."""
        if not rows:
            return
        start, wanted, heads = self._seen, self._wanted, self.heads
        for row in rows:
            row_id = row[_ID]
            if row_id in wanted:
                heads[row_id] = row[_ROW_HASH]
            if self._broken is None:
                self._link(row, row_id)
            self._seen += 1
        self.last_id = rows[-1][_ID]
        if self._first_bad() < start:  # a row before these is bad already: no need to hash
            return
        if self._pool is None:
            self._note(start, _first_altered(rows), [row[_ID] for row in rows])
            return
        ids = [row[_ID] for row in rows]
        self._hashing.append((start, self._pool.submit(_first_altered, [*map(tuple, rows)]), ids))
        while len(self._hashing) > _IN_FLIGHT:
            self._collect()

    def _link(self, row: Row[Any], row_id: int) -> None:
        expected = self._expected
        if row_id != expected:
            problem = f"expected id {expected} next: rows {expected}..{row_id - 1} are missing"
        elif row[_PREV] != self._previous:
            problem = (
                "prev_hash does not match the previous row's hash (a row before it was altered)"
            )
        else:
            self._previous, self._expected = row[_ROW_HASH], row_id + 1
            return
        self._broken = (self._seen, row_id, problem)

    def _note(self, start: int, index: int | None, ids: list[int]) -> None:
        if index is not None and (self._altered is None or start + index < self._altered[0]):
            self._altered = (start + index, ids[index])

    def _collect(self) -> None:
        start, future, ids = self._hashing.popleft()
        self._note(start, future.result(), ids)

    def _first_bad(self) -> int:
        """Position of the first bad row known so far (past the end when none)."""
        positions = [bad[0] for bad in (self._broken, self._altered) if bad is not None]
        return min(positions, default=self._seen + 1)

    def result(self) -> AuditVerification:
        """What was found: the first bad row, or the row count and final hash. A row whose id
        or link is wrong is named for that, before its content."""
        while self._hashing:
            self._collect()
        broken, altered = self._broken, self._altered
        if broken is not None and (altered is None or broken[0] <= altered[0]):
            rows, bad_id, problem = broken
        elif altered is not None:
            (rows, bad_id), problem = altered, _ALTERED
        elif self._seen == 0:
            return AuditVerification(True, 0, None, None, "the audit trail is empty")
        else:
            rows, final = self._seen, self._previous
            message = f"{rows} rows, chain intact, final hash {final}"
            return AuditVerification(True, rows, final, None, message)
        return AuditVerification(False, rows, None, bad_id, f"audit row {bad_id}: {problem}")


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
