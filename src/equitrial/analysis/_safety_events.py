"""Adverse-event summaries of the safety analysis (private to :mod:`equitrial.analysis.safety`):
the overview with risk differences, TEAEs by SOC and preferred term, the worst grade per
subject and term, immune-related AEs by category with time to onset.

References
----------
.. [1] ICH E3 Structure and Content of Clinical Study Reports (1995), section 12.2 and
   14.3.1 (displays of adverse events).
.. [2] FDA. Standard Safety Tables and Figures: Integrated Guide (2022), tables of TEAEs by
   SOC and preferred term, sorted by decreasing frequency.
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

from equitrial.analysis._safety_input import (
    ArmInfo,
    count,
    describe,
    grade_of,
    numeric_grade,
    related,
    teae,
)
from equitrial.stats.proportions import DifferenceMethod, difference_ci

__all__ = ["OVERVIEW_ROWS", "immune_related", "overview", "soc_pt", "worst_grade"]

OVERVIEW_ROWS: Final = (
    ("any", "Any TEAE"),
    ("related", "Treatment-related TEAE"),
    ("grade3", "TEAE of grade 3 or higher"),
    ("grade3_related", "Treatment-related TEAE of grade 3 or higher"),
    ("serious", "Serious TEAE"),
    ("discontinuation", "TEAE leading to discontinuation of study treatment"),
    ("fatal", "TEAE with fatal outcome (grade 5)"),
    ("deaths", "Deaths (any cause)"),
)
"""Key and label of each overview row, in display order."""

_WITHDRAWN: Final = "DRUG WITHDRAWN"
"""``AEACN`` of an event that led to discontinuation (CDISC codelist ACN)."""


def soc_column(adae: pd.DataFrame) -> str:
    """``AESOC`` when ADAE has it, else ``AEBODSYS``."""
    return "AESOC" if "AESOC" in adae.columns else "AEBODSYS"


def events_of(adae: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """The TEAEs of the safety population with ``ARM``, ``SOC``, ``PT``, ``GRADE`` (float),
    ``REL`` (bool), ``SER`` (bool), ``WITHDRAWN`` (bool)."""
    soc, grade = soc_column(adae), grade_of(adae)
    events = teae(adae, population, (soc, "AEDECOD", grade, "AESER", "AEREL", "AEACN"))
    events["SOC"] = events[soc].fillna("UNCODED").astype(str)
    events["PT"] = events["AEDECOD"].fillna("UNCODED").astype(str)
    events["GRADE"] = numeric_grade(events[grade], f"ADAE.{grade}")
    events["REL"] = related(events["AEREL"])
    events["SER"] = events["AESER"] == "Y"
    events["WITHDRAWN"] = events["AEACN"] == _WITHDRAWN
    for flag in ("REL", "SER", "WITHDRAWN"):  # boolean even without rows: a mask, not labels
        events[flag] = events[flag].astype(bool)
    return events


def _subjects(events: pd.DataFrame, arm: str) -> int:
    return int(events.loc[events["ARM"] == arm, "USUBJID"].nunique())


def overview(
    events: pd.DataFrame,
    population: pd.DataFrame,
    arms: list[ArmInfo],
    difference: tuple[str, str] | None,
    *,
    level: float,
    method: DifferenceMethod,
) -> list[dict[str, Any]]:
    """Subjects with at least one event of each overview row per arm, and the difference of
    proportions ``test - reference`` with its ``level`` interval (:func:`difference_ci`)."""
    grade3 = events["GRADE"] >= 3
    subsets = {
        "any": events,
        "related": events[events["REL"]],
        "grade3": events[grade3],
        "grade3_related": events[grade3 & events["REL"]],
        "serious": events[events["SER"]],
        "discontinuation": events[events["WITHDRAWN"]],
        "fatal": events[events["GRADE"] == 5],
    }
    size = {a.code: int((population["ARM"] == a.code).sum()) for a in arms}
    died = population[population["DTHFL"] == "Y"]
    rows = []
    for key, label in OVERVIEW_ROWS:
        counts = {
            a.code: int((died["ARM"] == a.code).sum())
            if key == "deaths"
            else _subjects(subsets[key], a.code)
            for a in arms
        }
        rows.append(
            {
                "key": key,
                "label": label,
                "arms": {c: count(x, size[c]) for c, x in counts.items()},
                "difference": _difference(counts, size, difference, level, method),
            }
        )
    return rows


def _difference(
    counts: dict[str, int],
    size: dict[str, int],
    pair: tuple[str, str] | None,
    level: float,
    method: DifferenceMethod,
) -> dict[str, Any] | None:
    if pair is None or size[pair[0]] == 0 or size[pair[1]] == 0:
        return None
    test, ref = pair
    ci = difference_ci(counts[test], size[test], counts[ref], size[ref], level=level, method=method)
    return {
        "estimate": ci.estimate,
        "lower": ci.lower,
        "upper": ci.upper,
        "level": ci.level,
        "method": ci.method,
    }


def _by_arm(events: pd.DataFrame, arms: list[ArmInfo], size: dict[str, int]) -> dict[str, Any]:
    out = {}
    for a in arms:
        mine = events[events["ARM"] == a.code]
        out[a.code] = count(mine["USUBJID"].nunique(), size[a.code]) | {"events": len(mine)}
    return out


def _ordered(events: pd.DataFrame, column: str) -> list[str]:
    """Values of ``column`` by descending number of subjects (all arms), ties by name."""
    subjects = events.groupby(column)["USUBJID"].nunique()
    return sorted(subjects.index, key=lambda v: (-int(subjects[v]), str(v)))


def soc_pt(
    events: pd.DataFrame, population: pd.DataFrame, arms: list[ArmInfo]
) -> list[dict[str, Any]]:
    """Per SOC, then per preferred term within it: subjects (n, %) and events per arm.

    SOCs by descending number of subjects over all arms, terms the same within their SOC,
    ties by name (so the order is fixed by the data alone).
    """
    size = {a.code: int((population["ARM"] == a.code).sum()) for a in arms}
    out = []
    for soc in _ordered(events, "SOC"):
        mine = events[events["SOC"] == soc]
        terms = [
            {"term": pt, "arms": _by_arm(mine[mine["PT"] == pt], arms, size)}
            for pt in _ordered(mine, "PT")
        ]
        out.append({"soc": soc, "arms": _by_arm(mine, arms, size), "terms": terms})
    return out


GRADES: Final = ("1", "2", "3", "4", "5", "missing")
"""Columns of the worst-grade table."""


def worst_grade(
    events: pd.DataFrame, population: pd.DataFrame, arms: list[ArmInfo]
) -> list[dict[str, Any]]:
    """Per SOC and term (the order of :func:`soc_pt`): subjects per arm by their worst grade of
    the term (``"missing"``: no event of the term has a grade)."""
    order = {
        (row["soc"], term["term"]): i
        for i, (row, term) in enumerate(
            (row, term) for row in soc_pt(events, population, arms) for term in row["terms"]
        )
    }
    worst = events.groupby(["SOC", "PT", "ARM", "USUBJID"])["GRADE"].max().reset_index()
    out = []
    for (soc, pt), _ in sorted(order.items(), key=lambda item: item[1]):
        mine = worst[(worst["SOC"] == soc) & (worst["PT"] == pt)]
        arms_out = {}
        for a in arms:
            grades = mine.loc[mine["ARM"] == a.code, "GRADE"]
            cells = {g: int((grades == float(g)).sum()) for g in GRADES[:-1]}
            arms_out[a.code] = cells | {"missing": int(grades.isna().sum())}
        out.append({"soc": soc, "term": pt, "arms": arms_out})
    return out


def immune_related(
    adae: pd.DataFrame, population: pd.DataFrame, arms: list[ArmInfo]
) -> list[dict[str, Any]]:
    """Immune-related TEAEs (``IRAECAT`` populated) per category, and any category first:
    subjects per arm (n, %) and time to onset of the subject's first event of the category
    (``ASTDY``, days; median, min, max over subjects).

    ADAE without ``IRAECAT`` gives an empty list (a trial without the category).
    """
    if "IRAECAT" not in adae.columns:
        return []
    events = teae(adae, population, ("IRAECAT", "ASTDY"))
    events = events[events["IRAECAT"].notna()].copy()
    events["ASTDY"] = pd.to_numeric(events["ASTDY"], errors="coerce")
    size = {a.code: int((population["ARM"] == a.code).sum()) for a in arms}
    blocks = [("Any immune-related AE", events)]
    blocks += [(str(c), events[events["IRAECAT"] == c]) for c in _ordered(events, "IRAECAT")]
    out = []
    for category, mine in blocks:
        first = mine.groupby(["ARM", "USUBJID"])["ASTDY"].min().reset_index()
        arms_out = {}
        for a in arms:
            onset = describe(first.loc[first["ARM"] == a.code, "ASTDY"])
            subjects = int((first["ARM"] == a.code).sum())
            arms_out[a.code] = count(subjects, size[a.code]) | {
                "onset_days": {k: onset[k] for k in ("n", "median", "min", "max")}
            }
        out.append({"category": category, "arms": arms_out})
    return out
