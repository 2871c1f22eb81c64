"""CSR displays 14.2.x of the efficacy results (private to :mod:`equitrial.analysis.efficacy`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from equitrial.analysis.tables import Cell, Table

__all__ = ["efficacy_tables"]

_COMPARISON = ("Analysis", "Population", "Reader", "Arm", "N", "Responders", "Rate")
_ESTIMATE = ("Scale", "Estimate", "Lower", "Upper", "Level", "Equivalent")


def _rate(x: int, n: int) -> float | None:
    return x / n if n else None


def _comparison_rows(results: list[Mapping[str, Any]]) -> list[tuple[Cell, ...]]:
    rows: list[tuple[Cell, ...]] = []
    for r in results:
        decision = r.get("assessment")
        verdict = None if decision is None else ("yes" if decision["equivalent"] else "no")
        for i, (arm, n) in enumerate(r["arm_n"].items()):
            x = r["responders"][arm]
            first = i == 0
            rows.append(
                (
                    r.get("analysis", "primary"),
                    r["population"],
                    r["reader"],
                    arm,
                    n,
                    x,
                    _rate(x, n),
                    r["scale"] if first else None,
                    r["estimate"] if first else None,
                    r["lower"] if first else None,
                    r["upper"] if first else None,
                    r["level"] if first else None,
                    verdict if first else None,
                )
            )
    return rows


def _primary_table(primary: Mapping[str, Any]) -> Table:
    margin = primary.get("margin") or {}
    notes = [
        f"{primary['method']}.",
        f"Equivalence margin ({margin.get('lower')}, {margin.get('upper')}) on the "
        f"{primary['scale']} scale.",
        "Subjects without an evaluable response up to the timepoint are non-responders.",
    ]
    if primary.get("assessment"):
        notes.append(primary["assessment"]["conclusion"])
    return Table(
        "14.2.1",
        f"Primary endpoint {primary['endpoint']}: objective response rate, {primary['population']}",
        _COMPARISON + _ESTIMATE,
        tuple(_comparison_rows([primary])),
        tuple(notes),
    )


def _sensitivity_tables(results: list[Mapping[str, Any]]) -> list[Table]:
    main = [r for r in results if r.get("analysis") != "tipping-point"]
    out = [
        Table(
            "14.2.2",
            "Sensitivity analyses of the primary endpoint",
            _COMPARISON + _ESTIMATE,
            tuple(_comparison_rows(main)),
            (
                "stratified: CMH-weighted stratified Miettinen-Nurminen difference over the "
                "randomization strata.",
                "evaluable-only: subjects without an evaluable response left out.",
            ),
        )
    ]
    for tip in (r for r in results if r.get("analysis") == "tipping-point"):
        rows = tuple(
            (
                g["test_imputed"],
                g["reference_imputed"],
                g["estimate"],
                g["lower"],
                g["upper"],
                None if g["equivalent"] is None else ("yes" if g["equivalent"] else "no"),
            )
            for g in tip["grid"]
        )
        arms = list(tip["arm_n"])
        out.append(
            Table(
                "14.2.3",
                "Tipping-point analysis: responders imputed among subjects without an evaluable "
                "response",
                (
                    f"Imputed responders {arms[0]}",
                    f"Imputed responders {arms[1]}",
                    "Estimate",
                    "Lower",
                    "Upper",
                    "Equivalent",
                ),
                rows,
                (f"Subjects without an evaluable response: {tip['missing']}.",),
            )
        )
    return out


def _survival_table(secondary: Mapping[str, Any]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for key in ("pfs", "os", "dor"):
        part = secondary.get(key)
        if not part:
            continue
        for arm, s in part["arms"].items():
            marks = s["landmarks"]
            rows.append(
                (
                    key.upper(),
                    arm,
                    s["n"],
                    s["events"],
                    s["median"],
                    s["median_lower"],
                    s["median_upper"],
                    *(None if marks.get(m) is None else marks[m]["rate"] for m in ("6m", "12m")),
                )
            )
        cox, lr, rmst = part.get("cox"), part.get("logrank"), part.get("rmst")
        if cox or lr or rmst:
            rows.append(
                (
                    f"{key.upper()} comparison",
                    "HR (95% CI), log-rank p, RMST difference",
                    None,
                    None,
                    cox and cox["hr"],
                    cox and cox["lower"],
                    cox and cox["upper"],
                    lr and lr["pvalue"],
                    rmst and rmst["difference"],
                )
            )
    return Table(
        "14.2.4",
        "Time-to-event endpoints (ITT): Kaplan-Meier medians (days), 6- and 12-month rates",
        ("Endpoint", "Arm", "N", "Events", "Median", "Lower", "Upper", "6 months", "12 months"),
        tuple(rows),
        (
            "Median CI: log-log (Brookmeyer-Crowley). HR: Cox model stratified by the "
            "randomization strata (Efron ties); comparison row: HR, its 95% limits, the "
            "stratified log-rank p-value and the RMST difference (days).",
        ),
    )


def _response_table(secondary: Mapping[str, Any]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for key, label in (("dcr", "Disease control rate"), ("irecist_orr", "iRECIST ORR")):
        part = secondary.get(key)
        if not part:
            continue
        for arm, v in part.items():
            if isinstance(v, dict) and "count" in v:
                rows.append((label, arm, v["n"], v["count"], v["rate"], v["lower"], v["upper"]))
        if "ratio" in part:
            r = part["ratio"]
            rows.append((label, "ratio", None, None, r["estimate"], r["lower"], r["upper"]))
    ttr = secondary.get("ttr") or {}
    for arm, v in ttr.items():
        if isinstance(v, dict):
            rows.append(
                (
                    "Time to response (days, median, min, max)",
                    arm,
                    v["n"],
                    None,
                    v["median"],
                    v["min"],
                    v["max"],
                )
            )
    return Table(
        "14.2.5",
        "Secondary response endpoints (ITT)",
        ("Endpoint", "Arm", "N", "Count", "Estimate", "Lower", "Upper"),
        tuple(rows),
        ("Rates with 95% Clopper-Pearson intervals; ratio: Miettinen-Nurminen 95%.",),
    )


def _subgroup_table(rows: list[Mapping[str, Any]]) -> Table:
    cells: list[tuple[Cell, ...]] = []
    for r in rows:
        n, x = list(r["arm_n"].values()), list(r["responders"].values())
        cells.append(
            (
                r["subgroup"],
                r["level"],
                n[0],
                x[0],
                n[1],
                x[1],
                r["estimate"],
                r["lower"],
                r["upper"],
            )
        )
    arms = list(rows[0]["arm_n"]) if rows else ["test", "reference"]
    return Table(
        "14.2.6",
        "Primary endpoint by subgroup",
        (
            "Subgroup",
            "Level",
            f"N {arms[0]}",
            f"Responders {arms[0]}",
            f"N {arms[1]}",
            f"Responders {arms[1]}",
            "Estimate",
            "Lower",
            "Upper",
        ),
        tuple(cells),
        ("No estimate where an arm has too few subjects.",),
    )


def efficacy_tables(results: Mapping[str, Any]) -> list[Table]:
    """CSR displays 14.2.1-14.2.6 of the efficacy results.

    Parameters
    ----------
    results
        Any of ``"primary"`` (:func:`~equitrial.analysis.efficacy.primary`),
        ``"sensitivity"``, ``"secondary"``, ``"subgroups"``; a missing key gives no table.

    Returns
    -------
    list of Table
        14.2.1 primary, 14.2.2 sensitivity, 14.2.3 tipping point, 14.2.4 time-to-event,
        14.2.5 secondary response, 14.2.6 subgroups (in this order, those present).
    """
    out: list[Table] = []
    if results.get("primary"):
        out.append(_primary_table(results["primary"]))
    if results.get("sensitivity"):
        out.extend(_sensitivity_tables(list(results["sensitivity"])))
    if results.get("secondary"):
        out.append(_survival_table(results["secondary"]))
        out.append(_response_table(results["secondary"]))
    if results.get("subgroups"):
        out.append(_subgroup_table(list(results["subgroups"])))
    return out
