"""``equitrial record FORM --subject S --field NAME=VALUE ...`` and ``record edit FORM ID``.

One subcommand per hand-entered form of :data:`equitrial.cli._fields.FORMS`; its fields, types
and help come from the service's signature (:mod:`equitrial.cli._fields`). Each acts as a named
user (``--as USER --password-stdin``) and prints the saved record and the queries its
implausible values opened (``--json``: one JSON document).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from equitrial.cli import _fields
from equitrial.cli._common import App, Command, print_json, print_table
from equitrial.cli.db import database, fail_with
from equitrial.cli.users import AS_OPTION, PASSWORD_STDIN_OPTION, login
from equitrial.errors import InvalidInputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from equitrial.services._base import RecordView
    from equitrial.services.auth import Actor

__all__ = ["MAX_ID", "app", "check_id", "edit", "record_document", "render_record"]

app = App(
    help="Enter a form by hand (one command per form; 'record FORM --help' lists its fields), "
    "or edit a saved record.",
    no_args_is_help=True,
)

MAX_ID = 2**63 - 1
"""Ids are 64-bit integers in both databases."""


def check_id(value: int, what: str = "id") -> int:
    """``value`` if it can be a record's id, else exit 2 (``error: ...``) before any database."""
    if not 1 <= value <= MAX_ID:
        fail_with(
            InvalidInputError(
                f"{what} {value} is not an id; ids run from 1 to {MAX_ID}", field=what, value=value
            )
        )
    return value


_FIELD_HELP = "A field of the form, NAME=VALUE (repeat; see the fields below)."
_JSON_OPTION = typer.Option(False, "--json", help="One JSON document on stdout.")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def record_document(engine: Engine, actor: Actor, view: RecordView) -> dict[str, Any]:
    """The saved record and the queries it opened, as plain JSON values."""
    from equitrial.services import queries as queries_service

    opened = [queries_service.query_thread(engine, actor, qid) for qid in view.query_ids]
    return {
        "table": view.table,
        "id": view.id,
        "values": {k: _plain(v) for k, v in view.values.items()},
        "queries": [
            {"id": q.id, "field": q.field, "rule": q.rule, "message": q.message} for q in opened
        ],
    }


def render_record(doc: dict[str, Any], as_json: bool, verb: str = "saved") -> None:
    """Print a :func:`record_document` as JSON or as a field/value table and query lines."""
    if as_json:
        print_json(doc)
        return
    typer.echo(f"{doc['table']} {doc['id']} {verb}")
    values = doc["values"]
    print_table(("field", "value"), [(k, "" if v is None else v) for k, v in values.items()])
    for query in doc["queries"]:
        typer.echo(f"query {query['id']} opened on {query['field']}: {query['message']}")


def _save(
    form: str, subject: str, pairs: list[str], as_user: str, stdin: bool, as_json: bool
) -> None:
    import importlib

    module, _, name = _fields.FORMS[form].partition(".")
    try:
        values = _fields.parse_fields(form, pairs)
    except InvalidInputError as error:
        fail_with(error)
    function = getattr(importlib.import_module(f"equitrial.services.{module}"), name)
    with database() as engine:
        actor = login(engine, as_user, stdin)
        view = function(engine, actor, subject, **values)
        doc = record_document(engine, actor, view)
    render_record(doc, as_json)


class _FormCommand(Command):
    """A form's command: its help (the fields) is read from the service only when shown."""

    form = ""

    @property
    def help(self) -> str:
        """The form's description and fields (:func:`equitrial.cli._fields.describe`)."""
        return _fields.describe(self.form)

    @help.setter
    def help(self, value: str | None) -> None:
        pass  # the help is always the form's own


def _command(form: str) -> Callable[..., None]:
    def command(
        subject: str = typer.Option(
            ..., "--subject", metavar="SUBJECT", help="The subject id or code."
        ),
        field: list[str] = typer.Option([], "--field", metavar="NAME=VALUE", help=_FIELD_HELP),
        as_user: str = AS_OPTION,
        password_stdin: bool = PASSWORD_STDIN_OPTION,
        as_json: bool = _JSON_OPTION,
    ) -> None:
        _save(form, subject, field, as_user, password_stdin, as_json)

    command.__name__ = f"record_{form}"
    return command


for _form in _fields.FORMS:
    if not _fields.available(_form):
        continue  # the form's service is not in this installation
    _cls = type(f"_{_form.title()}Command", (_FormCommand,), {"form": _form})
    app.command(_form, cls=_cls, short_help=f"Enter the {_form} form.")(_command(_form))


@app.command("edit")
def edit(
    form: str = typer.Argument(..., metavar="FORM", help="The form (as in 'record FORM')."),
    record_id: int = typer.Argument(..., metavar="RECORD_ID", help="The record's id."),
    field: list[str] = typer.Option(
        ..., "--field", metavar="NAME=VALUE", help="A changed field, NAME=VALUE (repeat)."
    ),
    reason: str = typer.Option(
        ..., "--reason", metavar="TEXT", help="Why the values change (audited)."
    ),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON_OPTION,
) -> None:
    """Change fields of a saved record, with a reason (site staff of the subject).

    The fields and their types are those of 'record FORM'. Derived values are computed again
    and the checks run again; a verified or signed record goes back to entered.
    """
    check_id(record_id, "record id")
    if form not in _fields.FORMS or not _fields.available(form):
        fail_with(
            InvalidInputError(
                f"unknown form {form!r}; expected one of {', '.join(_fields.FORMS)}",
                field="form",
                value=form,
            )
        )
    try:
        changes = _fields.parse_fields(form, field, require=False)
    except InvalidInputError as error:
        fail_with(error)
    from equitrial.services import clinical, forms, questionnaires

    if "items" in changes:  # the QLQ-C30 answers are stored, all together, as their JSON text
        missing = sorted(set(range(1, 31)) - set(changes["items"]))
        if missing:
            fail_with(
                InvalidInputError(
                    f"q{missing[0]}: an edit replaces all 30 answers; give each one "
                    "(an empty qN= for a missing answer)",
                    field=f"q{missing[0]}",
                )
            )
        changes["items_json"] = questionnaires.items_json(changes.pop("items"))
    table = _fields.table_of(form)
    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        if table in clinical.DERIVED_FIELDS:
            view = clinical.update_record(engine, actor, table, record_id, changes, reason=reason)
        else:
            view = forms.update_form(engine, actor, table, record_id, changes, reason=reason)
        doc = record_document(engine, actor, view)
    render_record(doc, as_json, verb="changed")
