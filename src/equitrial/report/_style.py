"""What every report figure shares: the arm colours, the figure size and font, the PNG encoding.

Not public: :mod:`equitrial.report.figures` re-exports what callers need.

Colours are the Okabe-Ito palette, distinguishable with the common colour-vision deficiencies
(Okabe M, Ito K. Color Universal Design (CUD): how to make figures and presentations that are
friendly to colorblind people, 2008; https://jfly.uni-koeln.de/color/). An arm keeps its colour in
every figure: colours follow the arms' order (the protocol's order when the caller gives it,
else the sorted names).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from equitrial.errors import InvalidInputError

__all__ = ["ARM_PALETTE", "arm_colours", "check_number", "figure_png", "new_figure", "plot_style"]

ARM_PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
)
"""Okabe-Ito colours, in the order arms receive them."""

DPI = 150
"""Resolution of every PNG (a 7-inch-wide figure is 1050 pixels wide)."""

_RC: dict[str, Any] = {
    "font.size": 10.0,
    "axes.titlesize": 11.0,
    "axes.labelsize": 10.0,
    "xtick.labelsize": 9.0,
    "ytick.labelsize": 9.0,
    "legend.fontsize": 9.0,
    "svg.hashsalt": "equitrial",  # SVG ids from a fixed salt: the same figure, the same bytes
}


def arm_colours(arms: Iterable[str], order: Sequence[str] | None = None) -> dict[str, str]:
    """Arm -> colour: the arms of ``order`` first (in that order), then the others sorted.

    Parameters
    ----------
    arms
        The arms drawn.
    order
        The arms' order (e.g. the protocol's ``[[arms]]``); an arm not in it follows, sorted.

    Returns
    -------
    dict of str to str
        A hexadecimal colour per arm, cycling through :data:`ARM_PALETTE`.
    """
    present = set(arms)
    ordered = [a for a in (order or ()) if a in present]
    ordered += sorted(present - set(ordered))
    return {a: ARM_PALETTE[i % len(ARM_PALETTE)] for i, a in enumerate(ordered)}


def plot_style() -> AbstractContextManager[None]:
    """The report's fonts, active while a figure is drawn (``with plot_style(): ...``)."""
    return matplotlib.rc_context(_RC)  # type: ignore[arg-type]


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches, not attached to pyplot (nothing to close)."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes, reproducibly: no software or date metadata in the file."""
    buf = io.BytesIO()
    with plot_style():
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def check_number(value: object, field: str, *, positive: bool = False) -> float:
    """``value`` as a finite float (``> 0`` when ``positive``), else an error naming ``field``."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError(f"{field} must be a number, got {value!r}", field=field) from None
    if not math.isfinite(x) or (positive and x <= 0):
        expected = "a finite number > 0" if positive else "a finite number"
        raise InvalidInputError(
            f"{field} must be {expected}, got {value!r}", field=field, expected=expected
        )
    return x
