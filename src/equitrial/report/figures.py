"""Figures for the design and the analysis, drawn with matplotlib's non-interactive Agg backend.

The analysis figures live in one module each and are re-exported here: Kaplan-Meier
(:mod:`~equitrial.report.km`), forest (:mod:`~equitrial.report.forest`), waterfall, spider and
swimmer (:mod:`~equitrial.report.tumour`), CONSORT (:mod:`~equitrial.report.consort`). Each
returns a :class:`matplotlib.figure.Figure`; :func:`figure_png` encodes it reproducibly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FormatStrFormatter, NullFormatter

from equitrial.report._style import ARM_PALETTE, arm_colours, figure_png
from equitrial.report.consort import ConsortCounts, plot_consort
from equitrial.report.forest import plot_forest
from equitrial.report.km import km_groups_from_adtte, numbers_at_risk, plot_km
from equitrial.report.tumour import (
    SwimmerLane,
    best_percent_change,
    plot_spider,
    plot_swimmer,
    plot_waterfall,
)

__all__ = [
    "ARM_PALETTE",
    "ConsortCounts",
    "SwimmerLane",
    "arm_colours",
    "best_percent_change",
    "figure_png",
    "km_groups_from_adtte",
    "numbers_at_risk",
    "plot_consort",
    "plot_forest",
    "plot_km",
    "plot_power_curve",
    "plot_spider",
    "plot_swimmer",
    "plot_waterfall",
]

_RATIO_TICKS = (0.25, 0.33, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 3.0, 4.0)


def plot_power_curve(
    true_values: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    xlabel: str,
    margin: tuple[float, float] | None = None,
    target_power: float | None = None,
    alpha_line: float | None = None,
    title: str = "",
    log_x: bool = False,
) -> Path:
    """Draw one or more power curves against the true effect and write them to ``path`` (PNG).

    Parameters
    ----------
    true_values
        The true ratio or difference at which each power was computed (the x axis).
    curves
        Label -> power at each true value (for instance one curve per sample size).
    path
        Where to write the figure; the parent folder must exist. PNG unless the suffix says
        otherwise (any format matplotlib writes).
    xlabel
        The x-axis label (say which scale: "true risk ratio", "true risk difference").
    margin
        The equivalence margin, drawn as two vertical lines (an infinite bound is not drawn).
    target_power
        Drawn as a horizontal dashed line (e.g. 0.8).
    alpha_line
        The one-sided type I error, drawn as a horizontal dotted line (e.g. 0.05).
    title
        The figure title.
    log_x
        Use a log scale on x (natural for ratios).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    out = Path(path)
    fig, ax = plt.subplots(figsize=(7.0, 4.5), dpi=120)
    try:
        marker = "o" if len(true_values) <= 12 else None  # a coarse grid shows its points
        for label, power in curves.items():
            ax.plot(list(true_values), list(power), label=label, linewidth=1.8, marker=marker)
        if margin is not None:
            for bound in margin:
                if bound not in (float("inf"), float("-inf")) and not (log_x and bound <= 0):
                    ax.axvline(bound, color="0.4", linestyle="-", linewidth=0.8)
                    ax.annotate(
                        f"margin {bound:g}",
                        (bound, 0.97),
                        rotation=90,
                        fontsize=7,
                        ha="right",
                        va="top",
                        color="0.3",
                    )
        if target_power is not None:
            ax.axhline(
                target_power,
                color="tab:red",
                linestyle="--",
                linewidth=0.8,
                label=f"target power {target_power:g}",
            )
        if alpha_line is not None:
            ax.axhline(
                alpha_line,
                color="0.3",
                linestyle=":",
                linewidth=0.8,
                label=f"one-sided alpha {alpha_line:g}",
            )
        if log_x:
            ax.set_xscale("log")
            lo, hi = min(true_values), max(true_values)
            ax.set_xticks([v for v in _RATIO_TICKS if lo <= v <= hi])
            ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(0.0, 1.0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("probability of concluding equivalence")
        if title:
            ax.set_title(title)
        ax.grid(True, alpha=0.3)
        # below the axes, so that it can never hide a curve
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8, frameon=False
        )
        fig.tight_layout()
        fig.savefig(out, bbox_inches="tight")
    finally:
        plt.close(fig)
    return out
