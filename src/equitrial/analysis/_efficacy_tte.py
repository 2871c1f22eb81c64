"""Time-to-event and secondary response analyses of the efficacy analyses.

Private to :mod:`equitrial.analysis.efficacy`. Kaplan-Meier, log-rank, Cox and RMST come from
:mod:`equitrial.stats.survival` (tested against R's ``survival``).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from equitrial.analysis._efficacy_data import Arms, clean, column, dataset, parameter_values
from equitrial.errors import ConvergenceError, InvalidInputError
from equitrial.stats.proportions import binomial_ci, ratio_ci
from equitrial.stats.survival import cox_ph, kaplan_meier, logrank, rmst_difference

__all__ = ["DAYS_PER_MONTH", "LANDMARK_MONTHS", "km_summary", "survival_endpoint", "ttr_summary"]

DAYS_PER_MONTH = 365.25 / 12
"""Days in a month (AVAL is in days)."""
LANDMARK_MONTHS = (6, 12)
"""Landmark times of the survival rates."""
LEVEL = 0.95
"""Confidence level of the secondary analyses (two-sided)."""


def tte_frame(
    adam: Mapping[str, pd.DataFrame], paramcd: str, subjects: pd.DataFrame, arms: Arms
) -> pd.DataFrame:
    """AVAL (days), event (CNSR == 0), arm and stratum of ``subjects`` with a ``paramcd`` record."""
    adtte = dataset(adam, "ADTTE")
    column(adtte, "ADTTE", "USUBJID", "PARAMCD", "AVAL", "CNSR")
    rows = parameter_values(adtte, "ADTTE", paramcd)
    ids = subjects["USUBJID"][subjects["USUBJID"].isin(rows.index)]
    strata = subjects.set_index("USUBJID")["STRATAR"] if "STRATAR" in subjects else None
    frame = pd.DataFrame(
        {
            "time": rows.loc[ids, "AVAL"].astype(float).to_numpy(),
            "event": (rows.loc[ids, "CNSR"].astype(float) == 0).to_numpy(),
            "arm": ids.map(arms.code).to_numpy(),
            "stratum": (
                ids.map(strata).fillna("(missing)").to_numpy() if strata is not None else None
            ),
        }
    )
    if frame["time"].isna().any():
        raise InvalidInputError(f"ADTTE.AVAL of {paramcd} has missing values", field="ADTTE.AVAL")
    return frame


def km_summary(
    time: np.ndarray, event: np.ndarray, landmarks_days: dict[str, float]
) -> dict[str, Any]:
    """n, events, KM median with its CI (log-log) and the landmark rates with their CIs."""
    if time.size == 0:
        return {
            "n": 0,
            "events": 0,
            "median": None,
            "median_lower": None,
            "median_upper": None,
            "landmarks": {k: None for k in landmarks_days},
        }
    km = kaplan_meier(time, event, level=LEVEL, conf_type="log-log")
    marks: dict[str, Any] = {}
    for name, t in landmarks_days.items():
        if t > float(km.time[-1]):
            marks[name] = None  # beyond follow-up (R: summary(..., extend = FALSE) drops it)
            continue
        idx = int(np.searchsorted(km.time, t, side="right")) - 1
        if idx < 0:
            marks[name] = {"rate": 1.0, "lower": None, "upper": None}
        else:
            marks[name] = {
                "rate": float(km.survival[idx]),
                "lower": float(km.lower[idx]),
                "upper": float(km.upper[idx]),
            }
    return {
        "n": int(time.size),
        "events": int(np.sum(event)),
        "median": km.median,
        "median_lower": km.median_ci[0],
        "median_upper": km.median_ci[1],
        "landmarks": marks,
    }


def survival_endpoint(
    frame: pd.DataFrame, arms: Arms, paramcd: str, tau: float | None
) -> dict[str, Any]:
    """Per arm KM summaries; stratified log-rank, stratified Cox HR (test vs reference), RMST.

    ``tau`` of the RMST: as given, else the smaller of the two arms' last follow-up times
    (the default of ``survRM2::rmst2``, Uno et al. 2014).
    """
    t, r = arms.order
    marks = {f"{m}m": m * DAYS_PER_MONTH for m in LANDMARK_MONTHS}
    per_arm = {}
    for code in (t, r):
        g = frame[frame["arm"] == code]
        per_arm[code] = km_summary(g["time"].to_numpy(), g["event"].to_numpy(), marks)
    out: dict[str, Any] = {
        "parameter": paramcd,
        "level": LEVEL,
        "arms": per_arm,
        "time_unit": "days",
        "landmark_days": marks,
    }
    both = all(per_arm[c]["n"] > 0 for c in (t, r))
    events = int(frame["event"].sum())
    strata = frame["stratum"] if frame["stratum"].notna().all() else None
    if both and events > 0:
        lr = logrank(frame["time"], frame["event"], frame["arm"], strata=strata)
        out["logrank"] = {
            "statistic": lr.statistic,
            "df": lr.df,
            "pvalue": lr.pvalue,
            "stratified": strata is not None,
        }
        x = (frame["arm"] == t).astype(float).to_numpy()
        try:
            cox = cox_ph(frame["time"], frame["event"], {"arm": x}, strata=strata, level=LEVEL)
        except (ConvergenceError, InvalidInputError) as error:  # too few events (an early
            # cut; all events in one arm or stratum: a singular information matrix): said
            out["cox"] = {
                "hr": None,
                "lower": None,
                "upper": None,
                "pvalue": None,
                "stratified": strata is not None,
                "not_estimable": str(error),
            }
            cox = None
    if both and events > 0 and cox is not None:
        out["cox"] = {
            "hr": float(cox.hr[0]),
            "lower": float(cox.hr_lower[0]),
            "upper": float(cox.hr_upper[0]),
            "pvalue": float(cox.pvalue[0]),
            "stratified": strata is not None,
            "ties": cox.ties,
            "converged": cox.converged,
        }
    if both:
        last = min(float(frame.loc[frame["arm"] == c, "time"].max()) for c in (t, r))
        tau_used = float(tau) if tau is not None else last
        rd = rmst_difference(
            frame["time"], frame["event"], frame["arm"], tau_used, level=LEVEL, reference=r
        )
        out["rmst"] = {
            "tau": rd.tau,
            "tau_rule": "given" if tau is not None else "minimum of the arms' last follow-up times",
            t: rd.comparator_rmst.estimate,
            r: rd.reference_rmst.estimate,
            "difference": rd.estimate,
            "lower": rd.lower,
            "upper": rd.upper,
            "pvalue": rd.pvalue,
        }
    return clean(out)  # type: ignore[no-any-return]


def ttr_summary(frame: pd.DataFrame, arms: Arms) -> dict[str, Any]:
    """Time to response among responders (TTR events): n, mean, median, min, max (days)."""
    out: dict[str, Any] = {}
    for code in arms.order:
        days = sorted(frame.loc[(frame["arm"] == code) & frame["event"], "time"].tolist())
        out[code] = {
            "n": len(days),
            "mean": statistics.fmean(days) if days else None,
            "median": statistics.median(days) if days else None,
            "min": days[0] if days else None,
            "max": days[-1] if days else None,
        }
    return clean(out)  # type: ignore[no-any-return]


def rate_by_arm(
    flags: pd.Series, arm: pd.Series, arms: Arms, *, with_ratio: bool
) -> dict[str, Any]:
    """Per arm count, n, rate and Clopper-Pearson CI; optionally the MN ratio test / reference."""
    out: dict[str, Any] = {"level": LEVEL}
    counts: dict[str, tuple[int, int]] = {}
    for code in arms.order:
        inside = (arm == code).to_numpy()
        n, x = int(inside.sum()), int(flags[inside].sum())
        counts[code] = (x, n)
        ci = binomial_ci(x, n, level=LEVEL, method="clopper-pearson") if n else None
        out[code] = {
            "n": n,
            "count": x,
            "rate": x / n if n else None,
            "lower": ci.lower if ci else None,
            "upper": ci.upper if ci else None,
        }
    if with_ratio and all(n for _, n in counts.values()):
        (x1, n1), (x2, n2) = counts[arms.test], counts[arms.reference]
        ci = ratio_ci(x1, n1, x2, n2, level=LEVEL, method="miettinen-nurminen")
        out["ratio"] = {
            "estimate": ci.estimate,
            "lower": ci.lower,
            "upper": ci.upper,
            "method": "miettinen-nurminen",
        }
    return clean(out)  # type: ignore[no-any-return]
