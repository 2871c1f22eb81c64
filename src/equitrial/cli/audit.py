"""``equitrial audit verify``: recompute the audit trail's hash chain.

Exits 0 and prints the number of rows and the final hash when every row's SHA-256 matches its
content and its predecessor's hash; exits 1 naming the first row that does not match.
"""

from __future__ import annotations

import typer

from equitrial.cli._common import fail
from equitrial.cli.db import EXIT_VERIFY_FAILED, database
from equitrial.services import audit as audit_service

__all__ = ["app", "verify"]

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Check the hash chain of the audit trail (read-only)."""
    with database() as engine:
        result = audit_service.verify_audit_trail(engine)
    if not result.ok:
        fail(
            f"audit trail broken at row {result.first_bad_id}: {result.message}",
            EXIT_VERIFY_FAILED,
        )
    typer.echo(f"audit trail intact: {result.rows} rows")
    typer.echo(f"final hash: {result.final_hash or 'none (empty trail)'}")
