"""Signed anchors of the audit chain: the head signed at the end of every use case.

When a transaction that appended audit rows commits, the head of the chain (the id and hash of
its last row) is signed with the installation's Ed25519 key (:mod:`equitrial.store.keys`),
which lives outside the database. The signature goes into ``audit_anchor`` in the same
transaction and, once the transaction has committed, a copy is appended to the external anchor
log (``EQUITRIAL_AUDIT_ANCHOR_FILE``, one JSON object per line).

What this shows, and how (:mod:`equitrial.store.anchor_check` checks it):

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
from typing import Final, cast

from sqlalchemy import Table, event, insert, select
from sqlalchemy.orm import Session

from equitrial.settings import get_settings
from equitrial.store import keys
from equitrial.store.audit import APPENDED_KEY, appended_head, chain_id
from equitrial.store.models import AuditAnchor, AuditTrail, utcnow

__all__ = ["anchor_message"]

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
