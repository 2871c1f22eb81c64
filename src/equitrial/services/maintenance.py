"""Use cases of database maintenance: a signed backup and its checked restore (operator).

The operator acts with the database credentials and the installation's signing key; neither
use case writes to the database it reads (a backup is a read-only snapshot, a restore fills an
empty database whose audit trail must end exactly where the backup's did).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from equitrial.store import backup
from equitrial.store.backup import BackupSummary

__all__ = ["BackupSummary", "backup_database", "restore_database"]


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def backup_database(engine: Engine, dest: Path) -> BackupSummary:
    """Write a signed backup of the engine's database to the new file ``dest``.

    Raises
    ------
    InvalidInputError
        ``dest`` exists or its directory does not.
    ConflictError
        The database is not at the current schema revision or its audit chain is broken.
    ConfigurationError
        The signing key cannot be loaded.
    """
    return backup.backup(_url(engine), dest)


def restore_database(engine: Engine, src: Path, *, study: str) -> BackupSummary:
    """Check the backup ``src`` completely, then restore it into the engine's EMPTY database.

    Raises
    ------
    InvalidInputError
        The backup is missing, truncated, altered, unsigned or signed with another key.
    ConflictError
        The backup is not of ``study``, or the database is not empty.
    ConfigurationError
        The signing key cannot be loaded.
    """
    return backup.restore(src, _url(engine), study=study)
