"""Signed anchors of the audit chain: the head signed at the end of every use case.

When a transaction that appended audit rows commits, the head of the chain (the id and hash of
its last row) is signed with the installation's Ed25519 key (:mod:`equitrial.store.keys`),
which lives outside the database. The signature goes into ``audit_anchor`` in the same
transaction and, once the transaction has committed, a copy is appended to the external anchor
log (``EQUITRIAL_AUDIT_ANCHOR_FILE``, one JSON object per line).

What this shows, and how (:func:`check_anchors`):

- a row appended behind the services' back is not covered by any anchor (the chain runs past
  the last signed head);
- a chain rewritten and re-hashed from some row on (SQLite's ``INSERT OR REPLACE`` with the
  triggers dropped, say) no longer has the signed hash at the signed row;
- rows removed from the end, together with their anchors, are still named by the external log,
  which holds heads the database no longer reaches.

The signed message names the chain by the hash of its FIRST row, so anchors of one database are
never taken for another's. A key that is missing makes every writing use case fail
(:class:`~equitrial.errors.ConfigurationError`): nothing is written unsigned.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import Table, event, insert, select
from sqlalchemy.orm import Session

from equitrial.settings import get_settings
from equitrial.store import keys
from equitrial.store.audit import APPENDED_KEY, appended_head, chain_id
from equitrial.store.models import AuditAnchor, AuditTrail, utcnow

__all__ = ["AnchorCheck", "anchor_message", "check_anchors", "external_anchors"]

_TO_FILE: Final = "equitrial_anchor_to_file"
_INSERT_ANCHOR: Final = insert(cast(Table, AuditAnchor.__table__))
_LOG = logging.getLogger(__name__)


def anchor_message(chain: str, rows: int, row_hash: str, signed_at: str) -> bytes:
    """The bytes an anchor signs: the chain (its first row's hash), the head and the time."""
    return f"equitrial-audit-anchor:v1:{chain}:{rows}:{row_hash}:{signed_at}".encode("ascii")


@event.listens_for(Session, "before_commit")
def _sign_head(session: Session) -> None:
    if not session.info.pop(APPENDED_KEY, False):
        return
    session.flush()
    head = appended_head(session)  # the transaction holds the chain lock: its last row is the head
    if head is None:
        last = session.execute(
            select(AuditTrail.id, AuditTrail.row_hash).order_by(AuditTrail.id.desc()).limit(1)
        ).first()
        head = None if last is None else (int(last.id), str(last.row_hash))
    chain = chain_id(session)
    if head is None or chain is None:
        return
    rows, row_hash = head
    key = keys.load_key()
    signed_at = utcnow()
    stamp = signed_at.isoformat(timespec="microseconds")
    signature = key.sign(anchor_message(chain, rows, row_hash, stamp))
    values = {
        "rows": rows,
        "row_hash": row_hash,
        "signed_at": signed_at,
        "key_id": key.key_id,
        "signature": signature,
    }
    session.connection().execute(_INSERT_ANCHOR, values)
    session.info[_TO_FILE] = {"chain": chain, **values, "signed_at": stamp}


@event.listens_for(Session, "after_commit")
def _copy_out(session: Session) -> None:
    line = session.info.pop(_TO_FILE, None)
    if line is None:
        return
    path = get_settings().anchor_file
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:  # one write of one line: appends of several processes do not interleave
            os.write(descriptor, (json.dumps(line, sort_keys=True) + "\n").encode("ascii"))
        finally:
            os.close(descriptor)
    except OSError as error:  # the data are committed; the next verify says the log lags
        _LOG.error("audit anchor not copied to %s: %s", path, error)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(APPENDED_KEY, None)
    session.info.pop(_TO_FILE, None)


@dataclass(frozen=True)
class AnchorCheck:
    """What :func:`check_anchors` found.

    Attributes
    ----------
    signed
        Anchors in the database whose signature and head match the chain.
    external
        Anchors of this chain in the external log that match the chain.
    signed_rows
        The last row covered by a valid signature (0 when none).
    problems
        What does not hold, in words (empty when everything does).
    """

    signed: int
    external: int
    signed_rows: int
    problems: tuple[str, ...]


def external_anchors(
    path: Path | None = None, chain: str | None = None
) -> Iterator[dict[str, Any]]:
    """The anchors of the external log, skipping lines that are not JSON.

    With ``chain``, only the lines that name it (one log serves every database of the
    installation: the lines of other chains are skipped before they are parsed).
    """
    target = path or get_settings().anchor_file
    if not target.exists():
        return
    with target.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if chain is not None and chain not in line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict):
                yield entry


def _problem(
    entry: dict[str, Any],
    chain: str,
    heads: dict[int, str],
    key: keys.SigningKey,
    verified: set[tuple[bytes, str]],
) -> str | None:
    """What is wrong with one anchor (``None``: nothing). ``verified`` holds the messages and
    signatures found valid so far: the external log's copy of a database anchor is the same
    message and signature, checked once."""
    try:
        rows, row_hash = int(entry["rows"]), str(entry["row_hash"])
        stamp, signature = str(entry["signed_at"]), str(entry["signature"])
    except (KeyError, TypeError, ValueError):
        return "is malformed"
    if entry.get("key_id") != key.key_id:
        return f"is signed by another key ({entry.get('key_id')}, not {key.key_id})"
    message = anchor_message(chain, rows, row_hash, stamp)
    if (message, signature) not in verified:
        if not keys.verify_signature(key.public_key(), message, signature):
            return "has a signature that does not verify (the anchor was forged or altered)"
        verified.add((message, signature))
    if rows not in heads:
        return f"signs row {rows}, which the audit trail no longer has (rows removed from its end)"
    if heads[rows] != row_hash:
        return f"signs row {rows} with another hash (the chain was rewritten up to that row)"
    return None


def check_anchors(session: Session, heads: dict[int, str]) -> AnchorCheck:
    """Check every signed anchor, in the database and in the external log, against the chain.

    Parameters
    ----------
    session
        Any session (reads only).
    heads
        ``row_hash`` by ``id`` of every audit row (from the chain check).
    """
    key = keys.load_key()
    chain = chain_id(session)
    last = max(heads, default=0)
    if chain is None:
        stored = session.scalar(select(AuditAnchor.id).limit(1))
        orphans = () if stored is None else ("anchors exist for an empty audit trail",)
        return AnchorCheck(0, 0, 0, orphans)
    problems: list[str] = []
    signed, covered = 0, 0
    verified: set[tuple[bytes, str]] = set()
    for anchor in session.scalars(select(AuditAnchor).order_by(AuditAnchor.id)):
        entry = {
            "rows": anchor.rows,
            "row_hash": anchor.row_hash,
            "signed_at": anchor.signed_at.isoformat(timespec="microseconds"),
            "key_id": anchor.key_id,
            "signature": anchor.signature,
        }
        problem = _problem(entry, chain, heads, key, verified)
        if problem is None:
            signed, covered = signed + 1, max(covered, anchor.rows)
        else:
            problems.append(f"anchor {anchor.id} {problem}")
    external = 0
    for entry in external_anchors(chain=chain):
        if entry.get("chain") != chain:
            continue
        problem = _problem(entry, chain, heads, key, verified)
        if problem is None:
            external, covered = external + 1, max(covered, int(str(entry["rows"])))
        else:
            problems.append(f"external anchor of row {entry.get('rows')} {problem}")
    if covered < last:
        problems.append(
            f"audit rows {covered + 1}..{last} are not covered by a signed anchor "
            "(appended outside the services, or the anchors were removed)"
        )
    return AnchorCheck(signed, external, covered, tuple(problems))
