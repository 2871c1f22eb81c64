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

ProtocolArg = typer.Argument(
    ..., exists=False, metavar="PROTOCOL", help="The protocol file (TOML)."
)


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


def _fmt(x: float | None, digits: int) -> str:
    if x is None:
        return "-"
    return "none (infinite)" if math.isinf(x) else f"{x:.{digits}f}"


def _looks_table(s: DesignSummary) -> Table:
    q = s.sequential
    t = Table(
        title=f"Looks of the primary endpoint: one joint design ({q.spending or 'final only'}, "
        f"one-sided alpha {q.alpha:g} per one-sided test); months after the first patient in",
        title_justify="left",
    )
    columns = ["look", "month", "enrolled / evaluable", "information", "z bound", "cum. alpha"]
    futility = any(x.futility_bound is not None for x in q.looks)
    for col in columns + (["futility z"] if futility else []):
        t.add_column(col, justify="left" if col == "look" else "right")
    for x in q.looks:
        t.add_row(
            x.name + ("" if x.formal else " (descriptive)"),
            f"{x.months_after_first_patient:.1f}",
            f"{x.expected_enrolled:.1f} / {x.expected_evaluable:.1f}",
            f"{x.information_rate:.3f}",
            _fmt(x.critical_value, 4),
            _fmt(x.cumulative_alpha_spent, 6),
            *([_fmt(x.futility_bound, 3)] if futility else []),
        )
    if q.inflated_evaluable_per_arm is not None and q.inflated_enrolled_per_arm is not None:
        h = s.hypotheses[0]
        t.caption = (
            f"inflation factor {q.inflation_factor:.4f}: the group-sequential trial needs "
            f"{h.exact.n1}/{h.exact.n2} (exact, fixed design) x {q.inflation_factor:.4f} = "
            f"{q.inflated_evaluable_per_arm[0]}/{q.inflated_evaluable_per_arm[1]} evaluable "
            f"per arm ({q.inflated_enrolled_per_arm[0]}/{q.inflated_enrolled_per_arm[1]} "
            "enrolled), rounded up to the allocation"
        )
    return t


def _stopping_table(s: DesignSummary) -> Table | None:
    q = s.sequential
    if not q.scenarios or q.design is None or q.design.kmax < 2:
        return None
    t = Table(
        title=f"Crossing probabilities by look, each one-sided test, at the planned "
        f"{q.planned_evaluable} evaluable",
        title_justify="left",
    )
    t.add_column("scenario")
    t.add_column("test")
    for x in q.looks:
        if x.formal:
            t.add_column(x.name, justify="right")
    t.add_column("E[evaluable]", justify="right")
    for c in q.scenarios:
        for test in c.tests:
            t.add_row(
                f"{c.name} ({c.true_effect:.3g})",
                test.test,
                *(f"{e:.4f}" for e in test.probabilities.efficacy),
                f"{test.expected_evaluable:.1f}",
            )
    t.caption = "equivalence stops only when both tests crossed (Jennison & Turnbull 2000, ch. 6)"
    return t


def _render_design(console: Console, s: DesignSummary, figures: list[Path]) -> None:
    console.print(f"[bold]{s.study_id}[/]: {s.title}", highlight=False)
    console.print(
        f"{s.sample_size} patients ({s.test_arm} vs {s.reference_arm}); expected accrual "
        f"{s.expected_accrual_months:.1f} months after the first patient in",
        highlight=False,
    )
    for h in s.hypotheses:
        console.print(_hypothesis_table(h))
    console.print(_looks_table(s))
    stopping = _stopping_table(s)
    if stopping is not None:
        console.print(stopping)
    for w in s.warnings:
        console.print(f"[bold yellow]warning:[/] {w}", highlight=False)
    for f in figures:
        console.print(f"written: {f}", highlight=False)


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
                xlabel=f"true risk {h.scale} (test vs reference); reference rate held at "
                f"{h.p_reference:g}",
                margin=(h.margin.lower, h.margin.upper),
                target_power=h.target_power,
                alpha_line=(1.0 - h.level) / 2.0,
                title=f"{h.endpoint_id}: P({h.level:.0%} CI inside margin), "
                f"reference rate {h.p_reference:g}",
                log_x=h.scale == "ratio",
            )
        )
        if h.sensitivity:
            paths.append(
                plot_power_curve(
                    [p.p_reference for p in h.sensitivity],
                    {
                        f"exact power, planned {h.n_test}/{h.n_reference}": [
                            p.power for p in h.sensitivity
                        ]
                    },
                    out / f"{s.study_id}-{h.endpoint_id}-sensitivity.png",
                    xlabel="assumed reference response rate (true effect kept)",
                    target_power=h.target_power,
                    title=f"{h.endpoint_id}: exact power vs assumed reference rate",
                )
            )
    return paths


def _write_documents(s: DesignSummary, out: Path, figures: list[Path]) -> list[Path]:
    import json

    from equitrial.cli._common import _clean
    from equitrial.services._design_report import design_html

    doc = s.to_dict()
    doc["figures"] = [str(f) for f in figures]
    json_path, html_path = out / "design.json", out / "design.html"
    json_path.write_text(json.dumps(_clean(doc), indent=2, allow_nan=False) + "\n")
    html_path.write_text(design_html(s, figures), encoding="utf-8")
    return [json_path, html_path]


def design(
    protocol: Path = ProtocolArg,
    out: Path = typer.Option(
        Path("."),
        "--out",
        metavar="DIR",
        help="Folder for design.json, design.html and the PNG figures.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
) -> None:
    """Sample size, exact power, power curves and the joint group-sequential design."""
    from equitrial.services.design import design_trial

    proto = load(protocol)
    try:
        summary = design_trial(proto)
        figures = _figures(summary, out)
        written = _write_documents(summary, out, figures)
    except EquitrialError as exc:
        fail(exc)
    if as_json:
        doc = summary.to_dict()
        doc["figures"] = [str(f) for f in figures]
        print_json(doc)
    else:
        _render_design(Console(), summary, figures + written)
