"""The CSR displays 14.3.1-14.3.6 of a safety result (private to
:mod:`equitrial.analysis.safety`). Cells keep whole numbers; the report rounds them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from equitrial.analysis.tables import Cell, Table

__all__ = ["build_tables"]

_POPULATION = "Safety population (SAFFL = Y), by actual treatment; n (%) of subjects."
_TEAE = (
    "TEAE: onset on or after the first dose and up to 90 days after the last (ADAE TRTEMFL). "
    "Grades: CTCAE v5.0."
)


def _arm_heads(results: Mapping[str, Any], *suffixes: str) -> tuple[str, ...]:
    return tuple(
        f"{arm['name']} (N={arm['n']}) {suffix}" for arm in results["arms"] for suffix in suffixes
    )


def _codes(results: Mapping[str, Any]) -> list[str]:
    return [str(arm["code"]) for arm in results["arms"]]


def _overview(results: Mapping[str, Any]) -> Table:
    diff = results.get("difference")
    heads: tuple[str, ...] = ("Subjects with", *_arm_heads(results, "n", "%"))
    notes = [_POPULATION, _TEAE, "Deaths: any cause, ADSL DTHFL."]
    if diff is not None:
        heads += ("Difference (%)", "Lower limit (%)", "Upper limit (%)")
        first = next((r["difference"] for r in results["overview"] if r["difference"]), None)
        if first is not None:
            notes.append(
                f"Difference of proportions {diff['test']} - {diff['reference']}, "
                f"{100 * first['level']:g}% {first['method']} interval, in percentage points."
            )
    rows = []
    for row in results["overview"]:
        cells: list[Cell] = [row["label"]]
        for code in _codes(results):
            cells += [row["arms"][code]["n"], row["arms"][code]["percent"]]
        if diff is not None:
            d = row["difference"]
            cells += [None, None, None] if d is None else [
                100 * d["estimate"], 100 * d["lower"], 100 * d["upper"]
            ]  # fmt: skip
        rows.append(tuple(cells))
    return Table("14.3.1", "Overview of treatment-emergent adverse events", heads,
                 tuple(rows), tuple(notes))  # fmt: skip


def _soc_pt(results: Mapping[str, Any]) -> Table:
    heads = ("System organ class / preferred term", *_arm_heads(results, "n", "%", "events"))
    rows = []
    for soc in results["soc_pt"]:
        for label, block in [(soc["soc"], soc), *[("  " + t["term"], t) for t in soc["terms"]]]:
            cells: list[Cell] = [label]
            for code in _codes(results):
                arm = block["arms"][code]
                cells += [arm["n"], arm["percent"], arm["events"]]
            rows.append(tuple(cells))
    notes = (
        _POPULATION,
        _TEAE,
        "Sorted by descending number of subjects over all arms, ties by name; a subject is "
        "counted once per SOC and once per term; events: all TEAE records.",
    )
    return Table("14.3.2", "Treatment-emergent adverse events by system organ class and "
                 "preferred term", heads, tuple(rows), notes)  # fmt: skip


def _worst(results: Mapping[str, Any]) -> Table:
    grades = ("1", "2", "3", "4", "5", "missing")
    heads = ("System organ class", "Preferred term", "Arm", *(f"Grade {g}" for g in grades))
    rows = [
        (row["soc"], row["term"], code, *(row["arms"][code][g] for g in grades))
        for row in results["worst_grade"]
        for code in _codes(results)
    ]
    notes = (_POPULATION, "Each subject counted once per term, at the worst grade of the term.")
    return Table("14.3.3", "Treatment-emergent adverse events by worst CTCAE grade per subject",
                 heads, tuple(rows), notes)  # fmt: skip


def _immune(results: Mapping[str, Any]) -> Table:
    heads = ("Category", "Arm", "n", "%", "Onset median (days)", "Onset min", "Onset max")
    rows = []
    for row in results["immune_related"]:
        for code in _codes(results):
            arm = row["arms"][code]
            onset = arm["onset_days"]
            rows.append((row["category"], code, arm["n"], arm["percent"],
                         onset["median"], onset["min"], onset["max"]))  # fmt: skip
    notes = (
        _POPULATION,
        "Immune-related category as ADAE IRAECAT carries it; time to onset: study day "
        "(ASTDY) of the subject's first event of the category.",
    )
    return Table("14.3.4", "Immune-related treatment-emergent adverse events by category",
                 heads, tuple(rows), notes)  # fmt: skip


def _shifts(results: Mapping[str, Any]) -> Table:
    shifts = results["lab_shifts"]
    worst = shifts[0]["worst_grades"] if shifts else ["0", "1", "2", "3", "4"]
    heads = ("Parameter", "Arm", "Baseline grade", *(f"Worst grade {g}" for g in worst))
    rows = []
    for row in shifts:
        for code in _codes(results):
            for base, counts in zip(row["baseline_grades"], row["arms"][code]["counts"],
                                    strict=True):  # fmt: skip
                rows.append((row["param"] or row["paramcd"], code, base, *counts))
    notes = (
        "Safety population; subjects with an on-treatment graded value (ONTRTFL = Y).",
        "Worst: highest on-treatment CTCAE v5.0 grade; baseline: grade of the baseline record.",
    )
    return Table("14.3.5", "Laboratory shifts from baseline to worst on-treatment CTCAE grade",
                 heads, tuple(rows), notes)  # fmt: skip


def _exposure(results: Mapping[str, Any]) -> Table:
    heads = ("Parameter", "Unit", "Arm", "n", "Mean", "SD", "Median", "Min", "Max")
    rows = [
        (row["label"], row["unit"], code,
         *(row["arms"][code][k] for k in ("n", "mean", "sd", "median", "min", "max")))
        for row in results["exposure"]
        for code in _codes(results)
    ]  # fmt: skip
    notes = (
        "Safety population; ADEX overall summaries (duration: first dose to last dose plus "
        "the dosing interval; dose intensity: cumulative dose per week of exposure).",
    )
    return Table("14.3.6", "Extent of exposure", heads, tuple(rows), notes)


def build_tables(results: Mapping[str, Any]) -> list[Table]:
    """Tables 14.3.1 to 14.3.6 of a safety result."""
    return [
        _overview(results),
        _soc_pt(results),
        _worst(results),
        _immune(results),
        _shifts(results),
        _exposure(results),
    ]
