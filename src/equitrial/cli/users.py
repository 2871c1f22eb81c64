"""``equitrial user add``, and how a command learns who acts (``--as USER --password-stdin``).

Operator commands (``db upgrade``, ``study load``, ``site add``, ``user add``, ``audit verify``,
``backup``, ``restore``) act with the authority of whoever holds the database credentials in
``EQUITRIAL_DATABASE_URL``; the services audit their writes as ``system:<OS user>``. Commands on
trial data (``subject enrol``, ``randomize``, ``randomization list``) act as a named user:
``--as USER`` with the password read from the first line of stdin (``--password-stdin``) or,
on a terminal, prompted for without echo; the login and a failed login are audited.
"""

from __future__ import annotations

import getpass
import sys

import typer
from sqlalchemy import Engine

from equitrial.cli._common import fail
from equitrial.cli.db import EXIT_BAD_INPUT, database
from equitrial.services import users as users_service
from equitrial.services.auth import Actor, authenticate, system_actor

__all__ = [
    "AS_OPTION",
    "PASSWORD_STDIN_OPTION",
    "add",
    "app",
    "login",
    "read_password",
]

app = typer.Typer(help="User accounts and their roles.", no_args_is_help=True)

AS_OPTION = typer.Option(..., "--as", metavar="USER", help="The user who acts (logs in).")
PASSWORD_STDIN_OPTION = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from the first line of stdin (else prompt on a terminal).",
)


def read_password(from_stdin: bool, what: str = "password") -> str:
    """The password: the first line of stdin, or a prompt without echo on a terminal."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"{what}: ")
    else:
        fail(f"no {what}: pass --password-stdin and write it to stdin", EXIT_BAD_INPUT)
    if not password:
        fail(f"no {what} given (expected it on the first line of stdin)", EXIT_BAD_INPUT)
    return password


def login(engine: Engine, username: str, password_stdin: bool) -> Actor:
    """Authenticate ``username`` (audited); a failure exits 3 through :func:`database`."""
    return authenticate(engine, username, read_password(password_stdin, f"password of {username}"))


@app.command("add")
def add(
    username: str = typer.Argument(..., help="The new user's login name."),
    role: list[str] = typer.Option(
        ...,
        "--role",
        help="A role: admin, investigator, coordinator, data-manager, monitor, "
        "blinded-statistician, unblinded-statistician or pharmacist (repeat for several).",
    ),
    site: str | None = typer.Option(
        None, "--site", metavar="SITE", help="Site code the role is limited to (default: all)."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new user's password from stdin."
    ),
) -> None:
    """Create a user with its roles (at one site, or at every site); audited as ``system``."""
    password = read_password(password_stdin, f"password of the new user {username}")
    with database() as engine:
        user = users_service.add_user(engine, system_actor(), username, password, role, site=site)
    where = f" at site {site}" if site else " at every site"
    typer.echo(f"user {user.username} added with role {', '.join(role)}{where}")
