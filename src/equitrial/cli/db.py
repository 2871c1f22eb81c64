"""``equitrial db upgrade``, and what every data command shares: the engine and the exit codes.

Exit codes of the data commands (documented in ``docs/data-integrity.md``):

- 0: done;
- 1: ``audit verify`` found a broken hash chain;
- 2: bad input (a value, a missing record, a conflict such as a duplicate or a locked record, a
  database that cannot be reached or is not upgraded);
- 3: permission denied (wrong password, unknown or inactive user, role or site not allowed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer

from equitrial.cli._common import App, fail
from equitrial.errors import EquitrialError, PermissionDeniedError

if TYPE_CHECKING:  # SQLAlchemy and the store load only when a command opens the database
    from sqlalchemy import Engine

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_DENIED",
    "EXIT_VERIFY_FAILED",
    "app",
    "database",
    "fail_with",
    "upgrade",
]

EXIT_VERIFY_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_DENIED = 3

app = App(help="The clinical database itself.", no_args_is_help=True)


def fail_with(error: EquitrialError) -> NoReturn:
    """Exit with the code of the error's kind: 3 for permission denied, else 2."""
    fail(error, EXIT_DENIED if isinstance(error, PermissionDeniedError) else EXIT_BAD_INPUT)


@contextmanager
def database() -> Iterator[Engine]:
    """The engine of ``EQUITRIAL_DATABASE_URL``; errors inside the block become exit codes.

    Every service call of a command runs inside this block: an :class:`EquitrialError` exits
    with its code, a database error (unreachable server, tables missing) exits 2 with the
    driver's first line and a hint, and the engine is disposed of in every case.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from equitrial.store.db import make_engine

    try:
        engine = make_engine()
    except EquitrialError as exc:
        fail_with(exc)
    except (SQLAlchemyError, ValueError) as exc:
        fail(f"EQUITRIAL_DATABASE_URL: {exc}", EXIT_BAD_INPUT)
    try:
        yield engine
    except EquitrialError as exc:
        fail_with(exc)
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(
            f"database error: {first} (is the database reachable and upgraded? "
            "run `equitrial db upgrade`)",
            EXIT_BAD_INPUT,
        )
    finally:
        engine.dispose()


@app.command("upgrade")
def upgrade() -> None:
    """Create or migrate the tables of the database to the current version (Alembic head).

    Also creates the audit signing key (EQUITRIAL_AUDIT_KEY_FILE, mode 0600) if there is none:
    it must live outside the database, and every write is signed with it.
    """
    from equitrial.store import keys, migrate

    with database() as engine:
        path = keys.create_key()
        migrate.upgrade(engine.url.render_as_string(hide_password=False))
    typer.echo("database upgraded to the current schema")
    typer.echo(f"audit signing key: {path} (key id {keys.load_key(path).key_id}); keep it safe")
