"""The one validated settings object, read from the environment at start-up.

Every setting has the prefix ``EQUITRIAL_``: ``EQUITRIAL_DATABASE_URL`` is the SQLAlchemy URL
of the clinical database (``sqlite:///equitrial.db`` by default, a file in the working
directory; ``postgresql+psycopg://user@host:5432/name`` for PostgreSQL).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from equitrial.errors import InvalidInputError

__all__ = ["DEFAULT_DATABASE_URL", "Settings", "get_settings"]

DEFAULT_DATABASE_URL = "sqlite:///equitrial.db"
_SUPPORTED_SCHEMES = ("sqlite", "postgresql")


class Settings(BaseSettings):
    """Settings of one equitrial process.

    Parameters
    ----------
    database_url
        SQLAlchemy URL of the clinical database, from ``EQUITRIAL_DATABASE_URL``. SQLite
        (``sqlite:///path``) and PostgreSQL (``postgresql+psycopg://...``) are supported.
    """

    model_config = SettingsConfigDict(env_prefix="EQUITRIAL_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL


def get_settings() -> Settings:
    """Read and validate the settings from the environment now.

    Not cached: tests and the CLI change ``EQUITRIAL_DATABASE_URL`` between calls.

    Raises
    ------
    InvalidInputError
        If ``EQUITRIAL_DATABASE_URL`` names a database other than SQLite or PostgreSQL.
    """
    settings = Settings()
    scheme = settings.database_url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in _SUPPORTED_SCHEMES:
        raise InvalidInputError(
            f"EQUITRIAL_DATABASE_URL: unsupported database {scheme!r} in "
            f"{settings.database_url!r}; use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST:PORT/NAME",
            field="database_url",
            value=settings.database_url,
            expected="a sqlite or postgresql SQLAlchemy URL",
        )
    return settings
