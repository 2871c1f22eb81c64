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

ProtocolArg = typer.Argument(
    ..., exists=False, metavar="PROTOCOL", help="The protocol file (TOML)."
)


def _fmt(value: float | None, spec: str = ".3f") -> str:
    if value is None or math.isnan(value):
        return "-"
    return "inf" if math.isinf(value) else format(value, spec)


def _render_scenarios(console: Console, r: SimulationResult) -> None:
    t = Table(
        title=f"{r.replicates:,} simulated trials per scenario (seed {r.seed}, {r.seconds:.1f} s)",
        title_justify="left",
    )
    for col in ("scenario", "ITT ORR test / ref", "P(conclude) (SE)", "mean N", "mean months"):
        t.add_column(col, justify="right")
    for s in r.scenarios:
        t.add_row(
            s.name,
            f"{s.primary_orr_test:.3f} / {s.primary_orr_reference:.3f}",
            f"{s.conclusion.estimate:.4f} ({s.conclusion.se:.4f})",
            f"{s.sample_size.mean:.1f}",
            f"{s.duration_months.mean:.1f}",
        )
    console.print(t)
    by_look = Table(title="P(conclude at the look)", title_justify="left")
    by_look.add_column("look", justify="right")
    for s in r.scenarios:
        by_look.add_column(s.name, justify="right")
    for k, name in enumerate(r.formal_looks):
        by_look.add_row(name, *(f"{s.conclude_by_look[k]:.4f}" for s in r.scenarios))
    console.print(by_look)


def _render_looks(console: Console, r: SimulationResult) -> None:
    alt = r.scenario("alternative")
    if not alt.looks:
        return
    t = Table(
        title="Interims, alternative: simulated mean (design's expectation)",
        title_justify="left",
    )
    for col in ("look", "boundary", "month", "enrolled", "evaluable", "stops", "and final"):
        t.add_column(col, justify="right")
    for look in alt.looks:
        t.add_row(
            look.name,
            "descriptive" if look.critical is None else _fmt(look.critical, ".4f"),
            f"{look.months.mean:.1f} ({_fmt(look.expected_months, '.1f')})",
            f"{look.enrolled.mean:.1f} ({_fmt(look.expected_enrolled, '.1f')})",
            f"{look.patients.mean:.1f} ({_fmt(look.expected_evaluable, '.1f')})",
            _fmt(
                look.conclusion.estimate
                if look.stops_for_equivalence is None
                else look.stops_for_equivalence.estimate,
                ".4f",
            ),
            _fmt(look.conclusion_and_final.estimate, ".4f"),
        )
    console.print(t)


def _render_simulation(console: Console, r: SimulationResult) -> None:
    _render_scenarios(console, r)
    _render_looks(console, r)
    console.print(
        f"power {r.power.estimate:.4f} (SE {r.power.se:.4f}); type I error "
        + ", ".join(f"{k} {v.estimate:.4f} (SE {v.se:.4f})" for k, v in r.type_i_error.items()),
        highlight=False,
    )
    for warning in r.warnings:
        console.print(f"warning: {warning}", style="yellow", highlight=False)
    if r.parquet_path:
        console.print(f"per-replicate results written to {r.parquet_path}", highlight=False)


def simulate(
    protocol: Path = ProtocolArg,
    replicates: int = typer.Option(
        10_000, "--replicates", min=2, metavar="N", help="Trials per scenario."
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, metavar="N", help="Local Dask worker processes."
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        metavar="ADDRESS",
        help="Address of a running Dask scheduler, tcp://host:port.",
    ),
    seed: int = typer.Option(
        20261125, "--seed", min=0, metavar="N", help="Seed: same seed, same numbers."
    ),
    out: Path | None = typer.Option(
        None, "--out", metavar="DIR", help="Folder to write per-replicate results (Parquet) into."
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
