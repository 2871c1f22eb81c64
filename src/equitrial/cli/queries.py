"""``equitrial query list|show|open|answer|close|reopen``: data queries and their threads.

Each acts as a named user (``--as USER --password-stdin``). Site staff answer; the data manager
or monitor opens, closes and reopens; anyone with a role at the subject's site reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from equitrial.cli._common import App, print_json, print_table
from equitrial.cli.db import database
from equitrial.cli.record import check_id
from equitrial.cli.users import AS_OPTION, PASSWORD_STDIN_OPTION, login

if TYPE_CHECKING:
    from equitrial.services.queries import QueryView

__all__ = ["answer", "app", "close", "list_queries", "open_query", "reopen", "show"]

app = App(help="Data queries: list, read, answer, close, reopen.", no_args_is_help=True)

_ID = typer.Argument(..., metavar="ID", help="The query's id.")
_TEXT = typer.Argument(..., metavar="TEXT", help="The message added to the query's thread.")
_JSON = typer.Option(False, "--json", help="One JSON document on stdout.")


def _doc(view: QueryView) -> dict[str, Any]:
    return {
        "id": view.id,
        "table": view.table_name,
        "record_id": view.record_id,
        "field": view.field,
        "rule": view.rule,
        "status": view.status,
        "message": view.message,
        "thread": [
            {"user": user, "at": at.isoformat(), "text": text} for user, at, text in view.thread
        ],
    }


def _render(view: QueryView, as_json: bool) -> None:
    doc = _doc(view)
    if as_json:
        print_json(doc)
        return
    typer.echo(
        f"query {doc['id']} ({doc['status']}) on {doc['table']} {doc['record_id']}"
        f" field {doc['field']}: {doc['message']}"
    )
    print_table(("at", "user", "text"), [(m["at"], m["user"], m["text"]) for m in doc["thread"]])


@app.command("list")
def list_queries(
    subject: str | None = typer.Option(
        None, "--subject", metavar="SUBJECT", help="Only this subject's queries (id or code)."
    ),
    status: str | None = typer.Option(
        None, "--status", metavar="STATUS", help="Only queries that are open, answered or closed."
    ),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """The queries you may see, oldest first (your sites' subjects only).

    A table: id, subject, table, record, field, rule, status, message.
    """
    from equitrial.services import queries as queries_service

    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        rows = queries_service.list_queries(engine, actor, subject=subject, status=status)
    doc = [
        {
            "id": r.id,
            "subject": r.subject_code,
            "table": r.table_name,
            "record_id": r.record_id,
            "field": r.field,
            "rule": r.rule,
            "status": r.status,
            "message": r.message,
            "opened_at": r.opened_at.isoformat(),
        }
        for r in rows
    ]
    if as_json:
        print_json(doc)
        return
    columns = ("id", "subject", "table", "record_id", "field", "rule", "status", "message")
    print_table(
        ("id", "subject", "table", "record", "field", "rule", "status", "message"),
        [tuple("" if d[c] is None else d[c] for c in columns) for d in doc],
        right=("id", "record"),
    )


@app.command("show")
def show(
    query_id: int = _ID,
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """A query and its thread (any role at the subject's site)."""
    from equitrial.services import queries as queries_service

    check_id(query_id, "query id")
    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        view = queries_service.query_thread(engine, actor, query_id)
    _render(view, as_json)


@app.command("open")
def open_query(
    table: str = typer.Argument(..., metavar="TABLE", help="The record's table (adverse_event)."),
    record_id: int = typer.Argument(..., metavar="RECORD_ID", help="The record's id."),
    field: str = typer.Argument(..., metavar="FIELD", help="The field queried."),
    text: str = _TEXT,
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """Raise a query on a field of a record (data manager or monitor)."""
    from equitrial.services import queries as queries_service

    check_id(record_id, "record id")
    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        view = queries_service.open_query(engine, actor, table, record_id, field, text)
    _render(view, as_json)


def _step(step: str, query_id: int, text: str, as_user: str, stdin: bool, as_json: bool) -> None:
    from equitrial.services import queries as queries_service

    function = getattr(queries_service, f"{step}_query")
    check_id(query_id, "query id")
    with database() as engine:
        actor = login(engine, as_user, stdin)
        view = function(engine, actor, query_id, text)
    _render(view, as_json)


@app.command("answer")
def answer(
    query_id: int = _ID,
    text: str = _TEXT,
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """Answer an open query (investigator or coordinator of the subject's site)."""
    _step("answer", query_id, text, as_user, password_stdin, as_json)


@app.command("close")
def close(
    query_id: int = _ID,
    text: str = _TEXT,
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """Close an answered query (data manager or monitor)."""
    _step("close", query_id, text, as_user, password_stdin, as_json)


@app.command("reopen")
def reopen(
    query_id: int = _ID,
    text: str = _TEXT,
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = _JSON,
) -> None:
    """Send an answered query back to the site (data manager or monitor)."""
    _step("reopen", query_id, text, as_user, password_stdin, as_json)
