"""``equitrial user add|grant|revoke|set-password``, and how a command learns who acts.

Who acts:

- Commands on trial data (``subject enrol``, ``randomize``, ``randomization list``) and every
  account command act as a named, logged-in user: ``--as USER`` with the password read from the
  first line of stdin (``--password-stdin``) or, on a terminal, prompted for without echo; the
  login and a failed login are audited (a name that is no user is recorded only as a keyed
  digest: it may be a password typed into ``--as``).
- ``user add`` WITHOUT ``--as`` is the operator's bootstrap (whoever holds the credentials in
  ``EQUITRIAL_DATABASE_URL``, audited as ``system:<OS user>``) and is allowed only for the first
  administrator: ``--role admin`` at every site (no ``--site``) on a database with no user.
  Every later account change needs ``--as ADMIN``: a study-wide admin, or a site admin for users
  and roles at its own sites only.

Passwords on stdin, one per line, so scripts need no terminal:

- ``user add NAME --role admin --password-stdin`` (first admin): line 1 = NAME's password;
- ``user add NAME --role R [--site S] --as ADMIN --password-stdin``: line 1 = ADMIN's password,
  line 2 = the new user's password;
- ``user grant|revoke NAME --role R [--site S] --as ADMIN --password-stdin``: line 1 = ADMIN's
  password;
- ``user set-password NAME --as USER --password-stdin``: line 1 = USER's password, line 2 = the
  new password (USER is NAME, or an admin of every site NAME works at).

A password has at least 12 characters, at least two of lowercase, uppercase, digits and other
characters (a space counts as other), and does not contain the username. Usernames are
case-insensitive and limited to ``a-z 0-9 . _ -``.
"""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING

import typer

from equitrial.cli._common import App, fail
from equitrial.cli.db import EXIT_BAD_INPUT, database

if TYPE_CHECKING:  # the services (argon2, SQLAlchemy) load only when a command runs
    from sqlalchemy import Engine

    from equitrial.services.auth import Actor
    from equitrial.services.users import UserView

__all__ = [
    "AS_OPTION",
    "PASSWORD_STDIN_OPTION",
    "add",
    "app",
    "grant",
    "login",
    "read_password",
    "revoke",
    "set_password",
]

app = App(
    help="User accounts and their roles (see 'equitrial user add --help' for stdin).",
    no_args_is_help=True,
)

AS_OPTION = typer.Option(..., "--as", metavar="USER", help="The user who acts (logs in).")
PASSWORD_STDIN_OPTION = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from the first line of stdin (else prompt on a terminal).",
)
_ADMIN_OPTION = typer.Option(
    ..., "--as", metavar="ADMIN", help="The administrator who acts (logs in)."
)
_STDIN_LINES = typer.Option(
    False,
    "--password-stdin",
    help="Read the passwords from stdin, one per line (see the command's description).",
)
_ROLE_HELP = (
    "admin, investigator, coordinator, data-manager, monitor, blinded-statistician, "
    "unblinded-statistician or pharmacist"
)
_SITE_OPTION = typer.Option(
    None, "--site", metavar="SITE", help="Site code the role is limited to (default: all)."
)


def read_password(from_stdin: bool, what: str = "password") -> str:
    """The password: the next line of stdin, or a prompt without echo on a terminal."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"{what}: ")
    else:
        fail(f"no {what}: pass --password-stdin and write it to stdin", EXIT_BAD_INPUT)
    if not password:
        fail(f"no {what} given (expected it on the next line of stdin)", EXIT_BAD_INPUT)
    return password


def login(engine: Engine, username: str, password_stdin: bool) -> Actor:
    """Authenticate ``username`` (audited); a failure exits 3 through :func:`database`."""
    from equitrial.services.auth import authenticate

    return authenticate(engine, username, read_password(password_stdin, f"password of {username}"))


def _roles(user: UserView) -> str:
    return ", ".join(f"{role}@{site or 'all sites'}" for role, site in user.roles) or "no role"


@app.command("add")
def add(
    username: str = typer.Argument(..., metavar="NAME", help="The new user's login name."),
    role: list[str] = typer.Option(
        ..., "--role", metavar="ROLE", help=f"A role: {_ROLE_HELP} (repeat for several)."
    ),
    site: str | None = _SITE_OPTION,
    as_user: str | None = typer.Option(
        None,
        "--as",
        metavar="ADMIN",
        help="The administrator who adds the user; without it, only the first administrator "
        "may be added (by the operator, on a database with no user).",
    ),
    password_stdin: bool = _STDIN_LINES,
) -> None:
    """Create a user with its roles (at one site, or at every site).

    Passwords with --password-stdin, one per line:

    without --as (the first administrator only): line 1 = the new user's password;

    with --as ADMIN: line 1 = ADMIN's password, line 2 = the new user's password.
    """
    from equitrial.services import users as users_service
    from equitrial.services.auth import authenticate, system_actor

    admin_password = None
    if as_user is not None:
        admin_password = read_password(password_stdin, f"password of {as_user}")
    password = read_password(password_stdin, f"password of the new user {username}")
    with database() as engine:
        actor = system_actor()
        if as_user is not None and admin_password is not None:
            actor = authenticate(engine, as_user, admin_password)
        user = users_service.add_user(engine, actor, username, password, role, site=site)
    typer.echo(f"user {user.username} added with role {_roles(user)}")


@app.command("grant")
def grant(
    username: str = typer.Argument(..., metavar="NAME", help="The user who gets the role."),
    role: str = typer.Option(..., "--role", metavar="ROLE", help=f"The role: {_ROLE_HELP}."),
    site: str | None = _SITE_OPTION,
    as_user: str = _ADMIN_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
) -> None:
    """Give a user a role (audited); stdin line 1 is ADMIN's password."""
    from equitrial.services import users as users_service

    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        user = users_service.grant_role(engine, actor, username, role, site=site)
    typer.echo(f"user {user.username} now has {_roles(user)}")


@app.command("revoke")
def revoke(
    username: str = typer.Argument(..., metavar="NAME", help="The user who loses the role."),
    role: str = typer.Option(..., "--role", metavar="ROLE", help=f"The role: {_ROLE_HELP}."),
    site: str | None = _SITE_OPTION,
    reason: str | None = typer.Option(
        None, "--reason", metavar="TEXT", help="Why (recorded in the audit)."
    ),
    as_user: str = _ADMIN_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
) -> None:
    """Take a role away from a user (audited); stdin line 1 is ADMIN's password."""
    from equitrial.services import users as users_service

    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        user = users_service.revoke_role(engine, actor, username, role, site=site, reason=reason)
    typer.echo(f"user {user.username} now has {_roles(user)}")


@app.command("set-password")
def set_password(
    username: str = typer.Argument(..., metavar="NAME", help="Whose password changes."),
    as_user: str = AS_OPTION,
    password_stdin: bool = _STDIN_LINES,
) -> None:
    """Set a password (the user itself, or an admin of all its sites).

    Passwords with --password-stdin, one per line: line 1 = USER's password, line 2 = the new
    password.
    """
    from equitrial.services import users as users_service
    from equitrial.services.auth import authenticate

    current = read_password(password_stdin, f"password of {as_user}")
    new = read_password(password_stdin, f"new password of {username}")
    with database() as engine:
        actor = authenticate(engine, as_user, current)
        user = users_service.set_password(engine, actor, username, new)
    typer.echo(f"password of {user.username} changed")
