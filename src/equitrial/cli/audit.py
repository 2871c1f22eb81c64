"""``equitrial audit verify``: check the audit trail, its signatures, and the data against it.

Prints what was checked: the chain's rows and final hash, the signed anchors (in the database and
in the external anchor log), and the tables, rows and values reconciled with the trail. Exits 0
when everything holds; exits 1 on any finding, naming the first on stderr and listing them all
on stdout (at most :data:`equitrial.services.audit.SHOWN` of them).
"""

from __future__ import annotations

import typer

from equitrial.cli._common import App, fail
from equitrial.cli.db import EXIT_VERIFY_FAILED, database

__all__ = ["app", "verify"]

app = App(help="The tamper-evident audit trail.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Check the hash chain, its signatures and every audited table (read-only)."""
    from equitrial.services import audit as audit_service

    with database() as engine:
        report = audit_service.verify_audit_trail(engine)
    for line in audit_service.verification_lines(report):
        typer.echo(line)
    if report.findings:
        fail(f"audit verify: {report.findings[0]}", EXIT_VERIFY_FAILED)
