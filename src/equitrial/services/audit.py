"""Use case of the audit trail: verify the chain, its signatures and the data (read-only)."""

from __future__ import annotations

import logging
from concurrent.futures.process import BrokenProcessPool

from sqlalchemy import text
from sqlalchemy.engine import Engine

from equitrial.settings import get_settings
from equitrial.store.db import transaction
from equitrial.store.integrity import IntegrityReport, check_integrity

__all__ = ["SHOWN", "IntegrityReport", "verification_lines", "verify_audit_trail"]

_LOG = logging.getLogger(__name__)
SHOWN = 50
"""Findings listed by :func:`verification_lines` (the count of the rest is given)."""


def verify_audit_trail(engine: Engine, *, workers: int | None = None) -> IntegrityReport:
    """Check the audit trail's hash chain, its signed anchors, and every audited table against it.

    Read in ONE snapshot: on PostgreSQL a REPEATABLE READ transaction (writers meanwhile are not
    seen half-way); on SQLite a read transaction under WAL. The external anchor log is read as
    far as it was written before that snapshot was taken.

    Parameters
    ----------
    engine
        The database.
    workers
        Processes that hash the rows and check the anchors' signatures (``None``: the
        machine's cores, at most :data:`equitrial.store.workers.MAX_WORKERS`; 1: this process
        alone).

    Returns
    -------
    IntegrityReport
        Rows, tables and signatures checked, and every finding (the first is what to look at).
    """
    try:
        return _verify(engine, workers)
    except BrokenProcessPool as error:  # a worker died (killed; or a script that spawns
        # workers re-runs itself without an ``if __name__ == "__main__"`` guard)
        _LOG.warning("audit verification: worker process lost (%s); checking in one", error)
        return _verify(engine, 1)


def _verify(engine: Engine, workers: int | None) -> IntegrityReport:
    with transaction(engine, read_only=True) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        return check_integrity(session, workers=workers)


def verification_lines(report: IntegrityReport) -> list[str]:
    """What a verification found, in words: the chain's rows and final hash, the signed anchors
    (in the database and in the external log), the tables reconciled, and the findings (at most
    :data:`SHOWN`); the last line says whether everything holds. ``equitrial audit verify``
    prints these lines and ``equitrial demo`` writes them to ``audit-verify.txt``."""
    chain, anchors, data = report.chain, report.anchors, report.reconciliation
    if chain.ok:
        lines = [
            f"audit trail intact: {chain.rows} rows",
            f"final hash: {chain.final_hash or 'none (empty trail)'}",
        ]
    else:
        lines = [f"audit trail broken: {chain.message}"]
    lines.append(
        f"signatures: {anchors.signed} signed anchors in the database, {anchors.external} in "
        f"{get_settings().anchor_file}; rows 1..{anchors.signed_rows} covered"
    )
    lines.append(
        f"data: {data.tables} tables, {data.rows} rows, {data.values} values reconciled "
        "with the audit trail"
    )
    findings = report.findings
    if findings:
        lines.append(f"{len(findings)} finding(s):")
        lines.extend(f"  {finding}" for finding in findings[:SHOWN])
        if len(findings) > SHOWN:
            lines.append(f"  ... and {len(findings) - SHOWN} more")
    else:
        lines.append("audit verify: everything holds")
    return lines
