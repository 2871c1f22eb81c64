"""``equitrial backup DEST`` and ``equitrial restore SRC --study CODE``: signed backups.

A backup is one snapshot of the database as signed JSON lines (the same for SQLite and
PostgreSQL), mode 0600, allocation arms sealed. A restore checks the whole file (signature by
this installation's key, every table's count and digest, the audit chain, the study) before it
touches the target, and refuses with exit 2 otherwise; the restored database gives the same
final hash in ``audit verify``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from equitrial.cli._common import fail
from equitrial.cli.db import EXIT_BAD_INPUT, database

if TYPE_CHECKING:  # the services load only when a command runs
    from equitrial.services.maintenance import BackupSummary

__all__ = ["backup", "restore"]


def _describe(summary: BackupSummary) -> str:
    return (
        f"{summary.rows} rows in {len(summary.tables)} tables, study "
        f"{', '.join(summary.studies) or 'none'}; audit trail {summary.audit_rows} rows, "
        f"final hash {summary.final_hash or 'none (empty trail)'}; signed with key {summary.key_id}"
    )


def backup(
    dest: Path = typer.Argument(..., metavar="DEST", help="The backup file to write."),
) -> None:
    """Write a signed backup of the whole database to DEST (refuses to overwrite)."""
    from equitrial.services import maintenance

    if dest.exists():
        fail(f"{dest}: exists already; choose a new backup file", EXIT_BAD_INPUT)
    with database() as engine:
        summary = maintenance.backup_database(engine, dest)
    typer.echo(f"backup written to {dest}: {_describe(summary)}")


def restore(
    src: Path = typer.Argument(..., metavar="SRC", help="A file written by 'equitrial backup'."),
    study: str = typer.Option(
        ..., "--study", metavar="CODE", help="The study the backup must hold (refused if not)."
    ),
) -> None:
    """Check the backup SRC, then restore it into the (empty) database of EQUITRIAL_DATABASE_URL."""
    from equitrial.services import maintenance
    from equitrial.store import migrate

    if not src.is_file():
        fail(f"{src}: no such backup file", EXIT_BAD_INPUT)
    with database() as engine:
        summary = maintenance.restore_database(engine, src, study=study)
    typer.echo(f"restored from {src}: {_describe(summary)}")
    if summary.alembic_revision != migrate.head_revision():
        typer.echo(f"schema revision {summary.alembic_revision}: run `equitrial db upgrade`")
