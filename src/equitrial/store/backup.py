"""Consistent backups of the clinical database, and restore into an empty database.

Two formats:

- SQLite databases are copied with SQLite's online backup API [1]_ (a page-by-page copy that
  is consistent even while other connections write): the backup is itself a SQLite file.
- PostgreSQL databases are dumped logically, every table of the models in foreign-key order,
  one JSON object per line, read in ONE ``REPEATABLE READ READ ONLY`` transaction (a single
  snapshot). The first line is a header with the Alembic revision.

:func:`restore` reads either format into an empty database of either kind: it migrates the
target to the backup's revision, then inserts the rows in foreign-key order in one transaction
(a SQLite file into a SQLite URL is copied back with the backup API). Rows keep their ids and
every audit value round-trips exactly, so ``audit verify`` gives the same final hash.

References
----------
.. [1] SQLite, "SQLite Backup API", https://www.sqlite.org/backup.html; Python's
   ``sqlite3.Connection.backup``.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

from sqlalchemy import Column, Connection, Table, func, insert, select, text
from sqlalchemy.engine import URL

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.store import migrate
from equitrial.store.db import make_engine, normalize_url
from equitrial.store.models import Base, utcnow

__all__ = ["BACKUP_FORMAT", "BackupSummary", "backup", "restore"]

BACKUP_FORMAT: Final = "equitrial-logical-backup"
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"


class BackupSummary(dict[str, int]):
    """Rows per table written or restored (a ``dict``: table name -> row count)."""


def backup(url: str | URL | None, dest_path: str | Path) -> BackupSummary:
    """Write a consistent copy of the database at ``url`` to ``dest_path``.

    Parameters
    ----------
    url
        SQLAlchemy URL of the database; ``None`` reads ``EQUITRIAL_DATABASE_URL``.
    dest_path
        A new file: a SQLite database (from SQLite) or JSON lines (from PostgreSQL).

    Returns
    -------
    BackupSummary
        Rows per table.

    Raises
    ------
    InvalidInputError
        ``dest_path`` exists already.
    """
    dest = Path(dest_path)
    if dest.exists():
        raise InvalidInputError(
            f"{dest}: exists already; a backup never overwrites a file", field="dest_path"
        )
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(parsed), dest)
        return _count_rows(f"sqlite:///{dest}")
    engine = make_engine(parsed)
    try:
        with engine.connect() as connection, dest.open("w", encoding="utf-8") as out:
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            with connection.begin():
                return _dump(connection, out)
    finally:
        engine.dispose()


def restore(src_path: str | Path, url: str | URL | None = None) -> BackupSummary:
    """Restore a backup written by :func:`backup` into the EMPTY database at ``url``.

    Parameters
    ----------
    src_path
        A backup file (SQLite file or JSON lines).
    url
        SQLAlchemy URL of the target; ``None`` reads ``EQUITRIAL_DATABASE_URL``. The database
        must have no rows (it may be new, or migrated but empty).

    Returns
    -------
    BackupSummary
        Rows per table.

    Raises
    ------
    InvalidInputError
        ``src_path`` is missing or not an equitrial backup.
    ConflictError
        The target database holds data.
    """
    src = Path(src_path)
    if not src.is_file():
        raise InvalidInputError(f"{src}: no such backup file", field="src_path")
    target = normalize_url(url)
    _refuse_non_empty(target)
    with src.open("rb") as head:
        is_sqlite_file = head.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    if is_sqlite_file and target.get_backend_name() == "sqlite":
        _sqlite_copy(src, _sqlite_path(target))
        return _count_rows(target)
    if is_sqlite_file:
        return _restore_from_sqlite_file(src, target)
    with src.open(encoding="utf-8") as lines:
        return _load(lines, target, str(src))


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise InvalidInputError(f"{url}: an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_copy(src: Path, dest: Path) -> None:
    source = sqlite3.connect(src)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _count_rows(url: str | URL) -> BackupSummary:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return BackupSummary(
                {
                    t.name: connection.scalar(select(func.count()).select_from(t)) or 0
                    for t in _tables()
                }
            )
    finally:
        engine.dispose()


def _refuse_non_empty(url: URL) -> None:
    engine = make_engine(url)
    try:
        if migrate.current_revision(engine) is None:
            return
        counts = _count_rows(url)
    finally:
        engine.dispose()
    filled = sorted(name for name, n in counts.items() if n)
    if filled:
        raise ConflictError(
            f"restore needs an empty database; {url.render_as_string()} has rows in "
            f"{', '.join(filled)}",
            field="url",
        )


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _decode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    python_type = column.type.python_type
    if python_type is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if python_type is dt.date:
        return dt.date.fromisoformat(value)
    return value


def _dump(connection: Connection, out: IO[str]) -> BackupSummary:
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    header = {"format": BACKUP_FORMAT, "version": 1, "alembic_revision": revision}
    header["created_at"] = utcnow().isoformat()
    out.write(json.dumps(header) + "\n")
    summary = BackupSummary()
    for table in _tables():
        order = [c for c in table.primary_key.columns]
        rows = connection.execute(select(table).order_by(*order)).yield_per(1000)
        summary[table.name] = 0
        for row in rows:
            record = {key: _encode(value) for key, value in row._mapping.items()}
            out.write(json.dumps({"table": table.name, "row": record}, ensure_ascii=False) + "\n")
            summary[table.name] += 1
    return summary


def _read_header(lines: IO[str], where: str) -> str | None:
    try:
        header = json.loads(lines.readline())
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != BACKUP_FORMAT:
        raise InvalidInputError(f"{where}: not an equitrial backup", field="src_path")
    revision = header.get("alembic_revision")
    return None if revision is None else str(revision)


def _load(lines: IO[str], target: URL, where: str) -> BackupSummary:
    revision = _read_header(lines, where)
    migrate.upgrade(target, revision or "head")
    tables = {t.name: t for t in _tables()}
    return _insert_all(target, (_parse(line, tables, where) for line in lines if line.strip()))


def _parse(line: str, tables: dict[str, Table], where: str) -> tuple[Table, dict[str, Any]]:
    entry = json.loads(line)
    table = tables.get(entry.get("table"))
    if table is None:
        raise InvalidInputError(f"{where}: unknown table {entry.get('table')!r}", field="src_path")
    return table, {key: _decode(table.c[key], value) for key, value in entry["row"].items()}


def _restore_from_sqlite_file(src: Path, target: URL) -> BackupSummary:
    source = make_engine(f"sqlite:///{src}")
    try:
        revision = migrate.current_revision(source)
        migrate.upgrade(target, revision or "head")
        with source.connect() as connection:
            rows = (
                (table, dict(row._mapping))
                for table in _tables()
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            )
            return _insert_all(target, rows)
    finally:
        source.dispose()


def _insert_all(target: URL, rows: Iterator[tuple[Table, dict[str, Any]]]) -> BackupSummary:
    engine = make_engine(target)
    summary = BackupSummary({t.name: 0 for t in _tables()})
    try:
        with engine.begin() as connection:
            for table, record in rows:
                connection.execute(insert(table), [record])
                summary[table.name] += 1
            if engine.dialect.name == "postgresql":
                _reset_sequences(connection)
    finally:
        engine.dispose()
    return summary


def _reset_sequences(connection: Connection) -> None:
    for table in _tables():
        if "id" not in table.c or table.c.id.autoincrement is False:
            continue
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), max(id)) FROM "
                f'"{table.name}" HAVING max(id) IS NOT NULL'
            ),
            {"table": table.name},
        )
