"""Section 14.1 of the report: analysis populations, disposition and baseline characteristics.

From ADSL (one record per randomized subject; ``ITTFL``, ``SAFFL``, ``PPROTFL``, ``RESPEVFL``,
``PKFL``, ``TRT01P``, the end-of-treatment and end-of-study status and reason, the
demographic and baseline-disease variables) and, for the screening part of the CONSORT flow
(Schulz KF et al., CONSORT 2010 Statement, BMJ 2010;340:c332, item 13 and its flow diagram),
the SDTM DM and DS domains: subjects screened, and screen failures by reason
(``DS.DSDECOD = "SCREEN FAILURE"``, ``DSTERM`` the reason).

Percentages are of the arm's randomized subjects (ITT). Arms are keyed by their protocol code,
in the protocol's order: test first, reference second.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from equitrial.analysis.tables import Cell, Table
from equitrial.errors import InvalidInputError
from equitrial.protocol import Protocol

__all__ = [
    "CATEGORIES",
    "POPULATIONS",
    "consort",
    "demographics",
    "populations",
    "populations_tables",
]

POPULATIONS: tuple[tuple[str, str], ...] = (
    ("ITTFL", "Intent-to-treat (randomized)"),
    ("SAFFL", "Safety (received study drug)"),
    ("PPROTFL", "Per-protocol"),
    ("RESPEVFL", "Response-evaluable"),
    ("PKFL", "Pharmacokinetic"),
)
"""ADSL population flags and their names, in the order of the table."""

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("AGEGR1", "Age group"),
    ("SEX", "Sex"),
    ("RACE", "Race"),
    ("ETHNIC", "Ethnicity"),
    ("REGION1", "Region"),
    ("SITETYPE", "Site type"),
    ("ECOG", "ECOG performance status"),
    ("BRAF", "BRAF status"),
    ("MSTAGE", "M stage"),
    ("LDHELFL", "LDH above the upper limit"),
    ("BRMETFL", "Brain metastases"),
    ("REGIMEN", "Regimen at start"),
)
"""Categorical baseline variables of the demographics table (``AGEGR1``: < 65, >= 65)."""

_NEEDED = ("USUBJID", "TRT01P", "ITTFL", "AGE")


def _arms(adsl: pd.DataFrame, protocol: Protocol) -> dict[str, str]:
    """Arm code -> the arm's name as ADSL's ``TRT01P`` holds it (test, then reference)."""
    names = {arm.code: arm.name for arm in protocol.arms}
    order = [protocol.test_arm.code, protocol.reference_arm.code]
    present = set(adsl["TRT01P"].dropna())
    unknown = sorted(present - set(names.values()))
    if unknown:
        raise InvalidInputError(
            f"ADSL.TRT01P: {unknown[0]!r} is not an arm of the protocol",
            field="ADSL.TRT01P",
            value=unknown[0],
        )
    return {code: names[code] for code in order}


def _itt(adam: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    if "ADSL" not in adam:
        raise InvalidInputError("the ADaM datasets have no ADSL", field="ADSL")
    adsl = adam["ADSL"]
    for column in _NEEDED:
        if column not in adsl.columns:
            raise InvalidInputError(f"ADSL has no {column}", field=f"ADSL.{column}")
    return adsl[adsl["ITTFL"] == "Y"]


def _count(n: int, total: int) -> dict[str, Any]:
    return {"n": n, "percent": None if total == 0 else 100.0 * n / total}


def populations(adam: Mapping[str, pd.DataFrame], protocol: Protocol) -> dict[str, Any]:
    """Subjects of each analysis population, and treatment and study disposition, by arm.

    Returns
    -------
    dict
        ``arms`` (code -> name), ``randomized`` (code -> n), ``populations`` (a list of
        ``{"flag", "name", "arms": {code: {"n", "percent"}}}``), ``treatment`` and ``study``
        (``{"completed" | "ongoing" | "discontinued": {code: n}, "reasons": {reason: {code: n}}}``
        from ``EOTSTT``/``DCTREAS`` and ``EOSSTT``/``DCSREAS``).
    """
    itt = _itt(adam)
    arms = _arms(itt, protocol)
    by_arm = {code: itt[itt["TRT01P"] == name] for code, name in arms.items()}
    size = {code: len(frame) for code, frame in by_arm.items()}
    rows = []
    for flag, name in POPULATIONS:
        if flag not in itt.columns:
            continue
        counts = {c: _count(int((f[flag] == "Y").sum()), size[c]) for c, f in by_arm.items()}
        rows.append({"flag": flag, "name": name, "arms": counts})
    return {
        "arms": arms,
        "randomized": size,
        "populations": rows,
        "treatment": _disposition(by_arm, "EOTSTT", "DCTREAS"),
        "study": _disposition(by_arm, "EOSSTT", "DCSREAS"),
    }


def _disposition(by_arm: Mapping[str, pd.DataFrame], status: str, reason: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    reasons: dict[str, dict[str, int]] = {}
    for code, frame in by_arm.items():
        if status not in frame.columns:
            continue
        for value, n in sorted(frame[status].fillna("MISSING").value_counts().items()):
            out.setdefault(str(value).lower(), {c: 0 for c in by_arm})[code] = int(n)
        if reason in frame.columns:
            stopped = frame[frame[status] == "DISCONTINUED"]
            for value, n in sorted(stopped[reason].fillna("NOT GIVEN").value_counts().items()):
                reasons.setdefault(str(value), {c: 0 for c in by_arm})[code] = int(n)
    out["reasons"] = {k: reasons[k] for k in sorted(reasons)}
    return out


def _describe(values: Sequence[float]) -> dict[str, Any]:
    """n, mean, SD (n - 1), median, min, max (``statistics``; None where undefined)."""
    n = len(values)
    return {
        "n": n,
        "mean": statistics.fmean(values) if n else None,
        "sd": statistics.stdev(values) if n > 1 else None,
        "median": float(statistics.median(values)) if n else None,
        "min": float(min(values)) if n else None,
        "max": float(max(values)) if n else None,
    }


def _levels(series: pd.Series) -> list[str]:
    return sorted({_text(v) for v in series})


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "Missing"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def demographics(adam: Mapping[str, pd.DataFrame], protocol: Protocol) -> dict[str, Any]:
    """Baseline characteristics of the ITT population by arm and in total.

    Returns
    -------
    dict
        ``arms`` (code -> name), ``age`` (``{code | "total": {"n", "mean", "sd", "median",
        "min", "max"}}``, years), and ``categories``: a list of ``{"variable", "name",
        "levels": [{"level", "counts": {code | "total": {"n", "percent"}}}]}`` for each variable
        of :data:`CATEGORIES` that ADSL has (``AGEGR1`` derived from ``AGE``: ``< 65``,
        ``>= 65``), levels in text order, missing values as ``Missing``.
    """
    itt = _itt(adam).copy()
    arms = _arms(itt, protocol)
    itt["AGEGR1"] = [
        "Missing" if pd.isna(a) else ("< 65" if a < 65 else ">= 65") for a in itt["AGE"]
    ]
    groups = {code: itt[itt["TRT01P"] == name] for code, name in arms.items()}
    groups["total"] = itt
    age = {k: _describe([float(a) for a in g["AGE"].dropna()]) for k, g in groups.items()}
    categories = []
    for variable, name in CATEGORIES:
        if variable not in itt.columns:
            continue
        levels = []
        for level in _levels(itt[variable]):
            counts = {
                k: _count(sum(_text(v) == level for v in g[variable]), len(g))
                for k, g in groups.items()
            }
            levels.append({"level": level, "counts": counts})
        categories.append({"variable": variable, "name": name, "levels": levels})
    return {"arms": arms, "age": age, "categories": categories}


def consort(
    adam: Mapping[str, pd.DataFrame], sdtm: Mapping[str, pd.DataFrame], protocol: Protocol
) -> dict[str, Any]:
    """The counts of the CONSORT flow diagram.

    Returns
    -------
    dict
        ``screened`` (DM subjects), ``screen_failures`` (reason -> n, from DS),
        ``randomized``, ``received`` (code -> n; ``SAFFL``), ``discontinued`` (code -> reason
        -> n: treatment discontinuations), ``analysed`` (population name -> code -> n).
    """
    for name in ("DM", "DS"):
        if name not in sdtm:
            raise InvalidInputError(f"the SDTM domains have no {name}", field=name)
    ds = sdtm["DS"]
    failures = ds[ds["DSDECOD"] == "SCREEN FAILURE"] if "DSDECOD" in ds.columns else ds.iloc[:0]
    reasons = failures["DSTERM"].fillna("not given").value_counts() if len(failures) else {}
    pops = populations(adam, protocol)
    codes = list(pops["arms"])
    treatment = pops["treatment"]
    discontinued = {
        code: {reason: arms[code] for reason, arms in treatment["reasons"].items() if arms[code]}
        for code in codes
    }
    received = next((p for p in pops["populations"] if p["flag"] == "SAFFL"), None)
    return {
        "screened": int(sdtm["DM"]["USUBJID"].nunique()),
        "screen_failures": {str(k): int(v) for k, v in sorted(dict(reasons).items())},
        "randomized": pops["randomized"],
        "received": {c: 0 if received is None else received["arms"][c]["n"] for c in codes},
        "discontinued": discontinued,
        "analysed": {
            p["name"]: {c: p["arms"][c]["n"] for c in codes}
            for p in pops["populations"]
            if p["flag"] != "ITTFL"
        },
    }


def _cell(count: Mapping[str, Any]) -> str:
    percent = count["percent"]
    return f"{count['n']}" if percent is None else f"{count['n']} ({percent:.1f}%)"


def populations_tables(pops: Mapping[str, Any], demo: Mapping[str, Any]) -> list[Table]:
    """Tables 14.1.1 (populations and disposition) and 14.1.2 (demographics)."""
    codes = list(pops["arms"])
    heads = tuple(f"{pops['arms'][c]} (N={pops['randomized'][c]})" for c in codes)
    rows: list[tuple[Cell, ...]] = [
        (p["name"], *(_cell(p["arms"][c]) for c in codes)) for p in pops["populations"]
    ]
    for part, label in (("treatment", "Treatment"), ("study", "Study")):
        for status in ("completed", "ongoing", "discontinued"):
            if status in pops[part]:
                counts = pops[part][status]
                rows.append((f"{label}: {status}", *(counts[c] for c in codes)))
        for reason, counts in pops[part]["reasons"].items():
            rows.append((f"{label} discontinued: {reason.lower()}", *(counts[c] for c in codes)))
    first = Table(
        "14.1.1",
        "Analysis populations and disposition",
        ("", *heads),
        tuple(rows),
        ("Percentages of the randomized subjects of each arm.",),
    )
    keys = [*codes, "total"]
    age = demo["age"]
    drows: list[tuple[Cell, ...]] = [
        (f"Age (years): {s}", *(age[k][s] for k in keys))
        for s in ("n", "mean", "sd", "median", "min", "max")
    ]
    for category in demo["categories"]:
        for level in category["levels"]:
            drows.append(
                (
                    f"{category['name']}: {level['level']}",
                    *(_cell(level["counts"][k]) for k in keys),
                )
            )
    total = sum(pops["randomized"].values())
    second = Table(
        "14.1.2",
        "Demographics and baseline characteristics, ITT",
        ("", *heads, f"Total (N={total})"),
        tuple(drows),
        ("SD with n - 1 in the denominator.",),
    )
    return [first, second]
