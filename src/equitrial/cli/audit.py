"""``equitrial audit verify``: check the audit trail, its signatures, and the data against it.

Prints what was checked: the chain's rows and final hash, the signed anchors (in the database and
in the external anchor log), and the tables, rows and values reconciled with the trail. Exits 0
when everything holds; exits 1 on any finding, naming the first on stderr and listing them all
on stdout (at most :data:`SHOWN` of them).
"""

from __future__ import annotations

import typer

from equitrial.cli._common import App, fail
from equitrial.cli.db import EXIT_VERIFY_FAILED, database

__all__ = ["SHOWN", "app", "verify"]

SHOWN = 50

app = App(help="The tamper-evident audit trail.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Check the hash chain, its signatures and every audited table (read-only)."""
    from equitrial.services import audit as audit_service
    from equitrial.settings import get_settings

    with database() as engine:
        report = audit_service.verify_audit_trail(engine)
    chain, anchors, data = report.chain, report.anchors, report.reconciliation
    if chain.ok:
        typer.echo(f"audit trail intact: {chain.rows} rows")
        typer.echo(f"final hash: {chain.final_hash or 'none (empty trail)'}")
    else:
        typer.echo(f"audit trail broken: {chain.message}")
    typer.echo(
        f"signatures: {anchors.signed} signed anchors in the database, {anchors.external} in "
        f"{get_settings().anchor_file}; rows 1..{anchors.signed_rows} covered"
    )
    typer.echo(
        f"data: {data.tables} tables, {data.rows} rows, {data.values} values reconciled "
        "with the audit trail"
    )
    findings = report.findings
    if findings:
        typer.echo(f"{len(findings)} finding(s):")
        for finding in findings[:SHOWN]:
            typer.echo(f"  {finding}")
        if len(findings) > SHOWN:
            typer.echo(f"  ... and {len(findings) - SHOWN} more")
        fail(f"audit verify: {findings[0]}", EXIT_VERIFY_FAILED)
    typer.echo("audit verify: everything holds")
