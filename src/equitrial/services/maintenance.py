"""Use cases of database maintenance: a consistent backup and its restore (operator)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from equitrial.store import backup

__all__ = ["backup_database", "restore_database"]


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def backup_database(engine: Engine, dest: Path) -> str:
    """Write a consistent copy of the database to ``dest``; returns a one-line summary."""
    summary = backup.backup(_url(engine), dest)
    return f"{sum(summary.values())} rows in {len(summary)} tables"


def restore_database(engine: Engine, src: Path) -> str:
    """Restore a copy written by :func:`backup_database` into the engine's (empty) database."""
    summary = backup.restore(src, _url(engine))
    return f"{sum(summary.values())} rows in {len(summary)} tables"
