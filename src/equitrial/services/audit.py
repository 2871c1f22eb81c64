"""Use case of the audit trail: verify its hash chain (operator, read-only)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from equitrial.store import audit
from equitrial.store.audit import AuditVerification
from equitrial.store.db import transaction

__all__ = ["AuditVerification", "verify_audit_trail"]


def verify_audit_trail(engine: Engine) -> AuditVerification:
    """Recompute the chain of ``audit_trail`` and name the first row that does not match.

    Returns
    -------
    AuditVerification
        ``ok``, the number of rows, the final hash, the first bad row's id and a message.
    """
    with transaction(engine, read_only=True) as session:
        return audit.verify(session)
