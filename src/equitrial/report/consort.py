"""CONSORT 2010 flow diagram drawn from counts (boxes and arrows in matplotlib).

The boxes follow the CONSORT 2010 flow diagram (Schulz KF, Altman DG, Moher D, for the
CONSORT Group. CONSORT 2010 Statement. BMJ 2010;340:c332, Figure 1): enrolment (assessed for
eligibility, excluded with reasons), allocation per arm (received the allocated intervention),
follow-up (discontinued with reasons) and analysis (populations analysed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from equitrial.errors import InvalidInputError
from equitrial.report._style import arm_colours, new_figure, plot_style

__all__ = ["ConsortCounts", "plot_consort"]


@dataclass(frozen=True)
class ConsortCounts:
    """The counts of the diagram.

    Attributes
    ----------
    screened
        Assessed for eligibility.
    screen_failures
        Reason -> subjects excluded before randomization.
    randomized
        Arm -> subjects randomized (the arms' order is the diagram's, left to right).
    received
        Arm -> subjects given at least one dose.
    discontinued
        Arm -> reason -> subjects who discontinued treatment.
    analysed
        Arm -> population (e.g. ``"ITT"``, ``"Per protocol"``, ``"Safety"``) -> subjects.
    """

    screened: int
    screen_failures: Mapping[str, int]
    randomized: Mapping[str, int]
    received: Mapping[str, int]
    discontinued: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    analysed: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        counts: list[tuple[str, object]] = [("screened", self.screened)]
        counts += [(f"screen_failures[{k!r}]", v) for k, v in self.screen_failures.items()]
        for name in ("randomized", "received"):
            counts += [(f"{name}[{k!r}]", v) for k, v in getattr(self, name).items()]
        for name in ("discontinued", "analysed"):
            for arm, inner in getattr(self, name).items():
                counts += [(f"{name}[{arm!r}][{k!r}]", v) for k, v in inner.items()]
        for where, value in counts:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidInputError(
                    f"{where} must be a count (an integer >= 0), got {value!r}", field=where
                )
        if not self.randomized:
            raise InvalidInputError("no arm randomized", field="randomized")
        for arm, n in self.received.items():
            if arm not in self.randomized or n > self.randomized[arm]:
                raise InvalidInputError(
                    f"received[{arm!r}] = {n} exceeds the arm's randomized count",
                    field=f"received[{arm!r}]",
                )
        if sum(self.randomized.values()) + sum(self.screen_failures.values()) > self.screened:
            raise InvalidInputError(
                "randomized plus screen failures exceed the screened count", field="screened"
            )


def _lines(title: str, total: int, reasons: Mapping[str, int]) -> str:
    text = f"{title} (n = {total})"
    for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        text += f"\n  \u2022 {reason} (n = {n})"
    return text


def _height(text: str) -> float:
    return 0.0185 * (text.count("\n") + 1) + 0.016


def _box(ax: Axes, x: float, y: float, text: str, *, width: float, colour: str = "0.2") -> float:
    """A box whose top centre is (x, y), in axes units; returns its bottom."""
    height = _height(text)
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height),
            width,
            height,
            boxstyle="round,pad=0.004",
            facecolor="white",
            edgecolor=colour,
            linewidth=1.2,
        )
    )
    ax.text(x - width / 2 + 0.012, y - 0.008, text, ha="left", va="top", fontsize=8.5)
    return y - height


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate("", end, start, arrowprops={"arrowstyle": "-|>", "color": "0.2", "linewidth": 1.0})


def _arm_texts(counts: ConsortCounts, arm: str) -> tuple[str, str, str]:
    alloc = (
        f"Allocated to {arm}\n  (n = {counts.randomized[arm]})\n"
        f"  Received allocated treatment (n = {counts.received.get(arm, 0)})"
    )
    stopped = counts.discontinued.get(arm, {})
    follow = _lines("Discontinued treatment", sum(stopped.values()), stopped)
    analysed = counts.analysed.get(arm, {})
    text = "Analysed\n" + "\n".join(f"  {pop} (n = {n})" for pop, n in analysed.items())
    return alloc, follow, text


def plot_consort(
    counts: ConsortCounts, *, arm_order: Sequence[str] | None = None, title: str = ""
) -> Figure:
    """The CONSORT flow diagram of ``counts``: one column of boxes per arm below enrolment.

    Returns
    -------
    matplotlib.figure.Figure
        One axes (no ticks) holding the boxes; every count is in a box's text.
    """
    colours = arm_colours(counts.randomized, arm_order or list(counts.randomized))
    arms = list(colours)
    with plot_style():
        fig = new_figure(8.5, 9.0)
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        n_rand = sum(counts.randomized.values())
        n_fail = sum(counts.screen_failures.values())
        excluded = _lines("Excluded", n_fail, counts.screen_failures)
        bottom = _box(ax, 0.3, 0.97, f"Assessed for eligibility (n = {counts.screened})", width=0.4)
        side = bottom - 0.03
        below = _box(ax, 0.75, side, excluded, width=0.46)
        _arrow(ax, (0.3, side - _height(excluded) / 2), (0.52, side - _height(excluded) / 2))
        top = min(below, side - _height(excluded)) - 0.04
        _arrow(ax, (0.3, bottom), (0.3, top))
        bottom = _box(ax, 0.3, top, f"Randomized (n = {n_rand})", width=0.4)
        stage_tops = [bottom - 0.06]
        texts = [_arm_texts(counts, arm) for arm in arms]
        for stage in range(1, 3):
            tallest = max(_height(t[stage - 1]) for t in texts)
            stage_tops.append(stage_tops[-1] - tallest - 0.05)
        width = 0.9 / len(arms)
        lowest = 1.0
        for i, arm in enumerate(arms):
            x = 0.07 + width * (i + 0.5)
            _arrow(ax, (0.3, bottom), (x, stage_tops[0]))
            for stage, text in enumerate(texts[i]):
                end = _box(ax, x, stage_tops[stage], text, width=width * 0.92, colour=colours[arm])
                if stage < 2:
                    _arrow(ax, (x, end), (x, stage_tops[stage + 1]))
                lowest = min(lowest, end)
        labels = ("Allocation", "Follow-up", "Analysis")
        ax.text(0.0, 0.975, "Enrolment", fontsize=9, fontweight="bold", color="0.3", va="top")
        for y, label in zip(stage_tops, labels, strict=True):
            ax.text(0.0, y + 0.025, label, fontsize=9, fontweight="bold", color="0.3")
        # crop the unused bottom: a shorter figure over a shorter y range keeps the text size
        lowest -= 0.02
        fig.set_size_inches(8.5, 9.0 * (1.0 - lowest) + (0.3 if title else 0.0))
        ax.set_ylim(lowest, 1.0)
        if title:
            ax.set_title(title)
    return fig
