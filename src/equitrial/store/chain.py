"""The hash chain of the audit trail: each row's hash, and the check of the whole chain.

Every row carries ``row_hash = SHA-256(canonical JSON of its content and prev_hash)``, where
``prev_hash`` is the previous row's ``row_hash`` (:data:`GENESIS_HASH` for the first row).
Changing, inserting or removing a row anywhere but at the end breaks the chain from that row
on, and :func:`verify` names the first row that does not match.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitrial.store.models import AuditTrail

__all__ = ["GENESIS_HASH", "AuditVerification", "compute_row_hash", "verify"]

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
"""Canonical JSON of a dict built in :data:`_KEYS` order (one encoder, reused)."""


def _content(row: Any) -> dict[str, Any]:
    get = row.__getitem__ if isinstance(row, Mapping) else row.__getattribute__
    at: dt.datetime = get("at")
    stamp = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return {name: stamp if name == "at" else get(name) for name in _KEYS}


def compute_row_hash(row: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of an audit row's content, ``prev_hash`` included.

    Canonical JSON: keys sorted, no whitespace, UTF-8, ``at`` as ISO 8601 UTC with microseconds.
    """
    return hashlib.sha256(_CANONICAL.encode(_content(row)).encode("utf-8")).hexdigest()


def verify(session: Session, heads: dict[int, str] | None = None) -> AuditVerification:
    """Recompute the hash chain of the whole audit trail.

    Parameters
    ----------
    session
        Any session (reads only).
    heads
        When given, filled with ``row_hash`` by ``id`` of every row checked (the signed
        anchors are then checked against it).

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
        if heads is not None:
            heads[row.id] = row.row_hash
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
