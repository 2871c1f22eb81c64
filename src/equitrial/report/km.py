"""Kaplan-Meier curves per arm with censoring ticks and the numbers at risk below.

The estimates are :func:`equitrial.stats.survival.kaplan_meier`'s (tested against R's
``survfit``); this module only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike, NDArray

from equitrial.errors import InvalidInputError
from equitrial.report._style import arm_colours, new_figure, plot_style
from equitrial.stats.survival import KaplanMeier, kaplan_meier

__all__ = ["DAYS_PER_MONTH", "km_groups_from_adtte", "numbers_at_risk", "plot_km"]

DAYS_PER_MONTH = 365.25 / 12
"""Days in an average month (ADTTE AVAL is in days; curves are drawn in months)."""

Group = tuple[ArrayLike, ArrayLike]
"""``(time, event)`` of one arm: follow-up times and 1 = event / 0 = censored."""


def km_groups_from_adtte(
    adtte: pd.DataFrame,
    paramcd: str,
    *,
    arm: str = "TRTP",
    population: str = "ITTFL",
    time_divisor: float = DAYS_PER_MONTH,
) -> dict[str, tuple[NDArray[np.float64], NDArray[np.int64]]]:
    """Arm -> ``(time, event)`` of one ADTTE parameter, for :func:`plot_km`.

    Parameters
    ----------
    adtte
        ADTTE (BDS-TTE): PARAMCD, AVAL (days), CNSR (0 = event), the ``arm`` and ``population``
        variables.
    paramcd
        The parameter, e.g. ``"PFS"`` or ``"OS"``.
    arm
        The treatment variable grouping the curves.
    population
        The population flag; records with ``"Y"`` are kept.
    time_divisor
        AVAL is divided by it (days -> months by default; 1 keeps days).

    Returns
    -------
    dict
        Sorted arms -> ``(time, event)`` arrays.

    Raises
    ------
    InvalidInputError
        If a needed variable is missing or no record of ``paramcd`` is in the population.
    """
    for column in ("PARAMCD", "AVAL", "CNSR", arm, population):
        if column not in adtte.columns:
            raise InvalidInputError(f"ADTTE has no {column} variable", field=column)
    rows = adtte[(adtte["PARAMCD"] == paramcd) & (adtte[population] == "Y")]
    rows = rows[rows["AVAL"].notna() & rows[arm].notna()]
    if rows.empty:
        raise InvalidInputError(
            f"ADTTE has no {paramcd} record in the {population} population", field="paramcd"
        )
    out: dict[str, tuple[NDArray[np.float64], NDArray[np.int64]]] = {}
    for name, group in rows.groupby(arm, sort=True):
        time = group["AVAL"].to_numpy(dtype=np.float64) / time_divisor
        event = (group["CNSR"].to_numpy(dtype=np.float64) == 0).astype(np.int64)
        out[str(name)] = (time, event)
    return out


def numbers_at_risk(km: KaplanMeier, times: ArrayLike) -> list[int]:
    """Subjects still at risk (follow-up ``>= t``) at each of ``times``, from the KM table.

    The count at ``t`` is the curve's ``n_risk`` at its first time ``>= t`` (0 after the last).
    """
    t = np.asarray(times, dtype=np.float64)
    idx = np.searchsorted(km.time, t, side="left")
    padded = np.append(km.n_risk, 0)
    return [int(n) for n in padded[idx]]


def _median_text(km: KaplanMeier) -> str:
    return "NR" if math.isnan(km.median) else f"{km.median:.1f}"


def plot_km(
    groups: Mapping[str, Group],
    *,
    xlabel: str = "Months since randomization",
    ylabel: str = "Survival probability",
    title: str = "",
    at_risk_times: Sequence[float] | None = None,
    arm_order: Sequence[str] | None = None,
    show_ci: bool = False,
) -> Figure:
    """Kaplan-Meier curves, one per arm, with censoring ticks and a numbers-at-risk table.

    Parameters
    ----------
    groups
        Arm -> ``(time, event)`` (see :func:`km_groups_from_adtte`).
    xlabel, ylabel, title
        Axis labels and title.
    at_risk_times
        Times of the numbers-at-risk table (and the x ticks); default: round ticks over the
        follow-up.
    arm_order
        The arms' order for colours and rows (default sorted).
    show_ci
        Shade the pointwise 95% interval (log-log) of each curve.

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0 holds the curves (one step line labelled with the arm name per arm); axes 1 the
        numbers at risk.

    Raises
    ------
    InvalidInputError
        If ``groups`` is empty, or from :func:`~equitrial.stats.survival.kaplan_meier` for bad
        times or events (naming the arm).
    """
    if not groups:
        raise InvalidInputError("no arm to draw", field="groups")
    colours = arm_colours(groups, arm_order)
    arms = list(colours)
    curves: dict[str, KaplanMeier] = {}
    for name in arms:
        time, event = groups[name]
        try:
            curves[name] = kaplan_meier(time, event)
        except InvalidInputError as exc:
            raise InvalidInputError(f"arm {name!r}: {exc.message}", field=exc.field) from None
    last = max(float(np.max(km.time)) for km in curves.values())
    with plot_style():
        fig = new_figure(7.0, 4.9 + 0.45 * len(arms))
        grid = fig.add_gridspec(2, 1, height_ratios=[4.6, 0.3 + 0.45 * len(arms)])
        ax = fig.add_subplot(grid[0])
        risk = fig.add_subplot(grid[1], sharex=ax)
        for name in arms:
            _draw_curve(ax, name, curves[name], colours[name], show_ci)
        if at_risk_times is None:
            ticks = MaxNLocator(nbins=8, steps=[1, 2, 3, 6, 10]).tick_values(0.0, last)
            times = [float(t) for t in ticks if 0.0 <= t <= last]
        else:
            times = [float(t) for t in at_risk_times]
        ax.set_xticks(times)
        ax.set_xlim(0.0, max(times[-1], last) * 1.02 if times else last * 1.02)
        ax.set_ylim(0.0, 1.02)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelbottom=False)
        ax.legend(loc="upper right", frameon=True, framealpha=0.9)
        if title:
            ax.set_title(title)
        _draw_risk_table(risk, arms, curves, colours, times)
        risk.set_xlabel(xlabel)
    return fig


def _draw_curve(ax: Axes, name: str, km: KaplanMeier, colour: str, show_ci: bool) -> None:
    x = np.concatenate(([0.0], km.time))
    y = np.concatenate(([1.0], km.survival))
    n, events = int(km.n_risk[0]), int(np.sum(km.n_event))
    label = f"{name}: n = {n}, events = {events}, median {_median_text(km)}"
    ax.step(x, y, where="post", color=colour, linewidth=1.8, label=label, gid=f"km:{name}")
    censored = km.n_censor > 0
    ax.plot(
        km.time[censored],
        km.survival[censored],
        linestyle="none",
        marker="|",
        markersize=7,
        markeredgewidth=1.2,
        color=colour,
        gid=f"censor:{name}",
    )
    if show_ci:
        lower = np.concatenate(([1.0], np.nan_to_num(km.lower, nan=0.0)))
        upper = np.concatenate(([1.0], np.nan_to_num(km.upper, nan=1.0)))
        ax.fill_between(x, lower, upper, step="post", color=colour, alpha=0.12, linewidth=0)


def _draw_risk_table(
    risk: Axes,
    arms: list[str],
    curves: Mapping[str, KaplanMeier],
    colours: Mapping[str, str],
    times: list[float],
) -> None:
    risk.set_ylim(-0.5, len(arms) - 0.05)
    risk.set_yticks([])
    for row, name in enumerate(reversed(arms)):
        # the arm's name above its row of counts, in its colour: long names keep the plot wide
        risk.text(
            0.0,
            row + 0.5,
            name,
            transform=risk.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=8.5,
            color=colours[name],
            fontweight="bold",
        )
        for t, n in zip(times, numbers_at_risk(curves[name], times), strict=True):
            risk.text(t, row, str(n), ha="center", va="center", fontsize=9, gid=f"risk:{name}")
    risk.set_title("Number at risk", loc="left", fontsize=9)
    risk.tick_params(left=False)
    for side in ("top", "right", "left"):
        risk.spines[side].set_visible(False)
