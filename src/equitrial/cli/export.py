"""``equitrial export --out DIR [--cut YYYY-MM-DD]``: the study's CDISC submission package.

Writes, from the database of ``EQUITRIAL_DATABASE_URL``, ``DIR/sdtm/<domain>.xpt`` and
``DIR/adam/<dataset>.xpt`` (SAS transport v5, lower-case names) with a Dataset-JSON v1.1 twin
``.json`` beside each, ``DIR/define.xml`` (define.xml 2.1) and ``DIR/odm.xml`` (ODM 1.3.2
snapshot of the captured data); see ``docs/cdisc.md``. Like ``equitrial backup``, the operator
acts with the database credentials (audited as ``system:<OS user>``). Exit 2 with ``error: ...``
for a bad ``--cut``, a directory holding other files, or a database problem; nothing is written
then.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from equitrial.cli._common import err_console, fail
from equitrial.cli.analyze import parse_cut
from equitrial.cli.db import EXIT_BAD_INPUT, database

__all__ = ["export"]


def export(
    out: Path = typer.Option(
        ...,
        "--out",
        metavar="DIR",
        help="The package's directory (new, empty or a previous export).",
    ),
    cut: str | None = typer.Option(
        None, "--cut", metavar="YYYY-MM-DD", help="Take the records as of this data cut-off date."
    ),
) -> None:
    """Write the CDISC package: SDTM and ADaM as XPT and Dataset-JSON, define.xml, odm.xml."""
    cutoff = parse_cut(cut)
    from equitrial.services.export import export_package

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with database() as engine:
        with Progress(*columns, console=err_console, transient=False) as bars:
            task = bars.add_task("export", total=None)

            def progress(step: str, done: int, total: int) -> None:
                bars.update(task, description=f"export {step}", completed=done, total=total)

            try:
                result = export_package(engine, out, cutoff=cutoff, progress=progress)
            except OSError as exc:
                fail(f"{out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    scope = f"as of {cutoff.isoformat()}" if cutoff else "all records"
    typer.echo(f"CDISC package written to {out} ({scope}): {len(result.files)} files")
    for name, records in result.records.items():
        typer.echo(f"  {name}: {records} records")
