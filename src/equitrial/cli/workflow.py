"""The record workflow and the study-wide steps: ``verify``, ``sign``, ``freeze``, ``unfreeze``,
``lock`` (one record), ``db lock`` (the study database), ``datacut``, ``unblind`` and
``unblinding list``.

A record moves entered -> verified (monitor) -> signed (investigator; the password is asked
again at signing) -> frozen -> locked (data manager). Each command acts as a named user
(``--as USER --password-stdin``); ``sign`` reads two lines from stdin: the login password, then
the signing password.
"""

from __future__ import annotations

import datetime as dt

import typer

from equitrial.cli._common import App, fail, print_json, print_table
from equitrial.cli.db import EXIT_BAD_INPUT, database
from equitrial.cli.record import check_id, record_document, render_record
from equitrial.cli.users import AS_OPTION, PASSWORD_STDIN_OPTION, login, read_password

__all__ = [
    "cut",
    "freeze",
    "lock_database",
    "lock_record",
    "sign",
    "unblind",
    "unblinding_app",
    "unblinding_list",
    "unfreeze",
    "verify",
]

unblinding_app = App(help="Emergency unblindings (unblinded roles only).", no_args_is_help=True)

_TABLE = typer.Argument(
    ..., metavar="TABLE", help="The record's table (visit, dose, adverse_event, lab_result ...)."
)
_ID = typer.Argument(..., metavar="ID", help="The record's id.")
_JSON = typer.Option(False, "--json", help="One JSON document on stdout.")


def _step(step: str, table: str, record_id: int, user: str, stdin: bool, as_json: bool) -> None:
    from equitrial.services import status

    function = getattr(status, step)
    check_id(record_id, "record id")
    with database() as engine:
        actor = login(engine, user, stdin)
        view = function(engine, actor, table, record_id)
        doc = record_document(engine, actor, view)
    render_record(doc, as_json, verb=str(view.values.get("status", step)))


def verify(
    table: str = _TABLE,
    record_id: int = _ID,
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """Source data verification of an entered record (a monitor who did not enter it)."""
    _step("verify", table, record_id, as_user, password_stdin, as_json)


def sign(
    table: str = _TABLE,
    record_id: int = _ID,
    meaning: str = typer.Option(
        ...,
        "--meaning",
        metavar="TEXT",
        help="What the signature means, e.g. 'I approve the data of this record'.",
    ),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """E-sign a verified record (investigator); the password is asked again to sign.

    With --password-stdin: line 1 = the password to log in, line 2 = the password again, to
    sign.
    """
    from equitrial.services import status

    check_id(record_id, "record id")
    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        again = read_password(password_stdin, f"password of {as_user} (to sign)")
        view = status.sign(engine, actor, table, record_id, password=again, meaning=meaning)
        doc = record_document(engine, actor, view)
    render_record(doc, as_json, verb="signed")


def freeze(
    table: str = _TABLE,
    record_id: int = _ID,
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """Freeze a signed record (data manager): no change unless unfrozen."""
    _step("freeze", table, record_id, as_user, password_stdin, as_json)


def unfreeze(
    table: str = _TABLE,
    record_id: int = _ID,
    reason: str = typer.Option(..., "--reason", metavar="TEXT", help="Why (audited)."),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """Send a frozen record back to entered for a correction (data manager).

    Its signature is marked superseded: an entered record is unsigned.
    """
    from equitrial.services import status

    check_id(record_id, "record id")
    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        view = status.unfreeze(engine, actor, table, record_id, reason=reason)
        doc = record_document(engine, actor, view)
    render_record(doc, as_json, verb="unfrozen")


def lock_record(
    table: str = _TABLE,
    record_id: int = _ID,
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """Lock a frozen record (data manager): it never changes again."""
    _step("lock_record", table, record_id, as_user, password_stdin, as_json)


def lock_database(
    reason: str = typer.Option(..., "--reason", metavar="TEXT", help="Why (audited)."),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
) -> None:
    """Lock the study database (a study-wide data manager): no record changes afterwards.

    Emergency unblinding, data cuts and reads stay allowed.
    """
    from equitrial.services import status

    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        view = status.lock_database(engine, actor, reason=reason)
    typer.echo(f"study {view.values['code']} database locked at {view.values['locked_at']}")


def cut(
    name: str = typer.Argument(..., metavar="NAME", help="The cut's name (unique)."),
    date: str = typer.Option(..., "--date", metavar="YYYY-MM-DD", help="The cut-off date."),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """Take and store a data cut at a cut-off date (data manager): a consistent snapshot.

    Prints the rows per table and the snapshot's SHA-256.
    """
    from equitrial.services import datacut

    try:
        cutoff = dt.date.fromisoformat(date)
    except ValueError:
        fail(f"--date {date!r}: expected a date YYYY-MM-DD", EXIT_BAD_INPUT)
    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        view = datacut.cut_data(engine, actor, name, cutoff)
    doc = {
        "id": view.id,
        "name": view.name,
        "cutoff_date": view.cutoff_date.isoformat(),
        "counts": view.counts,
        "sha256": view.sha256,
        "sites": list(view.sites),
        "study_wide": view.study_wide,
    }
    if as_json:
        print_json(doc)
        return
    scope = "every site" if view.study_wide else "sites " + ", ".join(view.sites)
    typer.echo(f"data cut {view.name!r} at {view.cutoff_date} ({scope}); sha256 {view.sha256}")
    print_table(("table", "rows"), sorted(view.counts.items()), right=("rows",))


def unblind(
    subject: str = typer.Argument(..., metavar="SUBJECT", help="The subject id or code."),
    reason: str = typer.Option(
        ..., "--reason", metavar="TEXT", help="The medical emergency (audited)."
    ),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
) -> None:
    """Emergency unblinding: show a randomized subject's arm to its investigator.

    Audited and reported to the unblinded roles ('unblinding list'); allowed after the lock.
    """
    from equitrial.services import unblinding

    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        event = unblinding.unblind(engine, actor, subject, reason=reason)
    typer.echo(f"subject {event.subject_code}: arm {event.arm} (unblinding {event.id}, audited)")


@unblinding_app.command("list")
def unblinding_list(
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """Every emergency unblinding with the arm revealed (unblinded roles only).

    A table: id, subject, user, at, arm, reason.
    """
    from equitrial.services import unblinding

    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        events = unblinding.unblinding_report(engine, actor)
    doc = [
        {
            "id": e.id,
            "subject": e.subject_code,
            "user": e.username,
            "at": e.at.isoformat(),
            "arm": e.arm,
            "reason": e.reason,
        }
        for e in events
    ]
    if as_json:
        print_json(doc)
        return
    print_table(
        ("id", "subject", "user", "at", "arm", "reason"),
        [tuple(d.values()) for d in doc],
        right=("id",),
    )
