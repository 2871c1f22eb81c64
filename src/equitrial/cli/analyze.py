"""``equitrial analyze --out DIR [--cut YYYY-MM-DD] [--interim]``: the statistical analysis plan
on a data cut, with its report and the CDISC package it was computed from.

Writes, from the database of ``EQUITRIAL_DATABASE_URL``, ``DIR/results.json``,
``DIR/report.html``, ``DIR/report.pdf`` (and ``DIR/open-report.html`` with ``--interim``) and the
package of ``equitrial export`` under ``DIR/sdtm/`` and ``DIR/adam/``; see
:mod:`equitrial.services.analysis`. The operator acts with the database credentials (audited as
``system:<OS user>``). Exit 2 with ``error: ...`` for a bad ``--cut``, a directory holding other
files, or a study that cannot be analysed; nothing is written then.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from equitrial.cli._common import err_console, fail
from equitrial.cli.db import EXIT_BAD_INPUT, database

__all__ = ["analyze", "parse_cut"]


def parse_cut(cut: str | None) -> dt.date | None:
    """``--cut YYYY-MM-DD`` as a date (exit 2 naming the option otherwise)."""
    if cut is None:
        return None
    try:
        if len(cut) != 10:
            raise ValueError(cut)
        return dt.date.fromisoformat(cut)
    except ValueError:
        fail(f"--cut {cut!r}: expected a date YYYY-MM-DD", EXIT_BAD_INPUT)


def analyze(
    out: Path = typer.Option(
        ..., "--out", metavar="DIR", help="The analysis' directory (new, empty or a previous one)."
    ),
    cut: str | None = typer.Option(
        None, "--cut", metavar="YYYY-MM-DD", help="Analyse the records as of this data cut-off."
    ),
    interim: bool = typer.Option(
        False,
        "--interim",
        help="The DSMB's interim: decision, conditional power, open report (cut by default at "
        "the protocol's look, e.g. six months after the first patient).",
    ),
) -> None:
    """Run the analysis plan: results.json, report.html and report.pdf, and the CDISC package."""
    cutoff = parse_cut(cut)
    from equitrial.services.analysis import analyze as run

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with database() as engine:
        with Progress(*columns, console=err_console, transient=False) as bars:
            task = bars.add_task("analysis", total=None)

            def progress(step: str, done: int, total: int) -> None:
                bars.update(task, description=f"analysis {step}", completed=done, total=total)

            try:
                result = run(engine, out, cutoff=cutoff, interim=interim, progress=progress)
            except OSError as exc:
                fail(f"{out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    p = result.results["primary"]
    scope = f"as of {cutoff.isoformat()}" if cutoff else "all records"
    typer.echo(f"analysis written to {out} ({scope}): {len(result.files)} files")
    typer.echo(primary_line(p))


def primary_line(p: dict[str, object]) -> str:
    """``primary: ...``: the primary estimate, its interval, the margin and the decision."""
    margin = p.get("margin") or {}
    assert isinstance(margin, dict)
    bounds = f"margin {margin.get('lower')} to {margin.get('upper')}"
    if p.get("estimate") is None or p.get("lower") is None or p.get("upper") is None:
        why = p.get("not_estimable") or "no interval"
        return f"primary: {p['scale']} not estimable ({why}), {bounds}: {p['decision']}"
    return (
        f"primary: {p['scale']} {p['estimate']:.4f} ({100 * float(str(p['level'])):g}% CI "
        f"{p['lower']:.4f} to {p['upper']:.4f}), {bounds}: {p['decision']}"
    )
