"""Tumour figures: waterfall (best % change of the target-lesion sum), spider, swimmer.

The target-lesion sums come in an ADTR-like frame (the admiralonco ``ADTR`` pattern, one
record per subject and post-baseline assessment): USUBJID, TRTP, ADY (days from
randomization) and PCHG, the percentage change of the sum of target-lesion diameters from
baseline (RECIST 1.1 section 4.3.2; Eisenhauer EA, et al. Eur J Cancer 2009;45:228-247).
The -30% and +20% lines are RECIST 1.1's partial-response and progression thresholds
(section 4.3.2, Table 1; progression also needs an absolute increase of 5 mm).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from equitrial.errors import InvalidInputError
from equitrial.report._style import arm_colours, new_figure, plot_style

__all__ = ["SwimmerLane", "best_percent_change", "plot_spider", "plot_swimmer", "plot_waterfall"]

PR_LINE = -30.0
PD_LINE = 20.0


def _need(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InvalidInputError(f"{name} has no {column} variable", field=column)


def best_percent_change(adtr: pd.DataFrame, *, arm: str = "TRTP") -> pd.DataFrame:
    """Each subject's best (lowest) post-baseline % change of the target-lesion sum.

    Parameters
    ----------
    adtr
        ADTR-like records: USUBJID, ``arm``, PCHG (one per post-baseline assessment; records
        with PCHG missing are ignored).
    arm
        The treatment variable.

    Returns
    -------
    pandas.DataFrame
        USUBJID, ``arm``, BESTPCHG; one row per subject with a post-baseline PCHG, sorted from
        the largest increase to the largest shrinkage (the waterfall's order), ties by USUBJID.
    """
    _need(adtr, ("USUBJID", arm, "PCHG"), "ADTR")
    rows = adtr[adtr["PCHG"].notna()]
    best = rows.groupby(["USUBJID", arm], sort=True)["PCHG"].min().rename("BESTPCHG").reset_index()
    best["BESTPCHG"] = best["BESTPCHG"].astype(np.float64)
    order = np.lexsort((best["USUBJID"].to_numpy(), -best["BESTPCHG"].to_numpy()))
    return best.iloc[order].reset_index(drop=True)


def _thresholds(ax: Axes, horizontal: bool = True) -> None:
    for value, text in ((PD_LINE, "+20% (PD)"), (PR_LINE, "-30% (PR)")):
        ax.axhline(value, color="0.25", linestyle="--", linewidth=0.9)
        ax.annotate(
            text, (1.0, value), xycoords=("axes fraction", "data"), xytext=(3, 0),
            textcoords="offset points", va="center", fontsize=8, color="0.25",
        )  # fmt: skip
    ax.axhline(0.0, color="0.5", linewidth=0.6)


def plot_waterfall(
    best: pd.DataFrame,
    *,
    arm: str = "TRTP",
    arm_order: Sequence[str] | None = None,
    title: str = "",
) -> Figure:
    """Waterfall: one bar per subject (best % change, :func:`best_percent_change`), by arm colour.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; bar ``i`` is row ``i`` of ``best`` (the given order).
    """
    _need(best, ("USUBJID", arm, "BESTPCHG"), "best")
    if best.empty:
        raise InvalidInputError("no subject with a post-baseline target sum", field="best")
    colours = arm_colours(best[arm].astype(str), arm_order)
    with plot_style():
        fig = new_figure(8.0, 4.2)
        ax = fig.add_subplot()
        x = np.arange(len(best))
        ax.bar(
            x,
            best["BESTPCHG"].to_numpy(dtype=np.float64),
            width=0.85,
            color=[colours[str(a)] for a in best[arm]],
            linewidth=0,
        )
        _thresholds(ax)
        ax.set_xticks([])
        ax.set_xlim(-1, len(best))
        ax.set_xlabel(f"Subjects ({len(best)}), ordered by best change")
        ax.set_ylabel("Best change in sum of target lesions (%)")
        handles = [Line2D([], [], color=c, linewidth=8, label=a) for a, c in colours.items()]
        ax.legend(handles=handles, loc="upper right", frameon=True)
        ax.grid(True, axis="y", alpha=0.3)
        if title:
            ax.set_title(title)
    return fig


def plot_spider(
    adtr: pd.DataFrame,
    *,
    arm: str = "TRTP",
    arm_order: Sequence[str] | None = None,
    title: str = "",
    days_per_unit: float = 7.0,
    xlabel: str = "Weeks since randomization",
) -> Figure:
    """Spider plot: % change of the target sum over time, one line per subject, by arm colour.

    Each line starts at (0, 0%), the baseline. ADY is divided by ``days_per_unit`` (weeks by
    default).
    """
    _need(adtr, ("USUBJID", arm, "ADY", "PCHG"), "ADTR")
    rows = adtr[adtr["PCHG"].notna() & adtr["ADY"].notna()]
    if rows.empty:
        raise InvalidInputError("no post-baseline target sum", field="adtr")
    colours = arm_colours(rows[arm].astype(str), arm_order)
    with plot_style():
        fig = new_figure(8.0, 4.5)
        ax = fig.add_subplot()
        for (_, name), group in rows.sort_values("ADY", kind="stable").groupby(
            ["USUBJID", arm], sort=True
        ):
            x = np.concatenate(([0.0], group["ADY"].to_numpy(dtype=np.float64) / days_per_unit))
            y = np.concatenate(([0.0], group["PCHG"].to_numpy(dtype=np.float64)))
            ax.plot(x, y, color=colours[str(name)], linewidth=0.8, alpha=0.6, marker=".", ms=3)
        _thresholds(ax)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Change in sum of target lesions (%)")
        handles = [Line2D([], [], color=c, linewidth=2, label=a) for a, c in colours.items()]
        ax.legend(
            handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False
        )
        ax.grid(True, alpha=0.3)
        if title:
            ax.set_title(title)
    return fig


@dataclass(frozen=True)
class SwimmerLane:
    """One subject's lane: times in the plot's unit from randomization (None: did not happen).

    Attributes
    ----------
    subject, arm
        Who and which arm.
    end
        End of treatment (or the data cut if ``ongoing``).
    ongoing
        Still on treatment at the data cut (drawn with an arrow).
    response, progression, death
        Onset of the first response (CR/PR), first progression, death.
    """

    subject: str
    arm: str
    end: float
    ongoing: bool = False
    response: float | None = None
    progression: float | None = None
    death: float | None = None


_MARKERS = {
    "response": ("^", "#117733", "response (CR/PR)"),
    "progression": ("X", "#AA3377", "progression"),
    "death": ("s", "black", "death"),
}


def plot_swimmer(
    lanes: Sequence[SwimmerLane],
    *,
    arm_order: Sequence[str] | None = None,
    xlabel: str = "Months since randomization",
    title: str = "",
) -> Figure:
    """Swimmer plot: one bar per subject (time on treatment), with event markers.

    Lanes are drawn top to bottom in the given order; the bar is the arm's colour.
    """
    if not lanes:
        raise InvalidInputError("no subject to draw", field="lanes")
    colours = arm_colours((lane.arm for lane in lanes), arm_order)
    k = len(lanes)
    with plot_style():
        fig = new_figure(8.0, min(2.0 + 0.16 * k, 24.0))
        ax = fig.add_subplot()
        y = np.arange(k)[::-1]
        ax.barh(y, [lane.end for lane in lanes], height=0.7,
                color=[colours[lane.arm] for lane in lanes], linewidth=0)  # fmt: skip
        for key, (marker, colour, _) in _MARKERS.items():
            points = [(getattr(ln, key), yy) for ln, yy in zip(lanes, y, strict=True)]
            points = [(t, yy) for t, yy in points if t is not None]
            if points:
                xs, ys = [t for t, _ in points], [yy for _, yy in points]
                ax.scatter(xs, ys, marker=marker, color=colour, s=28, zorder=3)
        for lane, yy in zip(lanes, y, strict=True):
            if lane.ongoing:
                ax.annotate("", (lane.end + 1.0, yy), (lane.end, yy),
                            arrowprops={"arrowstyle": "->", "color": "0.2"})  # fmt: skip
        ax.set_yticks(y, labels=[lane.subject for lane in lanes], fontsize=6 if k > 40 else 8)
        ax.set_ylim(-0.8, k - 0.2)
        ax.set_xlim(0, None)
        ax.set_xlabel(xlabel)
        handles = [Line2D([], [], color=c, linewidth=6, label=a) for a, c in colours.items()]
        handles += [
            Line2D([], [], marker=m, color=c, linestyle="none", label=text)
            for m, c, text in _MARKERS.values()
        ]
        handles.append(Line2D([], [], marker=r"$\rightarrow$", color="0.2", linestyle="none",
                              markersize=10, label="on treatment"))  # fmt: skip
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.grid(True, axis="x", alpha=0.3)
        if title:
            ax.set_title(title)
    return fig
