"""Shared pieces of the PK/ADA, PRO, dosing and published-comparison analyses (private).

Arms, populations and the subject-level outcomes (response at the primary timepoint, grade 3
or higher adverse events) that several CSR sections 14.4-14.7 need, so each is derived once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from equitrial.errors import InvalidInputError
from equitrial.stats.proportions import Interval, binomial_ci, difference_ci

__all__ = [
    "Arms",
    "arms_of",
    "clean",
    "describe",
    "interval_json",
    "need",
    "proportion",
    "responders",
    "risk_difference",
    "subjects",
]

DAYS_PER_MONTH = 365.25 / 12.0
"""Days per month for survival times reported in months (a Julian year over 12)."""


def clean(value: Any) -> Any:
    """A JSON-able number: ``None`` for NaN or infinity, numpy scalars as Python ones."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def interval_json(interval: Interval) -> dict[str, Any]:
    """An :class:`Interval` as ``{"estimate", "lower", "upper", "level", "method"}``."""
    return {
        "estimate": clean(interval.estimate),
        "lower": clean(interval.lower),
        "upper": clean(interval.upper),
        "level": interval.level,
        "method": interval.method,
    }


def need(adam: Mapping[str, pd.DataFrame], name: str, columns: Iterable[str]) -> pd.DataFrame:
    """The dataset ``name`` of ``adam``, checked to have ``columns``."""
    frame = adam.get(name)
    if frame is None:
        raise InvalidInputError(f"the analysis needs the {name} dataset", field=name)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{name} lacks the column(s) {', '.join(missing)}", field=name, value=missing
        )
    return frame


class Arms:
    """The protocol's two arms: codes in protocol order, test and reference, and labels."""

    def __init__(self, protocol: Any) -> None:
        arms = tuple(getattr(protocol, "arms", ()))
        roles = {str(a.role): str(a.code) for a in arms}
        if "test" not in roles or "reference" not in roles:
            raise InvalidInputError(
                "the protocol needs one test and one reference arm", field="arms"
            )
        self.codes: tuple[str, ...] = tuple(str(a.code) for a in arms)
        self.test: str = roles["test"]
        self.reference: str = roles["reference"]
        self.label: dict[str, str] = {str(a.code): str(a.name) for a in arms}
        self._lookup: dict[str, str] = {}
        for arm in arms:
            self._lookup[str(arm.code)] = str(arm.code)
            self._lookup[str(arm.name)] = str(arm.code)

    def code_of(self, values: pd.Series) -> pd.Series:
        """Arm codes of ``values`` (arm names or codes); missing where neither."""
        return values.map(self._lookup)


def arms_of(protocol: Any) -> Arms:
    """The :class:`Arms` of ``protocol``."""
    return Arms(protocol)


def subjects(adsl: pd.DataFrame, arms: Arms, flag: str, column: str = "TRT01P") -> pd.DataFrame:
    """ADSL rows with ``flag == "Y"``, an ``ARMCD`` from ``column``, sorted by USUBJID."""
    for needed in ("USUBJID", flag, column):
        if needed not in adsl.columns:
            raise InvalidInputError(f"ADSL lacks the column {needed}", field="ADSL")
    out = adsl[adsl[flag] == "Y"].copy()
    out["ARMCD"] = arms.code_of(out[column])
    out = out[out["ARMCD"].notna()]
    return out.sort_values("USUBJID", kind="mergesort").reset_index(drop=True)


def responders(adam: Mapping[str, pd.DataFrame], paramcd: str = "RSP24") -> set[str]:
    """USUBJIDs with ``AVALC == "Y"`` on the ADRS response parameter ``paramcd``.

    ``RSP24`` is the primary endpoint's response (CR or PR by central review on scans up to
    the protocol timepoint, intercurrent events by the composite strategy; see
    :mod:`equitrial.datasets.adrs`).
    """
    adrs = need(adam, "ADRS", ("USUBJID", "PARAMCD", "AVALC"))
    rows = adrs[(adrs["PARAMCD"] == paramcd) & (adrs["AVALC"] == "Y")]
    return set(rows["USUBJID"].astype(str))


def proportion(x: int, n: int, *, level: float = 0.95) -> dict[str, Any]:
    """``x / n`` with its exact (Clopper-Pearson) interval; ``None`` values when ``n == 0``."""
    if n == 0:
        return {
            "x": 0,
            "n": 0,
            "estimate": None,
            "lower": None,
            "upper": None,
            "level": level,
            "method": "clopper-pearson",
        }
    ci = binomial_ci(int(x), int(n), level=level, method="clopper-pearson")
    return {"x": int(x), "n": int(n), **interval_json(ci)}


def risk_difference(x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95) -> dict[str, Any]:
    """``x1/n1 - x2/n2`` with the Miettinen-Nurminen interval; ``None`` when a group is empty."""
    if n1 == 0 or n2 == 0:
        return {
            "estimate": None,
            "lower": None,
            "upper": None,
            "level": level,
            "method": "miettinen-nurminen",
        }
    return interval_json(difference_ci(int(x1), int(n1), int(x2), int(n2), level=level))


def describe(values: Iterable[float]) -> dict[str, Any]:
    """n, mean, SD (n - 1), median, min and max of the non-missing values."""
    arr = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=np.float64)
    n = int(arr.size)
    return {
        "n": n,
        "mean": clean(arr.mean()) if n else None,
        "sd": clean(arr.std(ddof=1)) if n > 1 else None,
        "median": clean(np.median(arr)) if n else None,
        "min": clean(arr.min()) if n else None,
        "max": clean(arr.max()) if n else None,
    }
