"""Apply the Alembic migrations of the clinical database (``equitrial db upgrade``).

Production code creates and changes tables only through these migrations, never through
``Base.metadata.create_all``. The migration scripts live inside the package
(``equitrial/store/migrations``), so an installed equitrial can migrate without an
``alembic.ini``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from equitrial.store.db import make_engine

__all__ = ["alembic_config", "current_revision", "downgrade", "head_revision", "upgrade"]

_SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the package's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(_SCRIPT_LOCATION))
    return config


def _run(url: str | URL | None, action: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def upgrade(url: str | URL | None = None, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (the latest by default).

    Parameters
    ----------
    url
        SQLAlchemy URL; ``None`` reads ``EQUITRIAL_DATABASE_URL``.
    revision
        Alembic revision to reach, ``"head"`` by default.
    """
    _run(url, "upgrade", revision)


def downgrade(url: str | URL | None = None, revision: str = "base") -> None:
    """Migrate the database down to ``revision`` (``"base"``: drop every table)."""
    _run(url, "downgrade", revision)


def head_revision() -> str | None:
    """The latest revision the package ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
