"""Forest plot: an estimate and its interval per row, a reference line, the equivalence margin."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, NullFormatter

from equitrial.errors import InvalidInputError
from equitrial.report._style import check_number, new_figure, plot_style

__all__ = ["plot_forest"]

_RATIO_TICKS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


class _Row(NamedTuple):
    label: str
    estimate: float
    lower: float
    upper: float
    n: str


_LABEL_WIDTH = 32
"""Characters per line of a row label (longer labels wrap, so the axes keep their width)."""


def _rows(rows: Sequence[Mapping[str, object]], log_scale: bool) -> list[_Row]:
    out: list[_Row] = []
    if not rows:
        raise InvalidInputError("a forest plot needs at least one row", field="rows")
    for i, row in enumerate(rows):
        for key in ("label", "estimate", "lower", "upper"):
            if key not in row:
                raise InvalidInputError(f"rows[{i}] has no {key!r}", field=f"rows[{i}].{key}")
        values = [
            check_number(row[k], f"rows[{i}].{k}", positive=log_scale)
            for k in ("estimate", "lower", "upper")
        ]
        if not values[1] <= values[0] <= values[2]:
            raise InvalidInputError(
                f"rows[{i}]: need lower <= estimate <= upper, got {values}",
                field=f"rows[{i}]",
                expected="lower <= estimate <= upper",
            )
        n = row.get("n")
        n_text = "" if n is None else f"n = {n}"
        label = textwrap.fill(str(row["label"]), _LABEL_WIDTH)
        out.append(_Row(label, values[0], values[1], values[2], n_text))
    return out


def _fmt(x: float) -> str:
    """Two decimals, three significant digits for small values; infinite bounds as such."""
    if abs(x) == float("inf"):
        return "-inf" if x < 0 else "inf"
    return f"{x:.2f}" if abs(x) >= 0.1 or x == 0 else f"{x:.2g}"


def plot_forest(
    rows: Sequence[Mapping[str, object]],
    *,
    xlabel: str,
    log_scale: bool = False,
    reference: float | None = None,
    margin: tuple[float, float] | None = None,
    title: str = "",
) -> Figure:
    """One estimate with its interval per row, top to bottom in the given order.

    Parameters
    ----------
    rows
        Mappings with ``label``, ``estimate``, ``lower``, ``upper`` and optionally ``n``
        (printed, with the estimate and interval, at the right).
    xlabel
        The scale, e.g. ``"Risk ratio (biosimilar / reference), 95% CI"``.
    log_scale
        A log x axis (ratios); then every value must be positive.
    reference
        The no-difference line; default 1 on a log scale, 0 otherwise.
    margin
        ``(lower, upper)`` equivalence margin, shaded as a band; an infinite bound extends the
        band to the edge.
    title
        The figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; row ``i`` at ``y = len(rows) - 1 - i``.

    Raises
    ------
    InvalidInputError
        If a row misses a key, a value is not finite (or not positive on a log scale), or
        ``lower <= estimate <= upper`` fails; naming the row.
    """
    parsed = _rows(rows, log_scale)
    ref = reference if reference is not None else (1.0 if log_scale else 0.0)
    k = len(parsed)
    with plot_style():
        lines = sum(r.label.count("\n") + 1 for r in parsed)
        fig = new_figure(7.5, 1.3 + 0.42 * k + 0.14 * (lines - k))
        ax = fig.add_subplot()
        lows = [r[2] for r in parsed] + [ref]
        highs = [r[3] for r in parsed] + [ref]
        for b in margin or ():
            if abs(b) != float("inf") and (b > 0 or not log_scale):
                lows.append(b)
                highs.append(b)
        lo, hi = min(lows), max(highs)
        pad = (hi / lo) ** 0.08 if log_scale else (hi - lo) * 0.08 or 0.1
        x_lo, x_hi = (lo / pad, hi * pad) if log_scale else (lo - pad, hi + pad)
        if margin is not None:
            no_lower = margin[0] == float("-inf") or (log_scale and margin[0] <= 0)
            m_lo = x_lo if no_lower else margin[0]
            m_hi = x_hi if margin[1] == float("inf") else margin[1]
            ax.axvspan(m_lo, m_hi, color="#009E73", alpha=0.12, linewidth=0)
            middle = (m_lo * m_hi) ** 0.5 if log_scale else (m_lo + m_hi) / 2
            ax.text(
                middle,
                k - 0.42,
                f"equivalence margin ({_fmt(margin[0])}, {_fmt(margin[1])})",
                ha="center",
                va="center",
                fontsize=8,
                color="#00664A",
            )
            for b in (m_lo, m_hi):
                if x_lo < b < x_hi:
                    ax.axvline(b, color="#009E73", linewidth=0.9, linestyle="--")
        ax.axvline(ref, color="0.3", linewidth=1.0)
        for i, (_, est, low, up, _) in enumerate(parsed):
            y = k - 1 - i
            ax.plot([low, up], [y, y], color="black", lw=1.4, solid_capstyle="butt", gid=f"ci:{i}")
            ax.plot([est], [y], marker="s", color="#0072B2", markersize=7, linestyle="none")
        ax.set_yticks(range(k), labels=[r[0] for r in reversed(parsed)])
        right = ax.secondary_yaxis("right")
        right.set_yticks(
            range(k),
            labels=[
                f"{_fmt(r.estimate)} ({_fmt(r.lower)}, {_fmt(r.upper)})  {r.n}"
                for r in reversed(parsed)
            ],
        )
        right.tick_params(length=0)
        ax.set_ylim(-0.6, k - 0.1 if margin is not None else k - 0.4)
        if log_scale:
            ax.set_xscale("log")
            ticks = [t for t in _RATIO_TICKS if x_lo <= t <= x_hi]
            ax.set_xticks(ticks)
            ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(x_lo, x_hi)
        ax.set_xlabel(xlabel)
        ax.grid(True, axis="x", alpha=0.3)
        header = "estimate (CI)  n" if any(r[4] for r in parsed) else "estimate (CI)"
        ax.annotate(header, (1.01, 1.0), xycoords="axes fraction", fontsize=8.5, va="bottom")
        if title:
            ax.set_title(title, pad=16)
    return fig
