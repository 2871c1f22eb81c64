"""Use case of the audit trail: verify the chain, its signatures and the data (read-only)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

from equitrial.store.db import transaction
from equitrial.store.integrity import IntegrityReport, check_integrity

__all__ = ["IntegrityReport", "verify_audit_trail"]


def verify_audit_trail(engine: Engine) -> IntegrityReport:
    """Check the audit trail's hash chain, its signed anchors, and every audited table against it.

    Read in ONE snapshot: on PostgreSQL a REPEATABLE READ transaction (writers meanwhile are not
    seen half-way); on SQLite a read transaction under WAL.

    Returns
    -------
    IntegrityReport
        Rows, tables and signatures checked, and every finding (the first is what to look at).
    """
    with transaction(engine, read_only=True) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        return check_integrity(session)
