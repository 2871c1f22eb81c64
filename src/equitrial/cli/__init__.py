"""Command-line interface: ``equitrial``. One module per command group; no business rules here."""

from __future__ import annotations

import typer

from equitrial import __version__
from equitrial.cli import audit as _audit
from equitrial.cli import backup as _backup
from equitrial.cli import db as _db
from equitrial.cli import design as _design
from equitrial.cli import randomize as _randomize
from equitrial.cli import sites as _sites
from equitrial.cli import study as _study
from equitrial.cli import subjects as _subjects
from equitrial.cli import users as _users

__all__ = ["app", "main"]

app = typer.Typer(
    name="equitrial",
    help="Run a randomized two-arm biosimilar equivalence trial end to end.",
    no_args_is_help=True,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"equitrial {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """equitrial: design, run, analyse and report a biosimilar equivalence trial."""


@app.command("info")
def info() -> None:
    """Print the version and where the package is installed."""
    import equitrial

    typer.echo(f"equitrial {__version__} at {equitrial.__file__}")


app.command("design")(_design.design)
app.command("simulate")(_design.simulate)
app.add_typer(_db.app, name="db")
app.add_typer(_study.app, name="study")
app.add_typer(_users.app, name="user")
app.add_typer(_sites.app, name="site")
app.add_typer(_subjects.app, name="subject")
app.command("randomize")(_randomize.randomize)
app.add_typer(_randomize.app, name="randomization")
app.add_typer(_audit.app, name="audit")
app.command("backup")(_backup.backup)
app.command("restore")(_backup.restore)


def main() -> None:
    """Entry point of the ``equitrial`` console script."""
    app()
