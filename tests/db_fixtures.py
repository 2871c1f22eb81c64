"""Database fixtures: every store test runs on SQLite and on PostgreSQL.

``db_url`` is parametrized: ``sqlite`` gives a fresh file in the test's temporary directory;
``postgresql`` creates a fresh database ``equitrial_test_<uuid>`` on the server named by
``EQUITRIAL_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``,
the administration database used to create and drop it) and drops it afterwards. Both are
migrated with ``equitrial.store.migrate.upgrade`` (never ``create_all``).

If PostgreSQL is unreachable its parameters are skipped on a developer machine and FAIL when
``CI=true``, so CI cannot go green without having tested PostgreSQL.

Loaded in every test module by the last line of ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from equitrial.store import migrate
from equitrial.store.db import make_engine

__all__ = [
    "another_empty_db_url",
    "backend",
    "db_url",
    "empty_db_url",
    "engine",
    "fresh_database",
    "postgres_admin_url",
]

DEFAULT_POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def postgres_admin_url() -> URL:
    """URL of the PostgreSQL database used to create and drop the test databases."""
    return make_url(os.environ.get("EQUITRIAL_TEST_POSTGRES_URL", DEFAULT_POSTGRES_ADMIN_URL))


def _admin_engine() -> Engine:
    return create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")


def _unreachable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI and is unreachable: {reason}")
    pytest.skip(f"PostgreSQL unreachable: {reason}")


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """A new empty database of ``backend`` (``sqlite`` in ``directory``), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'equitrial_{uuid.uuid4().hex}.db'}"
    else:
        yield from _fresh_postgres_database()


def _fresh_postgres_database() -> Iterator[str]:
    name = f"equitrial_test_{uuid.uuid4().hex}"
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        _unreachable(str(error).splitlines()[0])
    try:
        yield postgres_admin_url().set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of a fresh, empty (not migrated) database: ``sqlite`` or ``postgresql``."""
    with fresh_database(request.param, tmp_path_factory.mktemp("sqlite")) as url:
        yield url


@pytest.fixture
def backend(empty_db_url: str) -> str:
    """``"sqlite"`` or ``"postgresql"``: the backend of this test's database."""
    return make_url(empty_db_url).get_backend_name()


@pytest.fixture
def another_empty_db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second fresh, empty database on the same backend (a restore target, say)."""
    with fresh_database(backend, tmp_path_factory.mktemp("sqlite")) as url:
        yield url


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """URL of a fresh database migrated to the latest revision (SQLite and PostgreSQL)."""
    migrate.upgrade(empty_db_url)
    return empty_db_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """Engine of the migrated test database, disposed after the test."""
    created = make_engine(db_url)
    try:
        yield created
    finally:
        created.dispose()
