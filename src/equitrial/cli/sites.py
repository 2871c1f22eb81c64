"""``equitrial site add CODE --name NAME``."""

from __future__ import annotations

import typer

from equitrial.cli._common import App
from equitrial.cli.db import database

__all__ = ["add", "app"]

app = App(help="The investigational sites.", no_args_is_help=True)


@app.command("add")
def add(
    code: str = typer.Argument(
        ..., metavar="CODE", help="The site's short code (used in subject ids)."
    ),
    name: str = typer.Option(..., "--name", metavar="NAME", help="The site's name."),
) -> None:
    """Add a site; audited as 'system'."""
    from equitrial.services import sites as sites_service
    from equitrial.services.auth import system_actor

    with database() as engine:
        site = sites_service.add_site(engine, system_actor(), code, name)
    typer.echo(f"site {site.values['code']} added: {site.values['name']}")
