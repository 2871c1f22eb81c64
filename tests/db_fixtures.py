"""Database fixtures: every store test runs on SQLite and on PostgreSQL.

``db_url`` is parametrized: ``sqlite`` gives a fresh file in the test's temporary directory;
``postgresql`` creates a fresh database ``equitrial_test_<uuid>`` on the server named by
``EQUITRIAL_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``,
the administration database used to create and drop it) and drops it afterwards. Both are
migrated with ``equitrial.store.migrate.upgrade`` (never ``create_all``).

Migrate once, copy many: the migrations run once per test session and backend, into a template
(a SQLite file, checkpointed and closed; a PostgreSQL database ``equitrial_template_<uuid>``
with no open connection, dropped at the end of the session), and every ``db_url`` is a copy of
it (a copied file; ``CREATE DATABASE ... TEMPLATE``): the same bytes the migrations write into a
new database, built from this checkout's migrations at the start of every session.
``empty_db_url`` is never a copy: it stays empty for the tests of the migrations themselves.

If PostgreSQL is unreachable its parameters are skipped on a developer machine and FAIL when
``CI=true``, so CI cannot go green without having tested PostgreSQL.

Loaded in every test module by the last line of ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
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
    "migrated_templates",
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


def _fresh_postgres_database(template: str | None = None) -> Iterator[str]:
    name = f"equitrial_test_{uuid.uuid4().hex}"
    source = "" if template is None else f' TEMPLATE "{template}"'
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{source}'))
    except OperationalError as error:
        admin.dispose()
        _unreachable(str(error).splitlines()[0])
    try:
        yield postgres_admin_url().set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class _Templates:
    """Migrated template databases, one per backend, built on first use in a test session."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._built: dict[str, str] = {}

    def _build(self, backend: str) -> str:
        if backend == "sqlite":
            path = self._directory / "equitrial_template.db"
            migrate.upgrade(f"sqlite:///{path}")
            # migrate.upgrade disposed its engine; fold any WAL into the file and close it, so
            # the template is one self-contained file (copies must not miss a -wal file)
            connection = sqlite3.connect(path)
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return str(path)
        name = f"equitrial_template_{uuid.uuid4().hex}"
        admin = _admin_engine()
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        except OperationalError as error:
            _unreachable(str(error).splitlines()[0])
        finally:
            admin.dispose()
        try:
            # migrate.upgrade disposes its engine: no connection to the template stays open
            migrate.upgrade(postgres_admin_url().set(database=name))
        except BaseException:
            self._drop_postgres(name)
            raise
        return name

    def template(self, backend: str) -> str:
        """The template of ``backend``: a SQLite file path or a PostgreSQL database name."""
        if backend not in self._built:
            self._built[backend] = self._build(backend)
        return self._built[backend]

    @contextmanager
    def copy(self, backend: str, directory: Path) -> Iterator[str]:
        """A new database of ``backend``, a copy of the migrated template, dropped afterwards."""
        template = self.template(backend)
        if backend == "sqlite":
            path = directory / f"equitrial_{uuid.uuid4().hex}.db"
            shutil.copyfile(template, path)
            yield f"sqlite:///{path}"
            return
        yield from _fresh_postgres_database(template=template)

    @staticmethod
    def _drop_postgres(name: str) -> None:
        admin = _admin_engine()
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    def close(self) -> None:
        """Drop the PostgreSQL template (the SQLite file goes with the temporary directory)."""
        name = self._built.pop("postgresql", None)
        if name is not None:
            self._drop_postgres(name)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    """The session's migrated templates (built lazily, per backend; see the module docstring)."""
    templates = _Templates(tmp_path_factory.mktemp("template"))
    try:
        yield templates
    finally:
        templates.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``: the backend of this test's database."""
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a fresh, empty (not migrated) database: ``sqlite`` or ``postgresql``."""
    with fresh_database(backend, tmp_path_factory.mktemp("sqlite")) as url:
        yield url


@pytest.fixture
def another_empty_db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second fresh, empty database on the same backend (a restore target, say)."""
    with fresh_database(backend, tmp_path_factory.mktemp("sqlite")) as url:
        yield url


@pytest.fixture
def db_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory, migrated_templates: _Templates
) -> Iterator[str]:
    """URL of a fresh database migrated to the latest revision (SQLite and PostgreSQL).

    A private copy of the session's migrated template (see the module docstring).
    """
    with migrated_templates.copy(backend, tmp_path_factory.mktemp("sqlite")) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """Engine of the migrated test database, disposed after the test."""
    created = make_engine(db_url)
    try:
        yield created
    finally:
        created.dispose()
