"""``equitrial study load PROTOCOL`` and ``equitrial study show [--json]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from equitrial.cli._common import App, print_json, print_table
from equitrial.cli.db import database

__all__ = ["app", "load_study", "show"]

app = App(help="The study the database holds (from its protocol file).", no_args_is_help=True)


@app.command("load")
def load_study(
    protocol: Path = typer.Argument(..., metavar="PROTOCOL", help="The protocol file (TOML)."),
    seed: int | None = typer.Option(
        None,
        "--seed",
        metavar="N",
        help="Seed of the concealed allocation list, or of an amendment's new strata: at least "
        "128 bits (>= 2**127). Default: a fresh secret 256-bit one; a seed you choose must stay "
        "with the unblinded statistician.",
    ),
    slots: int | None = typer.Option(
        None,
        "--slots-per-stratum",
        min=1,
        metavar="N",
        help="Allocation slots per stratum (default: the protocol's sample size, so that any "
        "split of the patients over the strata fits).",
    ),
) -> None:
    """Load the study from its protocol file (or a new protocol version) as 'system'.

    A bad file is refused with every problem listed and nothing is written. The first load also
    pre-generates the concealed allocation list of every stratum (blinded users never see it).
    A new version prints what it changes; new stratification levels get their lists at once.
    """
    from equitrial.services import study as study_service
    from equitrial.services.auth import system_actor

    with database() as engine:
        study = study_service.load_study(
            engine, system_actor(), protocol, allocation_seed=seed, slots_per_stratum=slots
        )
    done = "loaded" if study.created else "already loaded (unchanged)"
    typer.echo(f"study {study.code} protocol version {study.protocol_version} {done}")
    if study.amendment is not None:
        for line in study.amendment.lines():
            typer.echo(f"  {line}")
    elif study.created:
        typer.echo("concealed allocation list generated")


@app.command("show")
def show(
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Show the loaded study: code, title, protocol version, arms and stratification.

    The arms (arm, role, name) and the stratification factors (factor, levels) as tables.
    """
    from equitrial.services import study as study_service
    from equitrial.services.auth import system_actor

    with database() as engine:
        doc = study_service.show_study(engine, system_actor()).to_dict()
    if as_json:
        print_json(doc)
        return
    _render(doc)


def _render(doc: dict[str, Any]) -> None:
    typer.echo(f"{doc['code']} (protocol version {doc['protocol_version']}): {doc['title']}")
    typer.echo("")
    arms = [(a.get("code", ""), a.get("role", ""), a.get("name", "")) for a in doc["arms"]]
    print_table(("arm", "role", "name"), arms)
    typer.echo("")
    strata = [(factor, ", ".join(levels)) for factor, levels in doc["stratification"].items()]
    if strata:
        print_table(("factor", "levels"), strata)
    else:
        typer.echo("no stratification")
