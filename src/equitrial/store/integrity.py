"""The whole integrity check of a database: the chain, its signatures, and the data themselves.

:func:`check_integrity` is what ``equitrial audit verify`` runs:

1. the hash chain of the audit trail (:func:`equitrial.store.chain.verify`);
2. the signed anchors, in the database and in the external log, against the chain
   (:func:`equitrial.store.anchor.check_anchors`): rows appended, removed from the end or
   re-hashed behind the services' back;
3. the replay of the trail against every audited table
   (:func:`equitrial.store.reconcile.reconcile`): rows changed, added or deleted behind the
   services' back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from equitrial.store.anchor import AnchorCheck, check_anchors
from equitrial.store.chain import AuditVerification, verify
from equitrial.store.reconcile import Reconciliation, reconcile

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


def check_integrity(session: Session) -> IntegrityReport:
    """Run the three checks in one read-only session (a single snapshot on PostgreSQL when the
    caller opened it REPEATABLE READ).

    Raises
    ------
    ConfigurationError
        The signing key is missing (it is needed to check signatures and concealed values).
    """
    heads: dict[int, str] = {}
    chain = verify(session, heads)
    anchors = check_anchors(session, heads)
    return IntegrityReport(chain, anchors, reconcile(session))
