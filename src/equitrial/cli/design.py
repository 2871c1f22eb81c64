"""``equitrial design``: the statistician's design command."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from equitrial.cli._common import fail, load, print_json
from equitrial.errors import EquitrialError

if TYPE_CHECKING:  # the design stack (scipy, dask, matplotlib) loads only when a command runs
    from equitrial.services.design import DesignSummary, HypothesisDesign

__all__ = ["design"]

ProtocolArg = typer.Argument(..., exists=False, help="The protocol file (TOML).")


def _bound(x: float) -> str:
    return "none" if not math.isfinite(x) else f"{x:g}"


def _hypothesis_table(h: HypothesisDesign) -> Table:
    t = Table(
        title=f"{h.endpoint_id}: {h.kind} on the risk {h.scale}, margin "
        f"({_bound(h.margin.lower)}, {_bound(h.margin.upper)}), "
        f"{h.level:.0%} {h.method} interval",
        title_justify="left",
    )
    t.add_column("")
    t.add_column("per arm (test / reference)", justify="right")
    t.add_column("power", justify="right")
    t.add_row(
        "planned, exact power",
        f"{h.n_test} / {h.n_reference}",
        f"{h.power_at_planned:.3f}",
    )
    t.add_row(
        f"needed, normal approximation ({h.normal.formula})",
        f"{h.normal.n1} / {h.normal.n2} (enrol {h.normal.n1_enrolled} / {h.normal.n2_enrolled})",
        f"{h.target_power:g} (target)",
    )
    t.add_row(
        "needed, exact search",
        f"{h.exact.n1} / {h.exact.n2} (enrol {h.exact.n1_enrolled} / {h.exact.n2_enrolled})",
        f"{h.exact.power:.3f}",
    )
    if h.exact.n1_stable is not None and (h.exact.n1_stable, h.exact.n2_stable) != (
        h.exact.n1,
        h.exact.n2,
    ):
        t.add_row(
            "  power stays above target from",
            f"{h.exact.n1_stable} / {h.exact.n2_stable}",
            f"{h.exact.power_stable:.3f}",
        )
    t.caption = (
        f"assumed response rates {h.p_test:g} / {h.p_reference:g}; dropout by the time point "
        f"{h.dropout_fraction:.1%}"
    )
    return t


def _render_design(console: Console, s: DesignSummary, figures: list[Path]) -> None:
    console.print(f"[bold]{s.study_id}[/]: {s.title}", highlight=False)
    console.print(
        f"{s.sample_size} patients ({s.test_arm} vs {s.reference_arm}); expected accrual "
        f"{s.expected_accrual_months:.1f} months",
        highlight=False,
    )
    for h in s.hypotheses:
        console.print(_hypothesis_table(h))
    if s.interims:
        t = Table(title="Interim analyses", title_justify="left")
        for col in ("name", "timing", "expected enrolled / evaluable", "boundaries (z)", "note"):
            t.add_column(col)
        for i in s.interims:
            timing = (
                f"month {i.months_after_first_patient:g}"
                if i.months_after_first_patient is not None
                else f"information {i.information_fraction:g}"
            )
            counts = (
                f"{i.expected_enrolled:.0f} / {i.expected_evaluable:.1f}"
                if i.expected_enrolled is not None and i.expected_evaluable is not None
                else "-"
            )
            bounds = (
                ", ".join(f"{c:.4f}" for c in i.design.critical_values)
                if i.design is not None
                else "-"
            )
            t.add_row(i.name, timing, counts, bounds, i.note)
        console.print(t)
    for w in s.warnings:
        console.print(f"[bold yellow]warning:[/] {w}", highlight=False)
    for f in figures:
        console.print(f"power curve written to {f}", highlight=False)


def _figures(s: DesignSummary, out: Path) -> list[Path]:
    from equitrial.report.figures import plot_power_curve

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for h in s.hypotheses:
        curves = {
            f"planned {h.n_test}/{h.n_reference} per arm": h.curve_planned.power,
            f"exact search {h.exact.n1}/{h.exact.n2} per arm": h.curve_exact.power,
        }
        paths.append(
            plot_power_curve(
                h.curve_planned.effects,
                curves,
                out / f"{s.study_id}-{h.endpoint_id}-power-curve.png",
                xlabel=f"true risk {h.scale} (test vs reference)",
                margin=(h.margin.lower, h.margin.upper),
                target_power=h.target_power,
                alpha_line=(1.0 - h.level) / 2.0,
                title=f"{s.study_id}, {h.endpoint_id}: probability that the "
                f"{h.level:.0%} CI lies inside the margin",
                log_x=h.scale == "ratio",
            )
        )
    return paths


def design(
    protocol: Path = ProtocolArg,
    out: Path = typer.Option(Path("."), "--out", help="Folder for the power-curve figures."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
) -> None:
    """Sample size, exact power, power curves and interim boundaries of a protocol."""
    from equitrial.services.design import design_trial

    proto = load(protocol)
    try:
        summary = design_trial(proto)
        figures = _figures(summary, out)
    except EquitrialError as exc:
        fail(exc)
    if as_json:
        doc = summary.to_dict()
        doc["figures"] = [str(f) for f in figures]
        print_json(doc)
    else:
        _render_design(Console(), summary, figures)
