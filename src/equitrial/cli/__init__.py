"""Command-line interface: ``equitrial``. One module per command group; no business rules here."""

from __future__ import annotations

import typer

from equitrial import __version__
from equitrial.cli import design as _design

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


def main() -> None:
    """Entry point of the ``equitrial`` console script."""
    app()
