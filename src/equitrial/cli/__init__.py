"""Command-line interface: ``equitrial``. One module per command group; no business rules here.

:func:`main` is the one place where what comes from outside is checked before any command runs:
the arguments (:func:`~equitrial.cli._common.argument_problem`: valid UTF-8, no control
characters, not empty, at most 4,096 characters) and stdin (read through
:class:`~equitrial.cli._common.StrictStdin`: strict UTF-8, no NUL). A refusal prints
``error: ...`` and exits 2 (bad input) or 3 (permission denied), never with a traceback.
"""

from __future__ import annotations

import sys

import typer

from equitrial import __version__
from equitrial.cli import analyze as _analyze
from equitrial.cli import analyze_cdisc as _analyze_cdisc
from equitrial.cli import audit as _audit
from equitrial.cli import backup as _backup
from equitrial.cli import db as _db
from equitrial.cli import demo as _demo
from equitrial.cli import design as _design
from equitrial.cli import export as _export
from equitrial.cli import labs as _labs
from equitrial.cli import queries as _queries
from equitrial.cli import randomize as _randomize
from equitrial.cli import record as _record
from equitrial.cli import simulate as _simulate
from equitrial.cli import sites as _sites
from equitrial.cli import study as _study
from equitrial.cli import subjects as _subjects
from equitrial.cli import users as _users
from equitrial.cli import workflow as _workflow
from equitrial.cli._common import App, argument_problem, install_strict_stdin, report
from equitrial.errors import EquitrialError, PermissionDeniedError

__all__ = ["app", "main"]

app = App(
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
app.command("simulate")(_simulate.simulate)
app.command("demo")(_demo.demo)
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
app.command("export")(_export.export)
app.command("analyze")(_analyze.analyze)
app.command("analyze-cdisc")(_analyze_cdisc.command)
app.add_typer(_record.app, name="record")
app.add_typer(_labs.app, name="import")
app.add_typer(_queries.app, name="query")
app.command("verify")(_workflow.verify)
app.command("sign")(_workflow.sign)
app.command("freeze")(_workflow.freeze)
app.command("unfreeze")(_workflow.unfreeze)
app.command("lock")(_workflow.lock_record)
_db.app.command("lock")(_workflow.lock_database)
app.command("datacut")(_workflow.cut)
app.command("unblind")(_workflow.unblind)
app.add_typer(_workflow.unblinding_app, name="unblinding")


def main() -> None:
    """Entry point of the ``equitrial`` console script.

    Refuses odd arguments (exit 2) before any command runs, reads stdin as strict UTF-8, and
    turns an :class:`~equitrial.errors.EquitrialError` raised outside a command's database
    block (a bad line on stdin, say) into ``error: ...`` and exit 2 (3 if permission denied).
    """
    problem = argument_problem(sys.argv[1:])
    if problem is not None:
        report(problem)
        sys.exit(2)
    install_strict_stdin()
    try:
        app()
    except EquitrialError as exc:
        report(exc)
        sys.exit(3 if isinstance(exc, PermissionDeniedError) else 2)
    except UnicodeError as exc:  # text that cannot be decoded or encoded as UTF-8
        report(f"input or output is not valid UTF-8 text ({type(exc).__name__})")
        sys.exit(2)
