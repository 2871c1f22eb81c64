"""Engines and transactions for SQLite and PostgreSQL.

SQLite connections get ``PRAGMA journal_mode=WAL``, ``foreign_keys=ON`` and
``busy_timeout=30000``. pysqlite's own transaction handling is switched off and every
transaction is opened with ``BEGIN IMMEDIATE`` (the documented SQLAlchemy recipe for pysqlite
[1]_): writers are serialized from their first statement, so two writers never deadlock on a
lock upgrade and the audit chain is appended to by one transaction at a time. Read-only
transactions (``transaction(engine, read_only=True)``) use a plain deferred ``BEGIN`` and run
beside a writer under WAL.

PostgreSQL is reached with psycopg 3 (``postgresql+psycopg://``; a bare ``postgresql://`` URL is
given that driver) at the server's default READ COMMITTED isolation.

References
----------
.. [1] SQLAlchemy 2.0 documentation, "Serializable isolation / Savepoints / Transactional DDL"
   (dialects/sqlite, pysqlite section).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

import equitrial.store.anchor  # noqa: F401  (registers the signing of the chain head at commit)
from equitrial.settings import get_settings

__all__ = ["is_sqlite", "make_engine", "normalize_url", "session_rows", "transaction"]

_READ_ONLY = "equitrial_read_only"


def normalize_url(url: str | URL | None = None) -> URL:
    """Return the SQLAlchemy URL to connect to.

    Parameters
    ----------
    url
        A SQLAlchemy URL; ``None`` reads ``EQUITRIAL_DATABASE_URL`` (default
        ``sqlite:///equitrial.db``).

    Returns
    -------
    URL
        The URL, with the psycopg 3 driver for a driver-less ``postgresql://`` URL.
    """
    parsed = make_url(url if url is not None else get_settings().database_url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine_or_url: Engine | URL | str) -> bool:
    """Whether an engine or URL points at SQLite."""
    if isinstance(engine_or_url, Engine):
        return engine_or_url.dialect.name == "sqlite"
    return make_url(engine_or_url).get_backend_name() == "sqlite"


def make_engine(url: str | URL | None = None, *, durable: bool = True, **kwargs: Any) -> Engine:
    """Create the engine of the clinical database.

    Parameters
    ----------
    url
        SQLAlchemy URL; ``None`` reads the settings (``EQUITRIAL_DATABASE_URL``).
    durable
        SQLite only: ``True`` (every real study) keeps SQLite's ``synchronous=FULL``, each
        commit on disk before it returns. ``False`` sets ``synchronous=NORMAL``: under WAL a
        commit survives the process being killed and the database stays consistent, but the
        last commits may be lost if the machine itself fails. Only for a database that can be
        made again (the virtual trial of ``equitrial demo``).
    **kwargs
        Passed to :func:`sqlalchemy.create_engine` (``poolclass=...`` in tests, say).

    Returns
    -------
    Engine
        For SQLite, every connection runs WAL with foreign keys on and a 30 s busy timeout,
        and every transaction starts with ``BEGIN IMMEDIATE`` unless opened read-only.

    Notes
    -----
    The caller owns the engine and should ``dispose()`` it when done.
    """
    parsed = normalize_url(url)
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _install_sqlite_hooks(engine, durable)
    return engine


def _install_sqlite_hooks(engine: Engine, durable: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Switch pysqlite's implicit BEGIN off; SQLAlchemy's "begin" event below emits ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            if not durable:
                cursor.execute("PRAGMA synchronous=NORMAL")
                # a batch writer: checkpoint the WAL every 40 MiB rather than 4 MiB, and keep
                # 64 MiB of pages in memory rather than 2 MiB
                cursor.execute("PRAGMA wal_autocheckpoint=10000")
                cursor.execute("PRAGMA cache_size=-65536")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def transaction(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """Run one use case in one database transaction.

    Parameters
    ----------
    engine
        From :func:`make_engine`.
    read_only
        On SQLite, open a deferred transaction that does not take the write lock (use it only
        for use cases that never write). Ignored on PostgreSQL.

    Yields
    ------
    Session
        Commits when the block ends normally, rolls back on any exception (which propagates).
        Objects stay readable after the commit (``expire_on_commit=False``).
    """
    bind = engine.execution_options(**{_READ_ONLY: True}) if read_only else engine
    with Session(bind=bind, expire_on_commit=False) as session, session.begin():
        yield session


def session_rows(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    params: Mapping[str, Any],
    model: type[Any],
) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` (with ``params``), a select of ``model``'s primary key ``id``
    and attributes named as their columns, as a select of the entities would give them: an
    object the session holds keeps the values loaded in it (the ORM does not overwrite them).
    """
    rows = session.execute(statement, params).all()
    held = {
        state.key[1][0]: state.dict
        for state in session.identity_map.all_states()
        if state.key is not None and state.key[0] is model  # (class, primary key, token)
    }
    if not held:
        return [tuple(row) for row in rows]
    names = list(rows[0]._fields) if rows else []
    return [
        tuple(row)
        if row[0] not in held
        else tuple(held[row[0]].get(k, v) for k, v in zip(names, row, strict=True))
        for row in rows
    ]
