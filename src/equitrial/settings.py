"""The one validated settings object, read from the environment at start-up.

Every setting has the prefix ``EQUITRIAL_``:

- ``EQUITRIAL_DATABASE_URL``: the SQLAlchemy URL of the clinical database
  (``sqlite:///equitrial.db`` by default, a file in the working directory;
  ``postgresql+psycopg://user@host:5432/name`` for PostgreSQL).
- ``EQUITRIAL_AUDIT_KEY_FILE``: the Ed25519 private key that signs the audit chain's head,
  kept OUTSIDE the database (default ``$XDG_CONFIG_HOME/equitrial/audit-signing.key``, i.e.
  ``~/.config/equitrial/audit-signing.key``); created with mode 0600 by ``equitrial db upgrade``.
- ``EQUITRIAL_AUDIT_ANCHOR_FILE``: the append-only file, also outside the database, where every
  signed chain head is copied after its transaction commits (default: ``audit-anchors.jsonl``
  beside the key file).
- ``EQUITRIAL_LOCKOUT_ATTEMPTS`` / ``EQUITRIAL_LOCKOUT_MINUTES``: an account is locked for
  ``LOCKOUT_MINUTES`` (default 15) after ``LOCKOUT_ATTEMPTS`` (default 5) failed logins in a row.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from equitrial.errors import InvalidInputError

__all__ = ["DEFAULT_DATABASE_URL", "Settings", "default_key_file", "get_settings"]

DEFAULT_DATABASE_URL = "sqlite:///equitrial.db"
_SUPPORTED_SCHEMES = ("sqlite", "postgresql")


def default_key_file() -> Path:
    """``$XDG_CONFIG_HOME/equitrial/audit-signing.key`` (``~/.config`` when unset)."""
    return _default_key_file(os.environ.get("XDG_CONFIG_HOME"), os.environ.get("HOME"))


@functools.lru_cache(maxsize=4)
def _default_key_file(config_home: str | None, _home: str | None) -> Path:
    # cached by the variables it depends on: every commit asks for it (to sign the audit chain)
    base = config_home or str(Path.home() / ".config")
    return Path(base) / "equitrial" / "audit-signing.key"


class Settings(BaseSettings):
    """Settings of one equitrial process.

    Parameters
    ----------
    database_url
        SQLAlchemy URL of the clinical database, from ``EQUITRIAL_DATABASE_URL``. SQLite
        (``sqlite:///path``) and PostgreSQL (``postgresql+psycopg://...``) are supported.
    audit_key_file
        Path of the Ed25519 key that signs the audit chain (``EQUITRIAL_AUDIT_KEY_FILE``).
    audit_anchor_file
        Path of the external anchor log (``EQUITRIAL_AUDIT_ANCHOR_FILE``).
    lockout_attempts, lockout_minutes
        Failed logins in a row that lock an account, and for how long.
    """

    model_config = SettingsConfigDict(env_prefix="EQUITRIAL_", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    audit_key_file: Path | None = None
    audit_anchor_file: Path | None = None
    lockout_attempts: int = Field(default=5, ge=1, le=100)
    lockout_minutes: float = Field(default=15.0, gt=0, le=24 * 60 * 365)

    @property
    def key_file(self) -> Path:
        """The audit signing key's path (the setting, or :func:`default_key_file`)."""
        return self.audit_key_file or default_key_file()

    @property
    def anchor_file(self) -> Path:
        """The external anchor log's path (the setting, or beside the key file)."""
        return self.audit_anchor_file or self.key_file.with_name("audit-anchors.jsonl")


_LAST: list[tuple[tuple[str | None, ...], Settings]] = []
"""The last read: (the ``EQUITRIAL_*`` environment it was read from, the settings)."""


def _environment() -> tuple[str | None, ...]:
    """The values of the settings' ``EQUITRIAL_*`` variables (upper-case names, as documented;
    reading them one by one is much cheaper than scanning the whole environment)."""
    return tuple(os.environ.get(name) for name in _NAMES)


_NAMES = tuple(f"EQUITRIAL_{name.upper()}" for name in Settings.model_fields)


def get_settings() -> Settings:
    """The settings of the environment as it is now.

    Read again whenever an ``EQUITRIAL_*`` variable changed since the last call (tests and the
    CLI change ``EQUITRIAL_DATABASE_URL`` between calls); otherwise the validated object of the
    last read is returned (it is frozen), since reading it costs a pydantic validation and the
    audit trail asks for it on every write.

    Raises
    ------
    InvalidInputError
        If ``EQUITRIAL_DATABASE_URL`` names a database other than SQLite or PostgreSQL, or a
        setting has a value out of range.
    """
    environment = _environment()
    if _LAST and _LAST[0][0] == environment:
        return _LAST[0][1]
    try:
        settings = Settings()
    except ValueError as error:  # pydantic's ValidationError
        raise InvalidInputError(
            f"settings: {error}".splitlines()[0] + f" ({str(error).splitlines()[-1].strip()})",
            field="settings",
        ) from None
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
    _LAST[:] = [(environment, settings)]
    return settings
