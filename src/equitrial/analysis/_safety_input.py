"""Checks and shared steps of the safety analyses (private to :mod:`equitrial.analysis.safety`
and :mod:`equitrial.analysis.monitoring`).

- the arms of the protocol, in its order, and the safety population by actual arm
  (:func:`safety_population`);
- the treatment-emergent events of that population with their arm (:func:`teae`);
- the CDISC values read: toxicity grade, causality, action taken (:func:`grade_of`,
  :func:`related`);
- counts as JSON (:func:`count`) and summaries of a continuous variable (:func:`describe`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from equitrial.errors import InvalidInputError
from equitrial.protocol import Protocol

__all__ = [
    "NOT_RELATED",
    "ArmInfo",
    "arms_of",
    "count",
    "describe",
    "frame_of",
    "grade_of",
    "related",
    "require",
    "safety_population",
    "teae",
]

NOT_RELATED: Final = frozenset({"NOT RELATED", "NONE", "UNLIKELY", "UNLIKELY RELATED", "N"})
"""Causality values (``AEREL``) read as not related; any other value, and a missing one, is
related (the conservative convention of most SAPs: an unassessed event counts as related)."""


@dataclass(frozen=True)
class ArmInfo:
    """An arm of the protocol: ``code``, display ``name`` (= ``TRT01A``), ``role``."""

    code: str
    name: str
    role: str


def arms_of(protocol: Protocol) -> list[ArmInfo]:
    """The protocol's arms in its order (``[[arms]]``)."""
    return [ArmInfo(a.code, a.name, a.role) for a in protocol.arms]


def frame_of(adam: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """The dataset ``name`` of ``adam``; a missing one is an error naming it."""
    frame = adam.get(name)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            f"the ADaM datasets lack {name}", field=name, expected="a pandas DataFrame"
        )
    return frame


def require(frame: pd.DataFrame, dataset: str, columns: Iterable[str]) -> None:
    """Raise naming ``DATASET.COLUMN`` for the first of ``columns`` that ``frame`` lacks."""
    for column in columns:
        if column not in frame.columns:
            raise InvalidInputError(
                f"{dataset} lacks the variable {column}",
                field=f"{dataset}.{column}",
                expected=f"a column {column}",
            )


def safety_population(adsl: pd.DataFrame, arms: list[ArmInfo]) -> pd.DataFrame:
    """Subjects with ``SAFFL = "Y"``: columns ``USUBJID``, ``ARM`` (the arm code of
    ``TRT01A``), ``TRTSDT`` (``NaT`` when ADSL has none) and ``DTHFL``.

    Raises
    ------
    InvalidInputError
        ADSL lacks ``USUBJID``, ``SAFFL`` or ``TRT01A``; a subject of the safety population
        has a ``TRT01A`` that names no arm of the protocol (``ADSL.TRT01A``); a ``USUBJID``
        repeats (``ADSL.USUBJID``).
    """
    require(adsl, "ADSL", ("USUBJID", "SAFFL", "TRT01A"))
    pop = adsl[adsl["SAFFL"] == "Y"]
    codes = {a.name: a.code for a in arms}
    unknown = sorted({str(t) for t in pop["TRT01A"] if t not in codes})
    if unknown:
        raise InvalidInputError(
            f"ADSL.TRT01A has {unknown[0]!r} in the safety population, no arm of the protocol",
            field="ADSL.TRT01A",
            value=unknown[0],
            expected="one of " + ", ".join(repr(n) for n in codes),
        )
    if pop["USUBJID"].duplicated().any():
        repeated = str(pop.loc[pop["USUBJID"].duplicated(), "USUBJID"].iloc[0])
        raise InvalidInputError(
            f"ADSL.USUBJID {repeated!r} repeats", field="ADSL.USUBJID", value=repeated
        )
    start = pop["TRTSDT"] if "TRTSDT" in pop else pd.Series(pd.NaT, index=pop.index)
    death = pop["DTHFL"] if "DTHFL" in pop else pd.Series(None, index=pop.index, dtype=object)
    return pd.DataFrame(
        {
            "USUBJID": pop["USUBJID"].astype(str).to_numpy(),
            "ARM": pop["TRT01A"].map(codes).to_numpy(),
            "TRTSDT": pd.to_datetime(start, errors="coerce").to_numpy(),
            "DTHFL": death.to_numpy(),
        }
    )


def teae(adae: pd.DataFrame, population: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """The treatment-emergent events (``TRTEMFL = "Y"``) of the safety population, with the
    subject's ``ARM``; ``columns`` of ADAE are required."""
    needed = ["USUBJID", "TRTEMFL", *columns]
    require(adae, "ADAE", needed)
    events = adae.loc[adae["TRTEMFL"] == "Y", list(dict.fromkeys(needed))].copy()
    events["USUBJID"] = events["USUBJID"].astype(str)
    return events.merge(population[["USUBJID", "ARM"]], on="USUBJID", how="inner")


def grade_of(adae: pd.DataFrame) -> str:
    """The grade column to read: ``ATOXGRN``, else ``ATOXGR``, else ``AETOXGR``."""
    for column in ("ATOXGRN", "ATOXGR", "AETOXGR"):
        if column in adae.columns:
            return column
    raise InvalidInputError(
        "ADAE lacks a toxicity grade (ATOXGRN, ATOXGR or AETOXGR)",
        field="ADAE.ATOXGR",
        expected="a column ATOXGRN, ATOXGR or AETOXGR",
    )


def numeric_grade(values: pd.Series, column: str) -> pd.Series:
    """Grades as floats (missing ``NaN``); a value that is no grade 0-5 is an error."""
    grades = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = values.notna() & (grades.isna() | ~grades.isin([0.0, 1.0, 2.0, 3.0, 4.0, 5.0]))
    if bad.any():
        value = values[bad].iloc[0]
        raise InvalidInputError(
            f"{column} has {value!r}, not a CTCAE grade",
            field=column,
            value=value,
            expected="a grade 0, 1, 2, 3, 4 or 5",
        )
    return grades


def related(values: pd.Series) -> pd.Series:
    """Whether each causality (``AEREL``) counts as treatment-related (:data:`NOT_RELATED`)."""
    return ~values.map(lambda v: isinstance(v, str) and v.strip().upper() in NOT_RELATED)


def count(subjects: int, n: int) -> dict[str, Any]:
    """``{"n": subjects, "percent": 100 * subjects / n}`` (percent ``None`` when ``n = 0``)."""
    return {"n": int(subjects), "percent": 100.0 * subjects / n if n else None}


def describe(values: Iterable[float]) -> dict[str, Any]:
    """``n``, ``mean``, ``sd`` (n - 1), ``median``, ``min``, ``max`` of the finite values;
    ``None`` where undefined (no value; ``sd`` of one value)."""
    data = sorted(float(v) for v in values if v is not None and math.isfinite(float(v)))
    if not data:
        return {"n": 0, "mean": None, "sd": None, "median": None, "min": None, "max": None}
    return {
        "n": len(data),
        "mean": statistics.fmean(data),
        "sd": statistics.stdev(data) if len(data) > 1 else None,
        "median": statistics.median(data),
        "min": data[0],
        "max": data[-1],
    }
