"""Alembic environment of equitrial: run by :mod:`equitrial.store.migrate`.

The connection comes from ``config.attributes["connection"]`` when the caller opened one
(``migrate.upgrade`` does, with the engine of :func:`equitrial.store.db.make_engine`), otherwise
from the ``sqlalchemy.url`` option or ``EQUITRIAL_DATABASE_URL``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from equitrial.store.db import make_engine
from equitrial.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the caller's connection or a new engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("equitrial migrations run online only (equitrial db upgrade)")
run_migrations_online()
