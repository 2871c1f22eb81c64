"""CSR 14.5: patient-reported outcomes, EORTC QLQ-C30 (ADQS), ITT population.

- Change from baseline by arm, scale and visit: n, mean, SD, median (ADQS ``CHG``).
- At the protocol's PRO timepoint (the ``timepoint_weeks`` of the endpoint summarized by a
  ``mean-difference``), the difference of mean changes test - reference with Welch's 95 % t
  interval [1]_ (R's ``t.test(var.equal = FALSE)``), for every scale.
- Time to deterioration: days from the baseline questionnaire to the first questionnaire at
  least 10 points worse than baseline (ADQS ``CRIT1FL``, Osoba 1998 [2]_), censored at the last
  post-baseline questionnaire (at day 0 without one); Kaplan-Meier median per arm and the Cox
  hazard ratio test/reference (Efron ties) from :mod:`equitrial.stats.survival`.

References
----------
.. [1] Welch BL. The generalization of "Student's" problem when several different population
   variances are involved. *Biometrika* 1947;34:28-35.
.. [2] Osoba D, Rodrigues G, Myles J, Zee B, Pater J. Interpreting the significance of changes
   in health-related quality-of-life scores. *J Clin Oncol* 1998;16:139-144.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from equitrial.analysis._pkpro_common import Arms, clean, describe, need, subjects
from equitrial.analysis.tables import Cell, Table
from equitrial.stats.survival import cox_ph, kaplan_meier

__all__ = ["pro", "pro_tables", "pro_timepoint", "welch_difference"]

_COLUMNS = (
    "USUBJID",
    "PARAMCD",
    "PARAM",
    "PARAMN",
    "AVISIT",
    "AVISITN",
    "ADT",
    "ABLFL",
    "CHG",
    "CRIT1FL",
)


def pro_timepoint(protocol: Any) -> float | None:
    """Week of the mean-difference endpoint (the PRO comparison), ``None`` if there is none."""
    for endpoint in getattr(protocol, "endpoints", ()):
        if endpoint.estimand.summary_measure == "mean-difference" and endpoint.timepoint_weeks:
            return float(endpoint.timepoint_weeks)
    return None


def welch_difference(
    test: np.ndarray[Any, Any], reference: np.ndarray[Any, Any], level: float = 0.95
) -> dict[str, Any]:
    """Mean difference test - reference with Welch's t interval (``None`` values when a group
    has fewer than two values or both variances are zero)."""
    t, r = np.asarray(test, np.float64), np.asarray(reference, np.float64)
    out: dict[str, Any] = {
        "n_test": int(t.size),
        "n_reference": int(r.size),
        "level": level,
        "method": "welch",
        "estimate": None,
        "lower": None,
        "upper": None,
        "df": None,
        "pvalue": None,
    }
    if t.size < 2 or r.size < 2 or (t.var(ddof=1) == 0 and r.var(ddof=1) == 0):
        return out
    with warnings.catch_warnings():
        # scipy warns of precision loss when a group's values are (nearly) all equal; the
        # Welch interval is still defined then (one variance may be zero)
        warnings.simplefilter("ignore", RuntimeWarning)
        res = _st.ttest_ind(t, r, equal_var=False)
    ci = res.confidence_interval(confidence_level=level)
    out.update(
        estimate=clean(t.mean() - r.mean()),
        lower=clean(ci.low),
        upper=clean(ci.high),
        df=clean(res.df),
        pvalue=clean(res.pvalue),
    )
    return out


def _frame(adam: Mapping[str, pd.DataFrame], arms: Arms) -> pd.DataFrame:
    itt = subjects(need(adam, "ADSL", ("USUBJID", "ITTFL", "TRT01P")), arms, "ITTFL", "TRT01P")
    adqs = need(adam, "ADQS", _COLUMNS)
    frame = adqs.merge(itt[["USUBJID", "ARMCD"]], on="USUBJID", how="inner")
    return frame.sort_values(["PARAMN", "USUBJID", "ADT"], kind="mergesort")


def _change(frame: pd.DataFrame, arms: Arms) -> list[dict[str, Any]]:
    post = frame[frame["CHG"].notna() & (frame["ABLFL"] != "Y")]
    rows = []
    for (_paramn, visitn), part in post.groupby(["PARAMN", "AVISITN"], sort=True):
        rows.append(
            {
                "paramcd": str(part["PARAMCD"].iloc[0]),
                "visit": str(part["AVISIT"].iloc[0]),
                "week": clean(visitn),
                **{code: describe(part.loc[part["ARMCD"] == code, "CHG"]) for code in arms.codes},
            }
        )
    return rows


def _deterioration_times(part: pd.DataFrame) -> pd.DataFrame:
    """Per subject with a baseline: days to first CRIT1FL = Y, or to the last assessment."""
    base = part[part["ABLFL"] == "Y"].groupby("USUBJID")["ADT"].min()
    post = part[part["CRIT1FL"].isin(["Y", "N"])].copy()
    post["BASEDT"] = post["USUBJID"].map(base)
    post = post[post["BASEDT"].notna()]
    post["DAYS"] = (pd.to_datetime(post["ADT"]) - pd.to_datetime(post["BASEDT"])).dt.days
    first = post[post["CRIT1FL"] == "Y"].groupby("USUBJID")["DAYS"].min()
    last = post.groupby("USUBJID")["DAYS"].max()
    arm = part.drop_duplicates("USUBJID").set_index("USUBJID")["ARMCD"]
    ids = sorted(base.index)
    event = pd.Series([u in first.index for u in ids], index=ids)
    days = pd.Series([first.get(u, last.get(u, 0)) for u in ids], index=ids, dtype="float64")
    return pd.DataFrame({"ARMCD": arm.reindex(ids), "TIME": days, "EVENT": event})


def _deterioration(frame: pd.DataFrame, arms: Arms) -> list[dict[str, Any]]:
    out = []
    for _, part in frame.groupby("PARAMN", sort=True):
        tte = _deterioration_times(part)
        entry: dict[str, Any] = {
            "paramcd": str(part["PARAMCD"].iloc[0]),
            "param": str(part["PARAM"].iloc[0]),
        }
        for code in arms.codes:
            g = tte[tte["ARMCD"] == code]
            if g.empty:
                entry[code] = {
                    "n": 0,
                    "events": 0,
                    "median_days": None,
                    "lower": None,
                    "upper": None,
                }
                continue
            km = kaplan_meier(g["TIME"].to_numpy(), g["EVENT"].to_numpy(), conf_type="log-log")
            entry[code] = {
                "n": len(g),
                "events": int(g["EVENT"].sum()),
                "median_days": clean(km.median),
                "lower": clean(km.median_ci[0]),
                "upper": clean(km.median_ci[1]),
            }
        both = tte[tte["ARMCD"].isin([arms.test, arms.reference])]
        entry["hazard_ratio"] = None
        if both["EVENT"].sum() > 0 and both["ARMCD"].nunique() == 2:
            cox = cox_ph(
                both["TIME"].to_numpy(),
                both["EVENT"].to_numpy(),
                {"test": (both["ARMCD"] == arms.test).to_numpy(np.float64)},
            )
            entry["hazard_ratio"] = {
                "estimate": clean(cox.hr[0]),
                "lower": clean(cox.hr_lower[0]),
                "upper": clean(cox.hr_upper[0]),
                "level": cox.level,
                "method": "cox-efron",
            }
        out.append(entry)
    return out


def pro(adam: Mapping[str, pd.DataFrame], protocol: Any) -> dict[str, Any]:
    """QLQ-C30 change from baseline, arm difference at the PRO timepoint, time to deterioration.

    Parameters
    ----------
    adam : mapping of str to DataFrame
        ADaM frames; uses ADSL (``ITTFL``, ``TRT01P``) and ADQS.
    protocol : Protocol
        The protocol (arms; the mean-difference endpoint's ``timepoint_weeks``).

    Returns
    -------
    dict
        ``{"arms", "timepoint_week", "change": [{"paramcd", "visit", "week", ARM: {"n",
        "mean", "sd", "median", "min", "max"}}], "difference": [{"paramcd", "estimate",
        "lower", "upper", "level", "df", "pvalue", "n_test", "n_reference", "method"}],
        "deterioration": [{"paramcd", "param", ARM: {"n", "events", "median_days", "lower",
        "upper"}, "hazard_ratio": {"estimate", "lower", "upper", "level", "method"}}]}``.

    Raises
    ------
    InvalidInputError
        A dataset or column is missing.
    """
    arms = Arms(protocol)
    frame = _frame(adam, arms)
    week = pro_timepoint(protocol)
    difference = []
    if week is not None:
        at = frame[(frame["AVISITN"] == week) & frame["CHG"].notna() & (frame["ABLFL"] != "Y")]
        for _, part in frame.groupby("PARAMN", sort=True):
            code = str(part["PARAMCD"].iloc[0])
            sel = at[at["PARAMCD"] == code]
            difference.append(
                {
                    "paramcd": code,
                    **welch_difference(
                        sel.loc[sel["ARMCD"] == arms.test, "CHG"].to_numpy(np.float64),
                        sel.loc[sel["ARMCD"] == arms.reference, "CHG"].to_numpy(np.float64),
                    ),
                }
            )
    return {
        "arms": {"codes": list(arms.codes), "test": arms.test, "reference": arms.reference},
        "timepoint_week": week,
        "change": _change(frame, arms),
        "difference": difference,
        "deterioration": _deterioration(frame, arms),
    }


def pro_tables(results: Mapping[str, Any]) -> list[Table]:
    """Tables 14.5.1 (change from baseline), 14.5.2 (difference), 14.5.3 (deterioration)."""
    codes = results["arms"]["codes"]
    change_rows: list[tuple[Cell, ...]] = []
    for row in results["change"]:
        for code in codes:
            d = row[code]
            change_rows.append(
                (row["paramcd"], row["visit"], code, d["n"], d["mean"], d["sd"], d["median"])
            )
    diff_rows: list[tuple[Cell, ...]] = [
        (d["paramcd"], d["n_test"], d["n_reference"], d["estimate"], d["lower"], d["upper"])
        for d in results["difference"]
    ]
    det_rows: list[tuple[Cell, ...]] = []
    for d in results["deterioration"]:
        hr = d["hazard_ratio"] or {}
        det_rows.append(
            (
                d["paramcd"],
                *(
                    c
                    for code in codes
                    for c in (d[code]["n"], d[code]["events"], d[code]["median_days"])
                ),
                hr.get("estimate"),
                hr.get("lower"),
                hr.get("upper"),
            )
        )
    week = results["timepoint_week"]
    return [
        Table(
            "14.5.1",
            "EORTC QLQ-C30 change from baseline by visit, ITT population",
            ("Scale", "Visit", "Arm", "n", "Mean", "SD", "Median"),
            tuple(change_rows),
            ("Scores 0-100 (scoring manual 3rd ed.); change = visit - baseline.",),
        ),
        Table(
            "14.5.2",
            f"QLQ-C30 change from baseline at week {week}: test - reference",
            ("Scale", "n test", "n reference", "Difference", "95% CI lower", "95% CI upper"),
            tuple(diff_rows),
            ("Welch two-sample t interval.",),
        ),
        Table(
            "14.5.3",
            "Time to deterioration (>= 10 points worse than baseline)",
            (
                "Scale",
                *(
                    h
                    for code in codes
                    for h in (f"n {code}", f"events {code}", f"median days {code}")
                ),
                "HR test/reference",
                "95% CI lower",
                "95% CI upper",
            ),
            tuple(det_rows),
            (
                "Kaplan-Meier medians (log-log CI); Cox model, Efron ties.",
                "Censored at the last questionnaire; day 0 without a post-baseline one.",
            ),
        ),
    ]
