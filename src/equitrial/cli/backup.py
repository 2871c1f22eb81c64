"""``equitrial backup DEST`` and ``equitrial restore SRC``: a consistent copy of the database.

SQLite is copied with SQLite's online backup API; PostgreSQL is dumped table by table in one
snapshot. A restored database holds the same rows, so ``audit verify`` gives the same final hash.
"""

from __future__ import annotations

from pathlib import Path

import typer

from equitrial.cli._common import fail
from equitrial.cli.db import EXIT_BAD_INPUT, database
from equitrial.services import maintenance

__all__ = ["backup", "restore"]


def backup(dest: Path = typer.Argument(..., help="The backup file to write.")) -> None:
    """Write a consistent copy of the whole database to DEST (refuses to overwrite)."""
    if dest.exists():
        fail(f"{dest}: exists already; choose a new backup file", EXIT_BAD_INPUT)
    with database() as engine:
        summary = maintenance.backup_database(engine, dest)
    typer.echo(f"backup written to {dest}: {summary}")


def restore(src: Path = typer.Argument(..., help="A file written by `equitrial backup`.")) -> None:
    """Restore the backup SRC into the (empty) database of EQUITRIAL_DATABASE_URL."""
    if not src.is_file():
        fail(f"{src}: no such backup file", EXIT_BAD_INPUT)
    with database() as engine:
        summary = maintenance.restore_database(engine, src)
    typer.echo(f"restored from {src}: {summary}")
