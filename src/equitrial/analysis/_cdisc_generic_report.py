"""The self-contained HTML page of :mod:`equitrial.analysis.cdisc_generic`.

One file, no external resource: the displays as HTML tables, each Kaplan-Meier figure (with its
numbers at risk) as an inline PNG drawn by matplotlib's Agg backend, the log-rank tests. Every
text that comes from the data (arm, SOC, parameter names...) goes through :func:`html.escape`,
so a dataset cannot inject markup into the page.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from equitrial.analysis.tables import Cell, Table

__all__ = ["km_figure_png", "render_report"]

_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:75em}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #999;padding:.2em .5em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    "caption{text-align:left;font-weight:bold}"
    ".note{font-size:.9em;color:#444}"
)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        if value != 0 and abs(value) < 0.001:
            return f"{value:.2e}"
        return f"{value:.3f}" if not value.is_integer() else f"{value:.0f}"
    return str(value)


def _table(table: Table) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(_cell(c))}</td>" for c in row) + "</tr>" for row in table.rows
    )
    notes = "".join(f'<p class="note">{_e(f)}</p>' for f in table.footnotes)
    caption = f"Table {table.number}. {table.title}"
    return (
        f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>{notes}"
    )


def km_figure_png(
    param: str,
    curves: dict[str, dict[str, list[float]]],
    at_risk: list[dict[str, Any]],
) -> bytes:
    """The Kaplan-Meier curves of one parameter with the numbers at risk under the axis (PNG).

    Parameters
    ----------
    param
        The parameter's name (the title).
    curves
        ``{arm: {"time": [...], "survival": [...]}}``, the steps starting at (0, 1).
    at_risk
        Rows ``{"param", "arm", "day", "n_risk"}`` of this parameter.
    """
    arms = list(curves)
    fig, (ax, table_ax) = plt.subplots(
        2, 1, figsize=(8.0, 5.5 + 0.25 * len(arms)), dpi=110,
        gridspec_kw={"height_ratios": [4.0, 0.6 + 0.3 * len(arms)]},
    )  # fmt: skip
    try:
        for arm, steps in curves.items():
            ax.step(steps["time"], steps["survival"], where="post", label=arm, linewidth=1.6)
        days = sorted({int(r["day"]) for r in at_risk})
        last = max([days[-1] if days else 0.0] + [s["time"][-1] for s in curves.values()])
        ax.set_xlim(0, last * 1.02 if last > 0 else 1)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(days)
        ax.set_xlabel("Days")
        ax.set_ylabel("Probability without event")
        ax.set_title(param, fontsize=11)
        ax.legend(loc="lower left", fontsize=8)
        ax.grid(alpha=0.3)
        table_ax.set_xlim(ax.get_xlim())
        table_ax.set_ylim(-0.5, len(arms) - 0.5)
        table_ax.axis("off")
        table_ax.set_title("Number at risk", fontsize=9, loc="left")
        n = {(r["arm"], int(r["day"])): int(r["n_risk"]) for r in at_risk}
        for i, arm in enumerate(arms):
            y = len(arms) - 1 - i
            table_ax.text(0, y, arm, fontsize=7, ha="left", va="center",
                          transform=table_ax.get_yaxis_transform())  # fmt: skip
            for day in days:
                if (arm, day) in n:
                    table_ax.text(day, y - 0.45, str(n[(arm, day)]), fontsize=7, ha="center")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(fig)


def _logrank(rows: list[dict[str, Any]]) -> str:
    lines = []
    for r in rows:
        arms = ", ".join(
            f"{arm}: observed {r['observed'][arm]:.0f}, expected {r['expected'][arm]:.2f}"
            for arm in r["observed"]
        )
        lines.append(
            f"<p>{_e(r['param'])}: log-rank chi-square {_e(_cell(r['statistic']))} on "
            f"{_e(r['df'])} df, p = {_e(_cell(r['pvalue']))} ({_e(arms)})</p>"
        )
    return "".join(lines)


def render_report(
    title: str,
    tables: tuple[Table, ...],
    curves: dict[str, dict[str, dict[str, list[float]]]],
    at_risk: list[dict[str, Any]],
    logrank: list[dict[str, Any]],
) -> str:
    """The page: the displays, one Kaplan-Meier figure per parameter, the log-rank tests."""
    figures = []
    for param, by_arm in curves.items():
        png = km_figure_png(param, by_arm, [r for r in at_risk if r["param"] == param])
        data = base64.b64encode(png).decode("ascii")
        figures.append(
            f'<figure><img alt="{_e("Kaplan-Meier curves: " + param)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{_e(param)}: Kaplan-Meier '
            "estimate by arm, safety population</figcaption></figure>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        + "".join(_table(t) for t in tables)
        + "<h2>Kaplan-Meier estimates</h2>"
        + "".join(figures)
        + "<h2>Log-rank tests</h2>"
        + _logrank(logrank)
        + "</body></html>\n"
    )
