"""CSR 14.6: dosing paradigms (200 mg Q3W vs 400 mg Q6W) and access (metropolitan vs regional
sites).

Exposure by regimen from the ADEX ``BY REGIMEN`` summaries (each subject's periods under one
regimen, so a switcher contributes to both): subjects, infusions, drug (mg), exposure years
(``DURD / 365.25``), infusion visits and mg per patient-year (totals over exposure years), mg
per patient (mean, median), dose intensity and relative dose intensity (mean of the per-subject
values). Trough exposure by regimen comes from :func:`equitrial.analysis.pk_ada.pk_ada`.

Access: response at the primary timepoint (ADRS ``RSP24``, ITT) and any grade >= 3
treatment-emergent adverse event (ADAE ``TRTEMFL`` and ``ATOXGRN >= 3``, safety population) by
ADSL ``SITETYPE``, per arm and pooled, with exact 95 % intervals, and the risk difference
metropolitan - regional with the Miettinen-Nurminen 95 % interval [1]_.

References
----------
.. [1] Miettinen O, Nurminen M. Comparative analysis of two rates. *Stat Med* 1985;4:213-226.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from equitrial.analysis._pkpro_common import (
    Arms,
    clean,
    describe,
    need,
    proportion,
    responders,
    risk_difference,
    subjects,
)
from equitrial.analysis.pk_ada import pk_ada
from equitrial.analysis.tables import Cell, Table

__all__ = ["SITE_TYPES", "dosing", "dosing_tables"]

SITE_TYPES = ("METROPOLITAN", "REGIONAL")
DAYS_PER_YEAR = 365.25


def _exposure(adam: Mapping[str, pd.DataFrame], arms: Arms) -> dict[str, Any]:
    adex = need(adam, "ADEX", ("USUBJID", "PARAMCD", "PARCAT2", "AVAL", "REGIMEN"))
    saf = subjects(need(adam, "ADSL", ("USUBJID", "SAFFL", "TRT01A")), arms, "SAFFL", "TRT01A")
    part = adex[(adex["PARCAT2"] == "BY REGIMEN") & adex["USUBJID"].isin(saf["USUBJID"])]
    wide = part.pivot_table(
        index=["REGIMEN", "USUBJID"], columns="PARAMCD", values="AVAL", aggfunc="first"
    ).reset_index()
    out: dict[str, Any] = {}
    for regimen, g in wide.groupby("REGIMEN", sort=True):
        years = float(g["DURD"].sum()) / DAYS_PER_YEAR if "DURD" in g else 0.0
        infusions = float(g["NINF"].sum()) if "NINF" in g else 0.0
        total = float(g["TOTDOSE"].sum()) if "TOTDOSE" in g else 0.0
        out[str(regimen)] = {
            "subjects": int(g["USUBJID"].nunique()),
            "infusions": int(infusions),
            "total_mg": clean(total),
            "patient_years": clean(years),
            "infusions_per_patient_year": clean(infusions / years) if years > 0 else None,
            "mg_per_patient_year": clean(total / years) if years > 0 else None,
            "mg_per_patient": describe(g["TOTDOSE"]) if "TOTDOSE" in g else describe([]),
            "dose_intensity_mg_per_week": describe(g["DI"]) if "DI" in g else describe([]),
            "relative_dose_intensity_percent": describe(g["RDI"]) if "RDI" in g else describe([]),
        }
    return out


def _by_site(flags: pd.DataFrame, arms: Arms) -> dict[str, Any]:
    """``flags``: USUBJID, ARMCD, SITETYPE, Y (bool). Rates by site type and the difference."""
    out: dict[str, Any] = {}
    for label, g in [*((c, flags[flags["ARMCD"] == c]) for c in arms.codes), ("ALL", flags)]:
        counts = {
            s: (int(g.loc[g["SITETYPE"] == s, "Y"].sum()), int((g["SITETYPE"] == s).sum()))
            for s in SITE_TYPES
        }
        (x1, n1), (x2, n2) = counts[SITE_TYPES[0]], counts[SITE_TYPES[1]]
        out[label] = {
            **{s: proportion(x, n) for s, (x, n) in counts.items()},
            "difference_metropolitan_regional": risk_difference(x1, n1, x2, n2),
        }
    return out


def _access(adam: Mapping[str, pd.DataFrame], arms: Arms) -> dict[str, Any]:
    adsl = need(adam, "ADSL", ("USUBJID", "SITETYPE", "ITTFL", "SAFFL", "TRT01P", "TRT01A"))
    itt = subjects(adsl, arms, "ITTFL", "TRT01P")
    itt["Y"] = itt["USUBJID"].isin(responders(adam))
    saf = subjects(adsl, arms, "SAFFL", "TRT01A")
    adae = need(adam, "ADAE", ("USUBJID", "TRTEMFL", "ATOXGRN"))
    severe = adae[(adae["TRTEMFL"] == "Y") & (pd.to_numeric(adae["ATOXGRN"]) >= 3)]
    saf["Y"] = saf["USUBJID"].isin(set(severe["USUBJID"]))
    return {"orr": _by_site(itt, arms), "grade3_teae": _by_site(saf, arms)}


def dosing(adam: Mapping[str, pd.DataFrame], protocol: Any) -> dict[str, Any]:
    """Q3W vs Q6W exposure and trough, and outcomes by site type (CSR 14.6).

    Parameters
    ----------
    adam : mapping of str to DataFrame
        ADaM frames; uses ADSL (``SITETYPE``, flags), ADEX, ADRS, ADAE and, for the troughs,
        ADPC and ADIS.
    protocol : Protocol
        The protocol (arms; PK timepoints).

    Returns
    -------
    dict
        ``{"exposure": {REGIMEN: {"subjects", "infusions", "total_mg", "patient_years",
        "infusions_per_patient_year", "mg_per_patient_year", "mg_per_patient",
        "dose_intensity_mg_per_week", "relative_dose_intensity_percent"}}, "ctrough":
        [{"week", "by_regimen"}], "access": {"orr" | "grade3_teae": {ARM | "ALL":
        {"METROPOLITAN", "REGIONAL": proportion, "difference_metropolitan_regional"}}}}``.

    Raises
    ------
    InvalidInputError
        A dataset or column is missing.
    """
    arms = Arms(protocol)
    pk = pk_ada(adam, protocol)
    return {
        "arms": {"codes": list(arms.codes), "test": arms.test, "reference": arms.reference},
        "exposure": _exposure(adam, arms),
        "ctrough": [{"week": p["week"], "by_regimen": p["by_regimen"]} for p in pk["ctrough"]],
        "access": _access(adam, arms),
    }


def dosing_tables(results: Mapping[str, Any]) -> list[Table]:
    """Tables 14.6.1 (exposure by regimen) and 14.6.2 (outcomes by site type)."""
    exp_rows: list[tuple[Cell, ...]] = []
    for regimen, e in sorted(results["exposure"].items()):
        exp_rows.append(
            (
                regimen,
                e["subjects"],
                e["patient_years"],
                e["infusions_per_patient_year"],
                e["mg_per_patient"]["mean"],
                e["mg_per_patient_year"],
                e["dose_intensity_mg_per_week"]["mean"],
                e["relative_dose_intensity_percent"]["mean"],
            )
        )
    site_rows: list[tuple[Cell, ...]] = []
    for outcome, block in sorted(results["access"].items()):
        for group, r in block.items():
            d = r["difference_metropolitan_regional"]
            site_rows.append(
                (
                    outcome,
                    group,
                    r["METROPOLITAN"]["x"],
                    r["METROPOLITAN"]["n"],
                    r["METROPOLITAN"]["estimate"],
                    r["REGIONAL"]["x"],
                    r["REGIONAL"]["n"],
                    r["REGIONAL"]["estimate"],
                    d["estimate"],
                    d["lower"],
                    d["upper"],
                )
            )
    return [
        Table(
            "14.6.1",
            "Exposure by dosing regimen, safety population",
            (
                "Regimen",
                "Subjects",
                "Patient-years",
                "Infusions per patient-year",
                "Mean mg per patient",
                "mg per patient-year",
                "Mean dose intensity (mg/week)",
                "Mean relative dose intensity (%)",
            ),
            tuple(exp_rows),
            (
                "Per regimen period (ADEX BY REGIMEN); a switcher counts under both regimens.",
                "Rates per patient-year: totals over the summed exposure years.",
            ),
        ),
        Table(
            "14.6.2",
            "Outcomes by site type",
            (
                "Outcome",
                "Arm",
                "Metropolitan x",
                "Metropolitan n",
                "Metropolitan rate",
                "Regional x",
                "Regional n",
                "Regional rate",
                "Difference",
                "95% CI lower",
                "95% CI upper",
            ),
            tuple(site_rows),
            (
                "ORR: ITT, response at the primary timepoint; grade >= 3 TEAE: safety population.",
                "Difference metropolitan - regional, Miettinen-Nurminen 95% interval.",
            ),
        ),
    ]
