"""``equitrial simulate``: operating characteristics of the trial by simulation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from equitrial.cli._common import err_console, fail, load, print_json
from equitrial.errors import EquitrialError

if TYPE_CHECKING:  # the design stack (scipy, dask, matplotlib) loads only when a command runs
    from equitrial.design.simulate import SimulationResult

__all__ = ["simulate"]

ProtocolArg = typer.Argument(..., exists=False, help="The protocol file (TOML).")


def _render_simulation(console: Console, r: SimulationResult) -> None:
    t = Table(
        title=f"{r.replicates:,} simulated trials per scenario (seed {r.seed}, {r.seconds:.1f} s)",
        title_justify="left",
    )
    for col in ("scenario", "ORR test / ref (ITT)", "P(conclude)", "MC SE", "duration (months)"):
        t.add_column(col, justify="right")
    t.add_column("interim shows it too", justify="right")
    for s in r.scenarios:
        both = s.interim.conclusion_and_final.estimate if s.interim is not None else math.nan
        t.add_row(
            s.name,
            f"{s.primary_orr_test:.3f} / {s.primary_orr_reference:.3f}",
            f"{s.conclusion.estimate:.4f}",
            f"{s.conclusion.se:.4f}",
            f"{s.duration_months.mean:.1f}",
            "-" if math.isnan(both) else f"{both:.4f}",
        )
    console.print(t)
    console.print(
        f"power {r.power.estimate:.4f} (SE {r.power.se:.4f}); type I error "
        + ", ".join(f"{k} {v.estimate:.4f} (SE {v.se:.4f})" for k, v in r.type_i_error.items()),
        highlight=False,
    )
    if r.parquet_path:
        console.print(f"per-replicate results written to {r.parquet_path}", highlight=False)


def simulate(
    protocol: Path = ProtocolArg,
    replicates: int = typer.Option(10_000, "--replicates", min=2, help="Trials per scenario."),
    workers: int = typer.Option(1, "--workers", min=1, help="Local Dask worker processes."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Address of a running Dask scheduler, tcp://host:port."
    ),
    seed: int = typer.Option(20261125, "--seed", min=0, help="Seed: same seed, same numbers."),
    out: Path | None = typer.Option(
        None, "--out", help="Folder to write per-replicate results (Parquet) into."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
) -> None:
    """Simulate the trial: operating characteristics under the alternative and at the margins."""
    from equitrial.services.simulation import simulate_protocol

    if scheduler is not None and workers != 1:
        fail("give --workers or --scheduler, not both")
    proto = load(protocol)
    columns = (
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=as_json) as bar:
        task = bar.add_task("simulate", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = simulate_protocol(
                proto,
                replicates=replicates,
                seed=seed,
                workers=workers,
                scheduler=scheduler,
                out_dir=out,
                progress=progress,
            )
        except EquitrialError as exc:
            fail(exc)
    if as_json:
        print_json(result.to_dict())
    else:
        _render_simulation(Console(), result)
