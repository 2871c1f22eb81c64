"""``equitrial import labs FILE.csv``: a central-lab transfer, imported all or nothing.

The file's columns and checks are those of :mod:`equitrial.services.lab_import`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from equitrial.cli._common import App, print_json, print_table
from equitrial.cli.db import database
from equitrial.cli.users import AS_OPTION, PASSWORD_STDIN_OPTION, login

__all__ = ["app", "labs"]

app = App(help="Import data files (central-lab transfers).", no_args_is_help=True)


@app.command("labs")
def labs(
    file: Path = typer.Argument(..., metavar="FILE", help="The transfer, a CSV file."),
    transfer_id: str | None = typer.Option(
        None, "--transfer-id", metavar="ID", help="The central lab's id of the transfer."
    ),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Import a central-lab transfer CSV file: every row or none.

    Who: site staff of every subject's site in the file, or a data manager.

    Columns (header row): subject, test (the CTCAE lab term), value, unit, collected_at (ISO 8601
    with its time zone); optional: lln, uln, accession (or lab_id). Each row gets its CTCAE
    grade. A bad row refuses the whole file, naming row, line and column; the same file twice
    is refused. Prints the rows imported and how many got each grade.
    """
    from equitrial.services import lab_import

    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        summary = lab_import.import_lab_transfer(engine, actor, file, transfer_id=transfer_id)
    grades = sorted(summary.grades.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    doc = {
        "transfer": summary.transfer,
        "transfer_id": summary.transfer_id,
        "sha256": summary.sha256,
        "rows": summary.rows,
        "subjects": summary.subjects,
        "grades": {"none" if g is None else str(g): n for g, n in grades},
        "query_ids": list(summary.query_ids),
    }
    if as_json:
        print_json(doc)
        return
    typer.echo(
        f"imported {summary.rows} lab results of {summary.subjects} subject(s) "
        f"(transfer {summary.transfer}, sha256 {summary.sha256})"
    )
    print_table(
        ("CTCAE grade", "results"),
        [("not gradable" if g is None else g, n) for g, n in grades],
        right=("results",),
    )
    if summary.query_ids:
        typer.echo(f"queries opened: {', '.join(map(str, summary.query_ids))}")
