"""The CSR displays of :mod:`equitrial.analysis.cdisc_generic`, as
:class:`~equitrial.analysis.tables.Table` objects (cells kept whole; the report rounds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from equitrial.analysis.tables import Cell, Table

__all__ = ["build_tables"]

Row = dict[str, Any]


def _demographics(arms: Sequence[str], n: dict[str, int], rows: list[Row]) -> Table:
    cells: dict[tuple[str, str], dict[str, Cell]] = {}
    for r in rows:
        cells.setdefault((r["variable"], r["statistic"]), {})[r["arm"]] = r["value"]
    return Table(
        number="14.1.1",
        title="Summary of demographic characteristics, safety population",
        columns=("Characteristic", "Statistic", *(f"{a} (N={n[a]})" for a in arms)),
        rows=tuple((v, s, *(by_arm.get(a) for a in arms)) for (v, s), by_arm in cells.items()),
        footnotes=("Safety population: ADSL.SAFFL = 'Y'; arms as treated (ADSL.TRT01A).",
                   "Age groups and race categories as coded in ADSL; SD with n - 1."),
    )  # fmt: skip


def _teae(arms: Sequence[str], n: dict[str, int], teae: list[Row], fisher: list[Row]) -> Table:
    counts: dict[str, dict[str, Row]] = {}
    for r in teae:
        counts.setdefault(r["soc"], {})[r["arm"]] = r
    pvalues: dict[tuple[str, str], float | None] = {(r["soc"], r["arm"]): r["pvalue"]
                                                   for r in fisher}  # fmt: skip
    compared = list(dict.fromkeys(r["arm"] for r in fisher))
    reference = fisher[0]["reference"] if fisher else (arms[0] if arms else "")
    columns: list[str] = ["System organ class"]
    for a in arms:
        columns += [f"{a} (N={n[a]}) subjects", f"{a} events"]
    columns += [f"p, {reference} vs {a}" for a in compared]
    rows: list[tuple[Cell, ...]] = []
    for soc, by_arm in counts.items():
        row: list[Cell] = ["Any TEAE" if soc == "ANY" else soc]
        for a in arms:
            row += [by_arm[a]["subjects"], by_arm[a]["events"]]
        row += [pvalues.get((soc, a)) for a in compared]
        rows.append(tuple(row))
    return Table(
        number="14.3.1",
        title="Incidence of treatment-emergent adverse events by system organ class, "
        "safety population",
        columns=tuple(columns),
        rows=tuple(rows),
        footnotes=("Treatment-emergent: ADAE.TRTEMFL = 'Y'; system organ class: ADAE.AEBODSYS.",
                   "Subjects: counted once per SOC; events: every record.",
                   "p: two-sided Fisher's exact test of the proportion of subjects with an "
                   f"event, {reference} vs each arm; blank where neither arm has one."),
    )  # fmt: skip


def _at_risk(arms: Sequence[str], rows: list[Row]) -> Table:
    cells: dict[tuple[str, int], dict[str, Cell]] = {}
    for r in rows:
        cells.setdefault((r["param"], r["day"]), {})[r["arm"]] = r["n_risk"]
    return Table(
        number="14.3.2",
        title="Kaplan-Meier numbers at risk by parameter of ADTTE, safety population",
        columns=("Parameter", "Day", *arms),
        rows=tuple((p, d, *(by_arm.get(a) for a in arms)) for (p, d), by_arm in cells.items()),
        footnotes=("At risk on a day: subjects whose AVAL is at least that day; event: "
                   "ADTTE.CNSR = 0.",),
    )  # fmt: skip


def build_tables(
    arms: Sequence[str],
    n: dict[str, int],
    teae: list[Row],
    fisher: list[Row],
    at_risk: list[Row],
    demographics: list[Row],
) -> tuple[Table, ...]:
    """The three displays: demographics (14.1.1), TEAE by SOC (14.3.1), numbers at risk
    (14.3.2)."""
    return (_demographics(arms, n, demographics), _teae(arms, n, teae, fisher),
            _at_risk(arms, at_risk))  # fmt: skip
