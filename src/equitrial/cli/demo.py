"""``equitrial demo``: run the flagship trial with virtual patients through the real services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from equitrial.cli._common import err_console, fail, print_table
from equitrial.cli.analyze import primary_line
from equitrial.errors import EquitrialError

__all__ = ["demo"]


def demo(
    patients: int = typer.Option(
        300, "--patients", min=1, max=5000, metavar="N", help="Patients to randomize."
    ),
    seed: int = typer.Option(20261207, "--seed", metavar="S", help="Seed of everything random."),
    out: Path = typer.Option(
        Path("out/demo"), "--out", metavar="DIR", help="Directory of the results."
    ),
    demo_password: str | None = typer.Option(
        None,
        "--demo-password",
        metavar="PW",
        help="Password of every demo user (default: a random one each, in passwords.json).",
    ),
    true_ratio: float | None = typer.Option(
        None,
        "--true-ratio",
        metavar="R",
        help="True response-rate ratio, test / reference (default: the arms share the truth).",
    ),
    protocol: Path | None = typer.Option(
        None,
        "--protocol",
        metavar="FILE",
        help="The protocol file (default: the flagship example).",
    ),
    analyses: bool = typer.Option(
        True,
        "--analyses/--no-analyses",
        help="End with the interim and final analyses (OUT/interim, OUT/final).",
    ),
) -> None:
    """Create a fresh SQLite study and run the virtual trial through the services.

    Sites screen, randomize and treat virtual patients for two years; a central laboratory
    sends its results monthly; a supply manager keeps the sites stocked with blinded kits;
    edit checks refuse slips and raise queries, which the sites answer. Then the audit trail
    is verified. Writes OUT/equitrial.db, OUT/audit-verify.txt and OUT/users.json, and the
    interim (OUT/interim/) and final (OUT/final/) analyses as equitrial analyze writes them;
    the last line gives the final primary analysis.
    """
    from equitrial.demo import run_demo

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bars:

        def progress(phase: str, total: int) -> Callable[[int], None]:
            task = bars.add_task(phase, total=total)
            return lambda n: bars.advance(task, n)

        try:
            summary = run_demo(
                out,
                patients=patients,
                seed=seed,
                demo_password=demo_password,
                true_ratio=true_ratio,
                protocol=protocol,
                progress=progress,
                analyses=analyses,
            )
        except EquitrialError as error:
            fail(error)
    typer.echo(
        f"{summary.randomized} patients randomized of {summary.screened} screened "
        f"at {summary.sites} sites"
    )
    rows = [(kind, str(count)) for kind, count in summary.counts.items()]
    print_table(("entries", "count"), rows, right=("count",))
    for phase, seconds in summary.seconds.items():
        typer.echo(f"{phase}: {seconds:.1f} s")
    typer.echo(f"database: {summary.database}")
    typer.echo(f"audit verification: {summary.audit_file} ({summary.audit_lines[-1]})")
    typer.echo(f"demo users: {summary.users_file}")
    typer.echo(
        f"open it: EQUITRIAL_DATABASE_URL=sqlite:///{summary.database} equitrial audit verify"
    )
    for name in summary.analyses:
        typer.echo(f"{name} analysis: {summary.database.parent / name}/report.html")
    if not summary.audit_ok:
        fail("the audit trail of the demo did not verify", 1)
    if "final" in summary.analyses:
        typer.echo(primary_line(summary.analyses["final"]))
