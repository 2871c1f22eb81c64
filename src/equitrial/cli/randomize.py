"""``equitrial randomize SUBJECT`` and ``equitrial randomization list [--json]``.

A blinded user sees the sequence number and the kit of an allocation, never its arm; the arm is
printed (and listed) only for an unblinded role. The service decides what the actor may see;
this module only prints what it is given.
"""

from __future__ import annotations

import typer

from equitrial.cli._common import App, print_json, print_table
from equitrial.cli.db import database
from equitrial.cli.users import AS_OPTION, PASSWORD_STDIN_OPTION, login

__all__ = ["app", "list_allocations", "randomize"]

app = App(help="The allocation list (unblinded roles only).", no_args_is_help=True)


def randomize(
    subject: str = typer.Argument(
        ..., metavar="SUBJECT", help="The subject id printed by 'subject enrol'."
    ),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
) -> None:
    """Randomize an eligible subject (idempotent: a retry prints the same allocation)."""
    from equitrial.services import randomize as randomize_service

    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        allocation = randomize_service.randomize(engine, actor, subject)
    typer.echo(f"subject: {allocation.subject}")
    typer.echo(f"sequence number: {allocation.sequence_number}")
    typer.echo(f"kit: {allocation.kit}")
    if allocation.arm is not None:
        typer.echo(f"arm: {allocation.arm}")


@app.command("list")
def list_allocations(
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    as_json: bool = typer.Option(False, "--json", help="One JSON list on stdout."),
) -> None:
    """Every allocation with its arm, for the unblinded roles (the listing is audited).

    A table in sequence order: seq (the sequence number), subject, arm, kit, block, stratum;
    piped or redirected, one allocation per line.
    """
    from equitrial.services import randomize as randomize_service

    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        rows = randomize_service.list_allocations(engine, actor)
    doc = [
        {
            "subject": r.subject,
            "stratum": r.stratum,
            "block": r.block,
            "sequence_number": r.sequence_number,
            "arm": r.arm,
            "kit": r.kit,
        }
        for r in rows
    ]
    if as_json:
        print_json(doc)
        return
    print_table(
        ("seq", "subject", "arm", "kit", "block", "stratum"),
        [
            (d["sequence_number"], d["subject"], d["arm"], d["kit"], d["block"], d["stratum"])
            for d in doc
        ],
        right=("seq", "block"),
    )
