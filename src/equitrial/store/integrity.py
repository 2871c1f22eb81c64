"""The whole integrity check of a database: the chain, its signatures, and the data themselves.

:func:`check_integrity` is what ``equitrial audit verify`` runs:

1. the hash chain of the audit trail (:class:`equitrial.store.chain.ChainCheck`);
2. the signed anchors, in the database and in the external log, against the chain
   (:mod:`equitrial.store.anchor_check`): rows appended, removed from the end or re-hashed
   behind the services' back;
3. the replay of the trail against every audited table
   (:func:`equitrial.store.reconcile.reconcile`): rows changed, added or deleted behind the
   services' back.

The trail is read once, in chunks of plain rows, for the chain and the replay; the anchors'
rows are hashed and the anchors'
signatures checked in worker processes meanwhile (:mod:`equitrial.store.workers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitrial.store import keys
from equitrial.store.anchor_check import AnchorCheck, AnchorLog, compare, read_anchors
from equitrial.store.audit import chain_id
from equitrial.store.chain import AuditVerification, ChainCheck, read_trail
from equitrial.store.models import AuditAnchor, AuditTrail
from equitrial.store.reconcile import Reconciliation, Replay, reconcile
from equitrial.store.signatures import SignatureBatch
from equitrial.store.workers import default_workers, worker_pool

__all__ = ["IntegrityReport", "check_integrity"]


@dataclass(frozen=True)
class IntegrityReport:
    """What :func:`check_integrity` checked and found.

    Attributes
    ----------
    chain
        The hash chain's check (rows, final hash, first bad row).
    anchors
        The signatures' check.
    reconciliation
        The data's check against the trail.
    """

    chain: AuditVerification
    anchors: AnchorCheck
    reconciliation: Reconciliation

    @property
    def findings(self) -> tuple[str, ...]:
        """Every problem found, the chain's first, in words."""
        chain = () if self.chain.ok else (self.chain.message,)
        data = tuple(str(d) for d in self.reconciliation.discrepancies)
        return (*chain, *self.anchors.problems, *data)

    @property
    def ok(self) -> bool:
        """Whether nothing was found."""
        return not self.findings


_ANY_ROW: Final = select(AuditTrail.id).limit(1)
_NO_FIRST_ROW: Final = "(the first audit row is missing)"
"""The chain's name when its first row is gone: no anchor or log line names it."""


def check_integrity(session: Session, *, workers: int | None = None) -> IntegrityReport:
    """Run the three checks in one read-only session.

    Parameters
    ----------
    session
        A session that has not read yet: the external anchor log is measured before its first
        query, which takes the snapshot every check reads (on PostgreSQL when the caller opened
        it REPEATABLE READ, on SQLite a read transaction under WAL).
    workers
        Processes that hash the rows and check the anchors' signatures
        (:mod:`equitrial.store.workers`): ``None`` for
        :func:`~equitrial.store.workers.default_workers`, 1 for this process alone.

    Raises
    ------
    ConfigurationError
        The signing key is missing (it is needed to check signatures and concealed values).
    """
    log = AnchorLog.now()
    key = keys.load_key()
    chain = chain_id(session)
    if chain is None and session.scalar(_ANY_ROW) is None:
        # an empty trail: nothing to replay, and no anchor may exist
        orphan = session.scalar(select(AuditAnchor.id).limit(1)) is not None
        problems = ("anchors exist for an empty audit trail",) if orphan else ()
        return IntegrityReport(
            ChainCheck().result(), AnchorCheck(0, 0, 0, problems), reconcile(session, Replay())
        )
    # rows without the first (removed by hand): the chain check names the gap; no anchor can
    # be matched to a chain whose name (the first row's hash) is gone
    anchors = read_anchors(session, _NO_FIRST_ROW if chain is None else chain, log)
    signed = anchors.signed()
    processes = default_workers() if workers is None else workers
    with worker_pool(processes, len(signed)) as pool:
        signatures = SignatureBatch(key.public_key(), signed, pool, processes)
        check, replay = ChainCheck(anchors.rows(), pool), Replay()
        for rows in read_trail(session):
            check.feed(rows)
            replay.feed(rows)
        reconciliation = reconcile(session, replay)
        verified, invalid = check.result(), signatures.invalid()
    checked = compare(anchors, key.key_id, invalid, check.heads, check.last_id)
    return IntegrityReport(verified, checked, reconciliation)
