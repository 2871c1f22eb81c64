"""Laboratory shift tables and exposure summaries of the safety analysis (private to
:mod:`equitrial.analysis.safety`).

References
----------
.. [1] CDISC ADaM Implementation Guide v1.3 (2021), BDS: ``ATOXGR``, ``BTOXGR``, ``ONTRTFL``.
.. [2] National Cancer Institute. CTCAE Version 5.0, 27 November 2017 (grades).
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

from equitrial.analysis._safety_input import ArmInfo, describe, numeric_grade, require
from equitrial.errors import InvalidInputError

__all__ = ["EXPOSURE_PARAMETERS", "exposure", "lab_shifts"]

_BASE_MISSING: Final = "missing"

EXPOSURE_PARAMETERS: Final = (
    ("DURD", "Duration of exposure", "days"),
    ("NINF", "Number of doses", None),
    ("TOTDOSE", "Cumulative dose", "mg"),
    ("DI", "Dose intensity", "mg/week"),
    ("RDI", "Relative dose intensity", "%"),
)
"""ADEX summary parameters reported (``PARAMCD``, label, unit), in display order."""


def _grade_labels(grades: pd.Series) -> list[str]:
    observed = {int(g) for g in grades.dropna()}
    return [str(g) for g in sorted(observed | {0, 1, 2, 3, 4})]


def lab_shifts(
    adlb: pd.DataFrame | None, population: pd.DataFrame, arms: list[ArmInfo]
) -> list[dict[str, Any]]:
    """Per lab parameter and arm: subjects by baseline grade (``BTOXGRN``; ``"missing"`` when
    none) and worst on-treatment grade (highest ``ATOXGRN`` among ``ONTRTFL = "Y"`` records).

    Returns
    -------
    list of dict
        ``{"paramcd", "param", "baseline_grades", "worst_grades", "arms": {code: {"n",
        "counts"}}}`` by ``PARAMCD``; ``counts[i][j]`` subjects of baseline grade
        ``baseline_grades[i]`` and worst grade ``worst_grades[j]``; ``n`` the subjects with an
        on-treatment grade. No ADLB gives an empty list.
    """
    if adlb is None:
        return []
    require(adlb, "ADLB", ("USUBJID", "PARAMCD", "ATOXGRN", "BTOXGRN", "ONTRTFL"))
    frame = adlb[adlb["ONTRTFL"] == "Y"].copy()
    frame["USUBJID"] = frame["USUBJID"].astype(str)
    frame = frame.merge(population[["USUBJID", "ARM"]], on="USUBJID", how="inner")
    frame["ATOXGRN"] = numeric_grade(frame["ATOXGRN"], "ADLB.ATOXGRN")
    frame["BTOXGRN"] = numeric_grade(frame["BTOXGRN"], "ADLB.BTOXGRN")
    frame = frame[frame["ATOXGRN"].notna()]
    worst = frame.groupby(["PARAMCD", "ARM", "USUBJID"], as_index=False).agg(
        WORST=("ATOXGRN", "max"), BASE=("BTOXGRN", "first")
    )
    labels = frame.groupby("PARAMCD")["PARAM"].first() if "PARAM" in frame else None
    columns = _grade_labels(worst["WORST"])
    rows_of = [*_grade_labels(worst["BASE"]), _BASE_MISSING]
    out = []
    for paramcd in sorted(worst["PARAMCD"].astype(str).unique()):
        mine = worst[worst["PARAMCD"] == paramcd]
        base = mine["BASE"].map(lambda g: _BASE_MISSING if pd.isna(g) else str(int(g)))
        high = mine["WORST"].map(lambda g: str(int(g)))
        arms_out = {}
        for a in arms:
            sel = mine["ARM"] == a.code
            table = pd.crosstab(base[sel], high[sel]).reindex(
                index=rows_of, columns=columns, fill_value=0
            )
            arms_out[a.code] = {
                "n": int(sel.sum()),
                "counts": [[int(v) for v in row] for row in table.to_numpy()],
            }
        out.append(
            {
                "paramcd": paramcd,
                "param": None if labels is None else str(labels[paramcd]),
                "baseline_grades": rows_of,
                "worst_grades": columns,
                "arms": arms_out,
            }
        )
    return out


def exposure(
    adex: pd.DataFrame | None, population: pd.DataFrame, arms: list[ArmInfo]
) -> list[dict[str, Any]]:
    """Per exposure parameter (:data:`EXPOSURE_PARAMETERS`) and arm: n, mean, sd, median, min,
    max of the subjects' overall values (ADEX ``PARCAT2 = "OVERALL"`` when the column is
    there). No ADEX gives an empty list."""
    if adex is None:
        return []
    require(adex, "ADEX", ("USUBJID", "PARAMCD", "AVAL"))
    frame = adex
    if "PARCAT2" in frame.columns:
        frame = frame[frame["PARCAT2"] == "OVERALL"]
    frame = frame[frame["PARAMCD"].isin([p for p, _, _ in EXPOSURE_PARAMETERS])].copy()
    frame["USUBJID"] = frame["USUBJID"].astype(str)
    frame = frame.merge(population[["USUBJID", "ARM"]], on="USUBJID", how="inner")
    if frame.duplicated(["USUBJID", "PARAMCD"]).any():
        subject = str(frame.loc[frame.duplicated(["USUBJID", "PARAMCD"]), "USUBJID"].iloc[0])
        raise InvalidInputError(
            f"ADEX has more than one overall record of a parameter for {subject!r}",
            field="ADEX.PARCAT2",
            value=subject,
            expected="one OVERALL record per subject and PARAMCD",
        )
    frame["AVAL"] = pd.to_numeric(frame["AVAL"], errors="coerce")
    out = []
    for paramcd, label, unit in EXPOSURE_PARAMETERS:
        mine = frame[frame["PARAMCD"] == paramcd]
        arms_out = {a.code: describe(mine.loc[mine["ARM"] == a.code, "AVAL"]) for a in arms}
        out.append({"paramcd": paramcd, "label": label, "unit": unit, "arms": arms_out})
    return out
