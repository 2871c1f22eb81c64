"""Signed backups of the clinical database, and a restore that refuses any backup that lies.

One logical format for SQLite and PostgreSQL (:mod:`equitrial.store.backup_format`): JSON
lines read in one consistent snapshot, a manifest (per-table row counts and SHA-256 digests,
the audit chain's row count and final hash, the study, the schema revision, the key id) signed
with the installation's Ed25519 key (:mod:`equitrial.store.keys`), and a trailer. Allocation
arms are sealed (AES-SIV), never in clear. Files are written with mode 0600 and appear under
their name only when complete (:mod:`equitrial.store.backup_write`).

:func:`restore` reads and checks the WHOLE file before it touches the target
(:mod:`equitrial.store.backup_read`): a backup that is truncated, altered, unsigned, signed
with another key, or of another study is refused and the target is left as it was. Then, in
ONE transaction, it migrates the empty target to the backup's revision, inserts the rows in
the file's (foreign-key) order, re-reads every table of the target and compares its count and
digest with the signed manifest; any difference rolls everything back (on PostgreSQL and
SQLite DDL is transactional, so the target is not even migrated; a SQLite file the restore
created is removed).

Restoring needs the key file of the installation that wrote the backup
(``EQUITRIAL_AUDIT_KEY_FILE``): it checks the signature and opens the sealed arms. Keep a copy
of the key apart from the backups; without it a backup can be neither verified nor restored.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Table, func, insert, inspect, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.store import backup_format as fmt
from equitrial.store import backup_read, backup_write, keys, migrate
from equitrial.store.backup_format import BackupSummary
from equitrial.store.db import make_engine, normalize_url

__all__ = ["BACKUP_FORMAT", "BackupSummary", "backup", "restore"]

BACKUP_FORMAT: Final = fmt.FORMAT
_BATCH: Final = 1000


def backup(url: str | URL | None, dest_path: str | Path) -> BackupSummary:
    """Write a signed backup of the database at ``url`` to the new file ``dest_path``.

    Parameters
    ----------
    url
        SQLAlchemy URL of the database; ``None`` reads ``EQUITRIAL_DATABASE_URL``.
    dest_path
        A file that does not exist yet, in an existing directory.

    Returns
    -------
    BackupSummary
        What the manifest states (rows per table, the audit chain's final hash, ...).

    Raises
    ------
    InvalidInputError
        ``dest_path`` exists, its directory does not, or the SQLite database does not exist.
    ConflictError
        The database is not at the current schema revision, or its audit chain is broken.
    ConfigurationError
        The signing key cannot be loaded.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = _sqlite_path(parsed)
        if not source.is_file():
            raise InvalidInputError(f"{source}: no such database file", field="url")
    return backup_write.write_backup(parsed, Path(dest_path))


def restore(src_path: str | Path, url: str | URL | None = None, *, study: str) -> BackupSummary:
    """Check the backup ``src_path`` completely, then restore it into the EMPTY database ``url``.

    Parameters
    ----------
    src_path
        A file written by :func:`backup`.
    url
        SQLAlchemy URL of the target; ``None`` reads ``EQUITRIAL_DATABASE_URL``. The target
        must hold no rows (new, or migrated to the backup's revision but empty).
    study
        The code of the study the operator means to restore: a backup of another study is
        refused.

    Returns
    -------
    BackupSummary
        What was restored, as the signed manifest states it (and as re-read from the target).

    Raises
    ------
    InvalidInputError
        ``src_path`` is missing, truncated, altered, unsigned, signed with another key, not a
        backup, or its rows cannot be loaded; the target is left as it was.
    ConflictError
        The backup is of another study, or the target is not empty.
    ConfigurationError
        The installation's signing key cannot be loaded.
    """
    src = Path(src_path)
    if not src.is_file():
        raise InvalidInputError(f"{src}: no such backup file", field="src_path")
    if not isinstance(study, str) or not study.strip():
        raise InvalidInputError("name the study the backup must hold", field="study")
    key = keys.load_key()
    found = backup_read.scan(src, key)
    summary = backup_read.check(src, found, key, study)
    _known_revision(src, summary.alembic_revision)
    target = normalize_url(url)
    sqlite_file = _sqlite_path(target) if target.get_backend_name() == "sqlite" else None
    _refuse_non_empty(target, sqlite_file, summary.alembic_revision)
    _load(src, target, key, found, sqlite_file)
    return summary


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise InvalidInputError(f"{url}: an in-memory SQLite database has no backup", field="url")
    return Path(url.database)


def _known_revision(src: Path, revision: str) -> None:
    try:
        known = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise InvalidInputError(
            f"{src}: schema revision {revision!r} is not one this equitrial knows; restore "
            "with the equitrial version that wrote it",
            field="src_path",
        )


def _refuse_non_empty(target: URL, sqlite_file: Path | None, revision: str) -> None:
    if sqlite_file is not None and (not sqlite_file.exists() or sqlite_file.stat().st_size == 0):
        return
    name = target.render_as_string()
    engine = make_engine(target)
    try:
        current = migrate.current_revision(engine)
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
            known = [t for t in fmt.model_tables().values() if t.name in tables]
            filled = [t.name for t in known if connection.scalar(_count(t))]
    except SQLAlchemyError as error:
        raise ConflictError(
            f"{name}: the target cannot be read as an empty database ({_first_line(error)}); "
            "nothing was restored",
            field="url",
        ) from None
    finally:
        engine.dispose()
    if filled or (current is None and tables):
        what = ", ".join(sorted(filled or tables))
        raise ConflictError(
            f"restore needs an empty database; {name} has rows or tables in {what}",
            field="url",
        )
    if current is not None and current != revision:
        raise ConflictError(
            f"{name} is at schema revision {current}, the backup at {revision}: restore "
            "into a new database",
            field="url",
        )


def _count(table: Table) -> Any:
    return select(func.count()).select_from(table)


def _first_line(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


class _Loader:
    """Inserts rows table by table in batches, in the order they are read."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.table: Table | None = None
        self.rows: list[dict[str, Any]] = []

    def add(self, table: Table, values: dict[str, Any]) -> None:
        if table is not self.table or len(self.rows) >= _BATCH:
            self.flush()
            self.table = table
        self.rows.append(values)

    def flush(self) -> None:
        if self.table is not None and self.rows:
            self.connection.execute(insert(self.table), self.rows)
        self.rows = []


def _load(
    src: Path, target: URL, key: keys.SigningKey, found: backup_read.Scan, sqlite_file: Path | None
) -> None:
    created = sqlite_file is not None and not sqlite_file.exists()
    manifest = found.manifest or {}
    engine = make_engine(target)
    done = False
    try:
        with engine.begin() as connection:
            _migrate(connection, manifest["alembic_revision"])
            loader = _Loader(connection)
            again = backup_read.scan(src, key, loader.add)
            loader.flush()
            if (again.digests(), again.manifest) != (found.digests(), found.manifest):
                raise InvalidInputError(
                    f"{src}: the file changed while it was restored; nothing was restored",
                    field="src_path",
                )
            if connection.dialect.name == "postgresql":
                _reset_sequences(connection)
            _compare(src, connection, key, manifest)
        done = True
    except SQLAlchemyError as error:
        raise InvalidInputError(
            f"{src}: the rows could not be loaded into {target.render_as_string()} "
            f"({_first_line(error)}); nothing was restored",
            field="src_path",
        ) from None
    finally:
        engine.dispose()
        if created and not done and sqlite_file is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{sqlite_file}{suffix}").unlink()


def _migrate(connection: Connection, revision: str) -> None:
    # Alembic runs inside the caller's transaction (env.py: an external transaction is kept),
    # so a failure later in the restore also undoes the migration.
    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _compare(src: Path, connection: Connection, key: keys.SigningKey, manifest: Any) -> None:
    known = fmt.model_tables()
    for entry in manifest["tables"]:
        table, columns = known[entry["name"]], entry["columns"]
        digest = fmt.TableDigest(table.name)
        query = select(*(table.c[c] for c in columns)).order_by(*table.primary_key.columns)
        for row in connection.execute(query).yield_per(_BATCH):
            digest.add(fmt.encode_row(table, columns, row._asdict(), key))
        if (digest.rows, digest.sha256) != (entry["rows"], entry["sha256"]):
            raise InvalidInputError(
                f"{src}: table {table.name} reads back from the target with {digest.rows} rows "
                f"and another digest than the backup's; nothing was restored",
                field="src_path",
            )


def _reset_sequences(connection: Connection) -> None:
    for table in fmt.model_tables().values():
        if "id" not in table.c or table.c.id.autoincrement is False:
            continue
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), max(id)) FROM "
                f'"{table.name}" HAVING max(id) IS NOT NULL'
            ),
            {"table": table.name},
        )
